/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * File programs: one per syscall exit (helpers/syscall.h), one handler per
 * kind. Order of work in every handler: kind and self (load-time constants),
 * the live result and flag filters, then the path walk, the path filter, and
 * only then the record.
 */
#ifndef KMON_PROGRAMS_FILE_H
#define KMON_PROGRAMS_FILE_H

#define KMON_O_ACCMODE 03
#define KMON_O_CREAT 0100
#define KMON_O_TRUNC 01000
#define KMON_O_TMPFILE 020000000 /* __O_TMPFILE, the same bit on every architecture */
#define KMON_AT_REMOVEDIR 0x200
#define KMON_FMODE_CREATED 0x100000 /* FMODE_CREATED: a macro, so not in BTF (checked on 6.18) */

/* Every file record's body starts with start_ns, which file_record() fills. */
#define KMON_STARTS_WITH_START_NS(type) \
	_Static_assert(__builtin_offsetof(struct type, start_ns) == sizeof(struct kmon_header), #type)
KMON_STARTS_WITH_START_NS(kmon_open);
KMON_STARTS_WITH_START_NS(kmon_unlink);
KMON_STARTS_WITH_START_NS(kmon_rename);
KMON_STARTS_WITH_START_NS(kmon_mkdir);
KMON_STARTS_WITH_START_NS(kmon_chmod);
KMON_STARTS_WITH_START_NS(kmon_chown);
KMON_STARTS_WITH_START_NS(kmon_link);

/* The live filters, if this call's kind and result are wanted at all. */
static __always_inline struct kmon_filters *file_call_wanted(__u32 kind, long ret)
{
	struct kmon_filters *f;

	if (!kind_enabled(kind) || bpf_get_current_pid_tgid() >> 32 == kmon_cfg.self_tgid || !process_wanted())
		return 0;
	f = filters();
	if (!f || !result_wanted(f, ret))
		return 0;
	return f;
}

/* The per-CPU record slot with its header and start_ns filled. */
static __always_inline struct kmon_header *file_record(__u32 kind)
{
	__u32 zero = 0;
	__u64 ids = bpf_get_current_pid_tgid();
	struct kmon_header *h = bpf_map_lookup_elem(&kmon_file_buf, &zero);

	if (!h)
		return 0;
	fill_header(h, kind, ids >> 32, (__u32)ids);
	*(__u64 *)(h + 1) = current_process_start();
	return h;
}

/* Sends a record whose variable part is `var_len` bytes after a body of `body` bytes. */
static __always_inline void submit_file(struct kmon_header *h, __u32 body, __u32 var_len, __u32 kind)
{
	if (var_len > 2 * KMON_PATH_MAX) /* restated for the verifier */
		return;
	submit(h, padded_size((char *)h + body, var_len, body), kind);
}

/* The path a call names: the fd's file when fd >= 0, else dirfd + the given string. */
static __always_inline void call_path(struct kmon_path_slot *s, long fd, long dirfd, const char *upath,
				      struct path_range *r, __u32 *flags)
{
	__u64 file = fd >= 0 ? fd_file(fd) : 0;

	if (file) {
		file_path(s, file, r);
		return;
	}
	given_path(s, dirfd, upath, r);
	*flags |= KMON_F_FILE_UNRESOLVED;
}

/* stat()'s st_dev (new_encode_dev) from the kernel's dev_t (major << 20 | minor). */
static __always_inline __u32 stat_dev(__u32 dev)
{
	__u32 major = dev >> 20, minor = dev & 0xfffff;

	return (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
}

static __always_inline int open_may_modify(__u32 oflags)
{
	return (oflags & KMON_O_ACCMODE) || (oflags & (KMON_O_CREAT | KMON_O_TRUNC | KMON_O_TMPFILE));
}

static __always_inline int on_open(long ret, long dirfd, const char *upath, __u32 oflags, __u32 mode)
{
	struct kmon_filters *f = file_call_wanted(KMON_KIND_OPEN, ret);
	struct kmon_path_slot *s = path_slot();
	struct path_range r = {};
	struct kmon_open *e;
	__u32 len;

	if (!f || !s || (f->file.writes_only && !open_may_modify(oflags)))
		return 0;
	e = (struct kmon_open *)file_record(KMON_KIND_OPEN);
	if (!e)
		return 0;
	call_path(s, ret, dirfd, upath, &r, &e->hdr.flags);
	if (!path_passes(f, s, &r))
		return 0;
	e->ino = 0;
	e->dev = 0;
	if (ret >= 0) {
		struct file *file = KERNEL(file, fd_file(ret));
		struct inode *inode = file->f_inode;

		e->ino = inode->i_ino;
		e->dev = stat_dev(inode->i_sb->s_dev);
		if (file->f_mode & KMON_FMODE_CREATED)
			e->hdr.flags |= KMON_F_FILE_CREATED;
	}
	e->flags = oflags;
	e->mode = oflags & (KMON_O_CREAT | KMON_O_TMPFILE) ? mode & 07777 : 0;
	e->result = ret;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->reserved0 = 0;
	e->reserved1 = 0;
	len = put_path((char *)(e + 1), s, &r, 0, &e->hdr.flags);
	e->path_len = len;
	submit_file(&e->hdr, sizeof(*e), len, KMON_KIND_OPEN);
	return 0;
}

/* unlink, mkdir, chmod, chown: a fixed body, then one path. */
#define ONE_PATH_RECORD(kind, type, fd, dirfd, upath, fill)                          \
	({                                                                           \
		struct kmon_filters *f = file_call_wanted(kind, ret);                \
		struct kmon_path_slot *s = path_slot();                              \
		struct path_range r = {};                                            \
		struct type *e;                                                      \
		__u32 len;                                                           \
                                                                                     \
		if (!f || !s)                                                        \
			return 0;                                                    \
		e = (struct type *)file_record(kind);                                \
		if (!e)                                                              \
			return 0;                                                    \
		call_path(s, fd, dirfd, upath, &r, &e->hdr.flags);                   \
		if (!path_passes(f, s, &r))                                          \
			return 0;                                                    \
		bpf_get_current_comm(e->comm, sizeof(e->comm));                      \
		e->result = ret;                                                     \
		fill;                                                                \
		len = put_path((char *)(e + 1), s, &r, 0, &e->hdr.flags);            \
		e->path_len = len;                                                   \
		submit_file(&e->hdr, sizeof(*e), len, kind);                         \
		return 0;                                                            \
	})

static __always_inline int on_unlink(long ret, long dirfd, const char *upath, int dir)
{
	ONE_PATH_RECORD(KMON_KIND_UNLINK, kmon_unlink, -1, dirfd, upath, ({
		if (dir)
			e->hdr.flags |= KMON_F_FILE_DIR;
		e->reserved0 = 0;
		e->reserved1 = 0;
		e->reserved2 = 0;
	}));
}

static __always_inline int on_mkdir(long ret, long dirfd, const char *upath, __u32 mode)
{
	ONE_PATH_RECORD(KMON_KIND_MKDIR, kmon_mkdir, -1, dirfd, upath, ({
		e->mode = mode & 07777;
		e->reserved0 = 0;
		e->reserved1 = 0;
	}));
}

static __always_inline int on_chmod(long ret, long fd, long dirfd, const char *upath, __u32 mode)
{
	ONE_PATH_RECORD(KMON_KIND_CHMOD, kmon_chmod, fd, dirfd, upath, ({
		e->mode = mode & 07777;
		e->reserved0 = 0;
		e->reserved1 = 0;
	}));
}

static __always_inline int on_chown(long ret, long fd, long dirfd, const char *upath, __u32 uid, __u32 gid)
{
	ONE_PATH_RECORD(KMON_KIND_CHOWN, kmon_chown, fd, dirfd, upath, ({
		e->uid = uid;
		e->gid = gid;
		e->reserved0 = 0;
		e->reserved1 = 0;
		e->reserved2 = 0;
	}));
}

/*
 * rename and link: two paths. The record passes the path filter when either
 * path does (a file moved out of a watched directory is news there too). A
 * symlink's target is its content as given (not a path the kernel resolved,
 * not filtered).
 */
static __always_inline int two_paths(struct kmon_filters *f, struct kmon_path_slot *s, struct kmon_header *h,
				     __u32 kind, __u32 body, long dfd0, const char *path0, long dfd1, const char *path1,
				     int raw0, __u16 *len0, __u16 *len1)
{
	char *var = (char *)h + body;
	struct path_range r = {};
	__u32 a, b;
	int pass;

	if (raw0) {
		long n = bpf_probe_read_user_str(var, KMON_PATH_MAX + 1, path0);

		a = n > 0 ? n - 1 : 0;
		pass = 0;
	} else {
		given_path(s, dfd0, path0, &r);
		pass = path_passes(f, s, &r);
		a = put_path(var, s, &r, 0, &h->flags);
	}
	if (a > KMON_PATH_MAX)
		return 0;
	__builtin_memset(&r, 0, sizeof(r));
	given_path(s, dfd1, path1, &r);
	if (!pass && !path_passes(f, s, &r))
		return 0;
	b = put_path(var + a, s, &r, 1, &h->flags);
	h->flags |= KMON_F_FILE_UNRESOLVED;
	*len0 = a;
	*len1 = b;
	submit_file(h, body, a + b, kind);
	return 0;
}

static __always_inline int on_rename(long ret, long olddfd, const char *oldp, long newdfd, const char *newp, __u32 flags)
{
	struct kmon_filters *f = file_call_wanted(KMON_KIND_RENAME, ret);
	struct kmon_path_slot *s = path_slot();
	struct kmon_rename *e;

	if (!f || !s)
		return 0;
	e = (struct kmon_rename *)file_record(KMON_KIND_RENAME);
	if (!e)
		return 0;
	e->flags = flags;
	e->result = ret;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->reserved = 0;
	return two_paths(f, s, &e->hdr, KMON_KIND_RENAME, sizeof(*e), olddfd, oldp, newdfd, newp, 0, &e->old_len, &e->new_len);
}

static __always_inline int on_link(long ret, long olddfd, const char *target, long newdfd, const char *newp, int symlink)
{
	struct kmon_filters *f = file_call_wanted(KMON_KIND_LINK, ret);
	struct kmon_path_slot *s = path_slot();
	struct kmon_link *e;

	if (!f || !s)
		return 0;
	e = (struct kmon_link *)file_record(KMON_KIND_LINK);
	if (!e)
		return 0;
	if (symlink)
		e->hdr.flags |= KMON_F_FILE_SYMLINK;
	e->result = ret;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->reserved0 = 0;
	e->reserved1 = 0;
	return two_paths(f, s, &e->hdr, KMON_KIND_LINK, sizeof(*e), olddfd, target, newdfd, newp, symlink, &e->target_len, &e->path_len);
}

/* ---- one handler per syscall: its arguments, in the kernel's order ---- */

#define STR(x) ((const char *)(x))
#define FD(x) ((long)(int)(x)) /* an int argument: the register's upper half is not part of it */

static __always_inline int h_open(struct pt_regs *r, long ret)
{
	return on_open(ret, KMON_AT_FDCWD, STR(ARG1(r)), ARG2(r), ARG3(r));
}
static __always_inline int h_openat(struct pt_regs *r, long ret)
{
	return on_open(ret, FD(ARG1(r)), STR(ARG2(r)), ARG3(r), ARG4(r));
}
static __always_inline int h_openat2(struct pt_regs *r, long ret)
{
	struct open_how how = {};

	bpf_probe_read_user(&how, sizeof(how), (const void *)ARG3(r));
	return on_open(ret, FD(ARG1(r)), STR(ARG2(r)), how.flags, how.mode);
}
static __always_inline int h_creat(struct pt_regs *r, long ret)
{
	return on_open(ret, KMON_AT_FDCWD, STR(ARG1(r)), KMON_O_CREAT | 01 /* O_WRONLY */ | KMON_O_TRUNC, ARG2(r));
}
static __always_inline int h_unlink(struct pt_regs *r, long ret)
{
	return on_unlink(ret, KMON_AT_FDCWD, STR(ARG1(r)), 0);
}
static __always_inline int h_unlinkat(struct pt_regs *r, long ret)
{
	return on_unlink(ret, FD(ARG1(r)), STR(ARG2(r)), ARG3(r) & KMON_AT_REMOVEDIR);
}
static __always_inline int h_rmdir(struct pt_regs *r, long ret)
{
	return on_unlink(ret, KMON_AT_FDCWD, STR(ARG1(r)), 1);
}
static __always_inline int h_rename(struct pt_regs *r, long ret)
{
	return on_rename(ret, KMON_AT_FDCWD, STR(ARG1(r)), KMON_AT_FDCWD, STR(ARG2(r)), 0);
}
static __always_inline int h_renameat(struct pt_regs *r, long ret)
{
	return on_rename(ret, FD(ARG1(r)), STR(ARG2(r)), FD(ARG3(r)), STR(ARG4(r)), 0);
}
static __always_inline int h_renameat2(struct pt_regs *r, long ret)
{
	return on_rename(ret, FD(ARG1(r)), STR(ARG2(r)), FD(ARG3(r)), STR(ARG4(r)), ARG5(r));
}
static __always_inline int h_mkdir(struct pt_regs *r, long ret)
{
	return on_mkdir(ret, KMON_AT_FDCWD, STR(ARG1(r)), ARG2(r));
}
static __always_inline int h_mkdirat(struct pt_regs *r, long ret)
{
	return on_mkdir(ret, FD(ARG1(r)), STR(ARG2(r)), ARG3(r));
}
static __always_inline int h_chmod(struct pt_regs *r, long ret)
{
	return on_chmod(ret, -1, KMON_AT_FDCWD, STR(ARG1(r)), ARG2(r));
}
static __always_inline int h_fchmod(struct pt_regs *r, long ret)
{
	return on_chmod(ret, FD(ARG1(r)), KMON_AT_FDCWD, 0, ARG2(r));
}
static __always_inline int h_fchmodat(struct pt_regs *r, long ret)
{
	return on_chmod(ret, -1, FD(ARG1(r)), STR(ARG2(r)), ARG3(r));
}
static __always_inline int h_chown(struct pt_regs *r, long ret)
{
	return on_chown(ret, -1, KMON_AT_FDCWD, STR(ARG1(r)), ARG2(r), ARG3(r));
}
static __always_inline int h_fchown(struct pt_regs *r, long ret)
{
	return on_chown(ret, FD(ARG1(r)), KMON_AT_FDCWD, 0, ARG2(r), ARG3(r));
}
static __always_inline int h_fchownat(struct pt_regs *r, long ret)
{
	return on_chown(ret, -1, FD(ARG1(r)), STR(ARG2(r)), ARG3(r), ARG4(r));
}
static __always_inline int h_link(struct pt_regs *r, long ret)
{
	return on_link(ret, KMON_AT_FDCWD, STR(ARG1(r)), KMON_AT_FDCWD, STR(ARG2(r)), 0);
}
static __always_inline int h_linkat(struct pt_regs *r, long ret)
{
	return on_link(ret, FD(ARG1(r)), STR(ARG2(r)), FD(ARG3(r)), STR(ARG4(r)), 0);
}
static __always_inline int h_symlink(struct pt_regs *r, long ret)
{
	return on_link(ret, KMON_AT_FDCWD, STR(ARG1(r)), KMON_AT_FDCWD, STR(ARG2(r)), 1);
}
static __always_inline int h_symlinkat(struct pt_regs *r, long ret)
{
	return on_link(ret, KMON_AT_FDCWD, STR(ARG1(r)), FD(ARG2(r)), STR(ARG3(r)), 1);
}

/* The table: one line per syscall (the loader's twin is packages/native/src/linux/syscalls.h). */
KMON_SYSCALL_EXIT(open, h_open)
KMON_SYSCALL_EXIT(openat, h_openat)
KMON_SYSCALL_EXIT(openat2, h_openat2)
KMON_SYSCALL_EXIT(creat, h_creat)
KMON_SYSCALL_EXIT(unlink, h_unlink)
KMON_SYSCALL_EXIT(unlinkat, h_unlinkat)
KMON_SYSCALL_EXIT(rmdir, h_rmdir)
KMON_SYSCALL_EXIT(rename, h_rename)
KMON_SYSCALL_EXIT(renameat, h_renameat)
KMON_SYSCALL_EXIT(renameat2, h_renameat2)
KMON_SYSCALL_EXIT(mkdir, h_mkdir)
KMON_SYSCALL_EXIT(mkdirat, h_mkdirat)
KMON_SYSCALL_EXIT(chmod, h_chmod)
KMON_SYSCALL_EXIT(fchmod, h_fchmod)
KMON_SYSCALL_EXIT(fchmodat, h_fchmodat)
KMON_SYSCALL_EXIT(fchmodat2, h_fchmodat)
KMON_SYSCALL_EXIT(chown, h_chown)
KMON_SYSCALL_EXIT(fchown, h_fchown)
KMON_SYSCALL_EXIT(lchown, h_chown)
KMON_SYSCALL_EXIT(fchownat, h_fchownat)
KMON_SYSCALL_EXIT(link, h_link)
KMON_SYSCALL_EXIT(linkat, h_linkat)
KMON_SYSCALL_EXIT(symlink, h_symlink)
KMON_SYSCALL_EXIT(symlinkat, h_symlinkat)

#endif /* KMON_PROGRAMS_FILE_H */
