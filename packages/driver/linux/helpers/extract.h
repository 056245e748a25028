/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * Extract helpers: read values out of kernel structures (exit status, exec
 * path, argv) into a record being built.
 */
#ifndef KMON_HELPERS_EXTRACT_H
#define KMON_HELPERS_EXTRACT_H

/* SIGNAL_GROUP_EXIT from include/linux/sched/signal.h: a macro, so not in BTF. */
#define KMON_SIGNAL_GROUP_EXIT 0x00000004

/* waitpid()'s view: the group's exit code after exit_group/fatal signal, else the leader's. */
static __always_inline int process_exit_code(struct task_struct *p)
{
	struct signal_struct *sig = p->signal;

	if (sig->flags & KMON_SIGNAL_GROUP_EXIT)
		return sig->group_exit_code;
	return p->group_leader->exit_code;
}

/* Appends the exec'd path (field 0); returns its length. */
static __always_inline __u32 read_path(char *dst, struct linux_binprm *bprm, __u32 *flags)
{
	/*
	 * Room for KMON_PATH_MAX bytes, their NUL and one byte more: n counts the
	 * NUL, so n <= KMON_PATH_MAX + 1 is a path that fits (exactly, at most),
	 * and only a longer one fills the read. The slot has the spare bytes.
	 */
	long n = bpf_probe_read_kernel_str(dst, KMON_PATH_MAX + 2, bprm->filename);

	if (n <= 0)
		return 0;
	if (n > KMON_PATH_MAX + 1) {
		*flags |= KMON_F_TRUNCATED(KMON_EXEC_VAR_PATH);
		return KMON_PATH_MAX;
	}
	return n - 1; /* the NUL is not part of the field */
}

/* Appends the new image's argument block (field 1); returns its length. */
static __always_inline __u32 read_argv(char *dst, struct task_struct *p, __u32 *flags)
{
	struct mm_struct *mm = p->mm;
	unsigned long start = mm->arg_start;
	unsigned long avail = mm->arg_end - start;
	__u32 cap = kmon_cfg.argv_max;
	__u32 len;

	if (cap > KMON_ARGV_MAX)
		cap = KMON_ARGV_MAX;
	len = avail > cap ? cap : avail;
	if (avail > cap)
		*flags |= KMON_F_TRUNCATED(KMON_EXEC_VAR_ARGV);
	if (len && bpf_probe_read_user(dst, len, (const void *)start)) {
		*flags |= KMON_F_TRUNCATED(KMON_EXEC_VAR_ARGV);
		return 0;
	}
	return len;
}

/* Appends the kernel-resolved path of a file (or, with file 0, of a directory) as field `field`. */
static __always_inline __u32 resolved_path(char *dst, struct kmon_path_slot *s, __u64 file, struct path *dir,
					   __u32 field, __u32 *flags)
{
	struct path_range r = {};

	if (file)
		file_path(s, file, &r);
	else
		dir_path(s, dir, &r);
	return put_path(dst, s, &r, field, flags);
}

#endif /* KMON_HELPERS_EXTRACT_H */
