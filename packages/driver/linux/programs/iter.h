/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * The snapshot: a task iterator the loader runs once at attach, writing one
 * struct kmon_process per process (thread-group leader) to the iterator's
 * seq_file, which the loader reads and hands over before any ring record.
 *
 * Sleepable (iter.s): argv and argc live in the process's memory, which only
 * bpf_copy_from_user_task can read, and that may fault pages in. Paths use
 * helpers/path.h's walk, from the process's own root, in the iterator's own
 * scratch. Start times are read as process.h reads them (group leader's
 * start_time), so (tgid, start_ns) is the identity exec, fork and exit use.
 */
#ifndef KMON_PROGRAMS_ITER_H
#define KMON_PROGRAMS_ITER_H

/* The walked path of (dentry, vfsmount) as seen from `task`'s root. */
static __always_inline __u32 task_path(char *dst, struct kmon_path_slot *s, struct task_struct *task, __u64 dentry,
				       __u64 vfsmount, __u32 field, __u32 *flags)
{
	struct path_range r = {};

	finish_walk(s, &r, walk_path_of(task, 1, dentry, vfsmount, KMON_PATH_MID, &r.cut));
	return put_path(dst, s, &r, field, flags);
}

/* The argument block the process's exec left (as /proc/PID/cmdline shows it), at most `cap` bytes. */
static __always_inline __u32 task_argv(char *dst, struct task_struct *task, struct mm_struct *mm, __u32 *flags)
{
	unsigned long start = mm->arg_start;
	unsigned long avail = mm->arg_end - start;
	__u32 cap = kmon_cfg.argv_max < KMON_SNAPSHOT_ARGV_MAX ? kmon_cfg.argv_max : KMON_SNAPSHOT_ARGV_MAX;
	__u32 len = avail > cap ? cap : avail;

	if (avail > cap)
		*flags |= KMON_F_TRUNCATED(KMON_PROCESS_VAR_ARGV);
	if (len > KMON_SNAPSHOT_ARGV_MAX) /* restated for the verifier */
		return 0;
	if (len && bpf_copy_from_user_task(dst, len, (const void *)start, task, 0)) {
		*flags |= KMON_F_TRUNCATED(KMON_PROCESS_VAR_ARGV);
		return 0;
	}
	/*
	 * A process that rewrote its arguments (a title, as servers and Wine
	 * do) may leave the block without its final NUL: end it as the ABI
	 * wants, or, with no room left, say it was cut.
	 */
	if (len && dst[(len - 1) & (KMON_SNAPSHOT_ARGV_MAX - 1)] != 0) {
		if (len < cap)
			dst[len++] = 0;
		else
			*flags |= KMON_F_TRUNCATED(KMON_PROCESS_VAR_ARGV);
	}
	return len;
}

/* argc as exec put it, on top of the initial stack (mm->start_stack points at it). */
static __always_inline __u32 task_argc(struct task_struct *task, struct mm_struct *mm)
{
	__u64 argc = 0;

	if (bpf_copy_from_user_task(&argc, sizeof(argc), (const void *)mm->start_stack, task, 0))
		return 0;
	return (__u32)argc;
}

SEC("?iter.s/task") /* "?": loaded only for sessions whose kinds include process */
int kmon_snapshot(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct kmon_snapshot_slot *slot;
	struct kmon_path_slot *s = snapshot_path_slot();
	struct kmon_process *rec;
	struct mm_struct *mm;
	struct fs_struct *fs;
	__u32 zero = 0, exe_len = 0, cwd_len = 0, argv_len = 0, end;
	__u64 exe;
	char *var;

	if (!task || task->pid != task->tgid || task->tgid == kmon_cfg.self_tgid)
		return 0;
	slot = bpf_map_lookup_elem(&kmon_snapshot_buf, &zero);
	if (!slot || !s)
		return 0;
	rec = (struct kmon_process *)slot->data;
	rec->hdr.abi_version = KMON_ABI_VERSION;
	rec->hdr.kind = KMON_KIND_PROCESS;
	rec->hdr.flags = 0;
	rec->hdr.cpu = KMON_CPU_SNAPSHOT;
	rec->hdr.seq = 0; /* the loader numbers the snapshot */
	rec->hdr.ts_ns = bpf_ktime_get_ns();
	rec->hdr.tgid = task->tgid;
	rec->hdr.tid = task->pid;
	rec->hdr.cgroup_id = task->cgroups->dfl_cgrp->kn->id; /* what bpf_get_current_cgroup_id() says for it */
	rec->start_ns = process_start(task);
	rec->parent_start_ns = process_start(task->real_parent);
	rec->ppid = task->real_parent->tgid;
	rec->uid = task->cred->uid.val; /* the ids bpf_get_current_uid_gid() reads for exec */
	rec->gid = task->cred->gid.val;
	rec->argc = 0;
	__builtin_memcpy(rec->comm, task->comm, sizeof(rec->comm));
	rec->reserved = 0;

	var = (char *)(rec + 1);
	mm = task->mm;
	exe = mm ? (__u64)mm->exe_file : 0;
	if (exe) {
		struct file *f = KERNEL(file, exe);

		exe_len = task_path(var, s, task, (__u64)f->f_path.dentry, (__u64)f->f_path.mnt, KMON_PROCESS_VAR_EXE,
				    &rec->hdr.flags);
	}
	if (exe_len > KMON_PATH_MAX)
		return 0;
	fs = task->fs;
	if (fs)
		cwd_len = task_path(var + exe_len, s, task, (__u64)fs->pwd.dentry, (__u64)fs->pwd.mnt,
				    KMON_PROCESS_VAR_CWD, &rec->hdr.flags);
	if (cwd_len > KMON_PATH_MAX)
		return 0;
	end = exe_len + cwd_len;
	if (mm) {
		argv_len = task_argv(var + end, task, mm, &rec->hdr.flags);
		rec->argc = task_argc(task, mm);
	}
	if (argv_len > KMON_SNAPSHOT_ARGV_MAX)
		return 0;
	end += argv_len;
	rec->exe_len = exe_len;
	rec->cwd_len = cwd_len;
	rec->argv_len = argv_len;
	rec->hdr.size = padded_size(var, end, sizeof(*rec));
	bpf_seq_write(ctx->meta->seq, rec, rec->hdr.size);
	return 0;
}

#endif /* KMON_PROGRAMS_ITER_H */
