// The syscall exit programs of packages/driver/linux/programs/file.h (one
// KMON_SYSCALL_EXIT line each there): the kind each one records and its
// number here, for the sys_exit dispatcher's tail-call slots. A new syscall
// program is one line there and one line here.
#ifndef KMON_NATIVE_LINUX_SYSCALLS_H
#define KMON_NATIVE_LINUX_SYSCALLS_H

#include <sys/syscall.h>

#include <cstdint>

#include "kmon_abi.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452  // Linux 6.6; the same number on every architecture
#endif

namespace kmon {

struct SyscallProgram {
  const char* name;  // programs sys_exit_<name> and tail_<name>, tracepoint syscalls/sys_exit_<name>
  long nr;
  uint32_t kind;
};

inline constexpr SyscallProgram kSyscallPrograms[] = {
#ifdef SYS_open  // the legacy calls exist on x86-64, not on arm64
    {"open", SYS_open, KMON_KIND_OPEN},
    {"creat", SYS_creat, KMON_KIND_OPEN},
    {"unlink", SYS_unlink, KMON_KIND_UNLINK},
    {"rmdir", SYS_rmdir, KMON_KIND_UNLINK},
    {"rename", SYS_rename, KMON_KIND_RENAME},
    {"mkdir", SYS_mkdir, KMON_KIND_MKDIR},
    {"chmod", SYS_chmod, KMON_KIND_CHMOD},
    {"chown", SYS_chown, KMON_KIND_CHOWN},
    {"lchown", SYS_lchown, KMON_KIND_CHOWN},
    {"link", SYS_link, KMON_KIND_LINK},
    {"symlink", SYS_symlink, KMON_KIND_LINK},
#endif
    {"openat", SYS_openat, KMON_KIND_OPEN},
    {"openat2", SYS_openat2, KMON_KIND_OPEN},
    {"unlinkat", SYS_unlinkat, KMON_KIND_UNLINK},
    {"renameat", SYS_renameat, KMON_KIND_RENAME},
    {"renameat2", SYS_renameat2, KMON_KIND_RENAME},
    {"mkdirat", SYS_mkdirat, KMON_KIND_MKDIR},
    {"fchmod", SYS_fchmod, KMON_KIND_CHMOD},
    {"fchmodat", SYS_fchmodat, KMON_KIND_CHMOD},
    {"fchmodat2", SYS_fchmodat2, KMON_KIND_CHMOD},
    {"fchown", SYS_fchown, KMON_KIND_CHOWN},
    {"fchownat", SYS_fchownat, KMON_KIND_CHOWN},
    {"linkat", SYS_linkat, KMON_KIND_LINK},
    {"symlinkat", SYS_symlinkat, KMON_KIND_LINK},
};

}  // namespace kmon

#endif  // KMON_NATIVE_LINUX_SYSCALLS_H
