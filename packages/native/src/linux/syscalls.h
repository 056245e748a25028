// The syscall exit programs of packages/driver/linux/programs/file.h and
// network.h (one KMON_SYSCALL_EXIT line each there): the kinds each one
// serves, and its number for the sys_exit dispatcher's tail-call slots. A new
// syscall program is one line there and one line here.
#ifndef KMON_NATIVE_LINUX_SYSCALLS_H
#define KMON_NATIVE_LINUX_SYSCALLS_H

#include <sys/syscall.h>

#include <cstdint>

#include "kmon_abi.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452  // Linux 6.6; the same number on every architecture
#endif

namespace kmon {

constexpr uint32_t Bit(kmon_kind kind) { return 1u << kind; }

struct SyscallProgram {
  const char* name;  // programs sys_exit_<name> and tail_<name>, tracepoint syscalls/sys_exit_<name>
  long nr;
  uint32_t kinds;  // loaded when a session asks for one of these
};

inline constexpr SyscallProgram kSyscallPrograms[] = {
#ifdef SYS_open  // the legacy calls exist on x86-64, not on arm64
    {"open", SYS_open, Bit(KMON_KIND_OPEN)},
    {"creat", SYS_creat, Bit(KMON_KIND_OPEN)},
    {"unlink", SYS_unlink, Bit(KMON_KIND_UNLINK)},
    {"rmdir", SYS_rmdir, Bit(KMON_KIND_UNLINK)},
    {"rename", SYS_rename, Bit(KMON_KIND_RENAME)},
    {"mkdir", SYS_mkdir, Bit(KMON_KIND_MKDIR)},
    {"chmod", SYS_chmod, Bit(KMON_KIND_CHMOD)},
    {"chown", SYS_chown, Bit(KMON_KIND_CHOWN)},
    {"lchown", SYS_lchown, Bit(KMON_KIND_CHOWN)},
    {"link", SYS_link, Bit(KMON_KIND_LINK)},
    {"symlink", SYS_symlink, Bit(KMON_KIND_LINK)},
#endif
    {"openat", SYS_openat, Bit(KMON_KIND_OPEN)},
    {"openat2", SYS_openat2, Bit(KMON_KIND_OPEN)},
    {"unlinkat", SYS_unlinkat, Bit(KMON_KIND_UNLINK)},
    {"renameat", SYS_renameat, Bit(KMON_KIND_RENAME)},
    {"renameat2", SYS_renameat2, Bit(KMON_KIND_RENAME)},
    {"mkdirat", SYS_mkdirat, Bit(KMON_KIND_MKDIR)},
    {"fchmod", SYS_fchmod, Bit(KMON_KIND_CHMOD)},
    {"fchmodat", SYS_fchmodat, Bit(KMON_KIND_CHMOD)},
    {"fchmodat2", SYS_fchmodat2, Bit(KMON_KIND_CHMOD)},
    {"fchown", SYS_fchown, Bit(KMON_KIND_CHOWN)},
    {"fchownat", SYS_fchownat, Bit(KMON_KIND_CHOWN)},
    {"linkat", SYS_linkat, Bit(KMON_KIND_LINK)},
    {"symlinkat", SYS_symlinkat, Bit(KMON_KIND_LINK)},
    // connect and accept also note TCP connections for `close`; the send calls serve send and dns.
    {"connect", SYS_connect, Bit(KMON_KIND_CONNECT) | Bit(KMON_KIND_CLOSE)},
    {"accept", SYS_accept, Bit(KMON_KIND_ACCEPT) | Bit(KMON_KIND_CLOSE)},
    {"accept4", SYS_accept4, Bit(KMON_KIND_ACCEPT) | Bit(KMON_KIND_CLOSE)},
    {"bind", SYS_bind, Bit(KMON_KIND_BIND)},
    {"listen", SYS_listen, Bit(KMON_KIND_LISTEN)},
    {"sendto", SYS_sendto, Bit(KMON_KIND_SEND) | Bit(KMON_KIND_DNS)},
    {"sendmsg", SYS_sendmsg, Bit(KMON_KIND_SEND) | Bit(KMON_KIND_DNS)},
    {"sendmmsg", SYS_sendmmsg, Bit(KMON_KIND_SEND) | Bit(KMON_KIND_DNS)},
};

}  // namespace kmon

#endif  // KMON_NATIVE_LINUX_SYSCALLS_H
