/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * Process lifecycle programs: exec, exit (and its fallback), fork.
 */
#ifndef KMON_PROGRAMS_PROCESS_H
#define KMON_PROGRAMS_PROCESS_H

SEC("tp_btf/sched_process_exec")
int BPF_PROG(kmon_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = p->tgid;
	__u32 cpu = bpf_get_smp_processor_id();
	__u64 ids = bpf_get_current_uid_gid();
	struct kmon_path_slot *s = path_slot();
	struct kmon_exec *e;
	__u32 path_len, argv_len, exe_len, cwd_len, end;
	char *var;

	if (!kind_enabled(KMON_KIND_EXEC) || tgid == kmon_cfg.self_tgid || !process_wanted())
		return 0;
	e = bpf_map_lookup_elem(&kmon_exec_buf, &cpu);
	if (!e || !s)
		return 0;
	fill_header(&e->hdr, KMON_KIND_EXEC, tgid, p->pid);
	e->start_ns = process_start(p);
	e->parent_start_ns = process_start(p->real_parent);
	e->ppid = p->real_parent->tgid;
	e->uid = (__u32)ids; /* real ids: a setuid image changes the effective ones only */
	e->gid = ids >> 32;
	e->argc = bprm->argc;
	bpf_get_current_comm(e->comm, sizeof(e->comm));

	var = (char *)(e + 1);
	path_len = read_path(var, bprm, &e->hdr.flags);
	if (path_len > KMON_PATH_MAX) /* restated for the verifier */
		return 0;
	argv_len = read_argv(var + path_len, p, &e->hdr.flags);
	if (argv_len > KMON_ARGV_MAX)
		return 0;
	end = path_len + argv_len;
	exe_len = resolved_path(var + end, s, (__u64)bprm->file, 0, 2, &e->hdr.flags);
	if (exe_len > KMON_PATH_MAX)
		return 0;
	end += exe_len;
	cwd_len = resolved_path(var + end, s, 0, &p->fs->pwd, 3, &e->hdr.flags);
	if (cwd_len > KMON_PATH_MAX)
		return 0;
	end += cwd_len;
	e->path_len = path_len;
	e->argv_len = argv_len;
	e->exe_len = exe_len;
	e->cwd_len = cwd_len;
	submit(&e->hdr, padded_size(var, end, sizeof(*e)), KMON_KIND_EXEC);
	return 0;
}

static __always_inline void emit_exit(struct task_struct *p)
{
	struct kmon_exit e = {};
	__u32 tgid = p->tgid;
	int code;

	if (!kind_enabled(KMON_KIND_EXIT) || tgid == kmon_cfg.self_tgid || !process_wanted())
		return;
	fill_header(&e.hdr, KMON_KIND_EXIT, tgid, p->pid);
	code = process_exit_code(p);
	e.start_ns = process_start(p);
	e.exit_code = (code >> 8) & 0xff;
	e.signal = code & 0x7f;
	if (code & 0x80)
		e.hdr.flags |= KMON_F_CORE_DUMPED;
	__builtin_memcpy(e.comm, p->group_leader->comm, sizeof(e.comm));
	submit(&e.hdr, sizeof(e), KMON_KIND_EXIT);
}

/*
 * group_dead is the kernel's own answer (atomic_dec_and_test of
 * signal->live, taken before this tracepoint) to "is this the last thread":
 * exactly one exit per process, whichever thread goes last. The loader uses
 * this program when the kernel's tracepoint passes group_dead (its BTF says).
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(kmon_exit, struct task_struct *p, bool group_dead)
{
	if (group_dead) {
		emit_exit(p);
		untrack_exit(p->tgid);
	}
	return 0;
}

/*
 * Older kernels pass only the task. signal->live was already decremented for
 * it, so 0 means no thread is left. Unlike group_dead this can report a
 * process twice when its last two threads exit at the same instant (both
 * decrement before either reads), which is why it is only the fallback.
 */
SEC("?tp_btf/sched_process_exit") /* "?": not loaded unless the loader asks */
int BPF_PROG(kmon_exit_live, struct task_struct *p)
{
	if (p->signal->live.counter == 0) {
		emit_exit(p);
		untrack_exit(p->tgid);
	}
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(kmon_fork, struct task_struct *parent, struct task_struct *child)
{
	struct kmon_fork f = {};
	__u32 child_tgid = child->tgid;
	__u32 child_tid = child->pid;
	int thread = child_tgid != child_tid;

	if (thread && !kmon_cfg.threads)
		return 0;
	if (!thread)
		track_fork(parent->tgid, child_tgid); /* before the filter: the child is in the subtree now */
	/* The child's tgid decides: the monitor's own children are still reported. */
	if (!kind_enabled(KMON_KIND_FORK) || child_tgid == kmon_cfg.self_tgid || !process_wanted())
		return 0;
	fill_header(&f.hdr, KMON_KIND_FORK, parent->tgid, parent->pid);
	if (thread)
		f.hdr.flags |= KMON_F_THREAD;
	f.parent_start_ns = process_start(parent);
	/* The child *process*'s start: for a thread that is its leader's, so
	 * (child_tgid, child_start_ns) is always a process identity. */
	f.child_start_ns = process_start(child);
	f.child_tgid = child_tgid;
	f.child_tid = child_tid;
	/* The process's name, as exit reports it, not the forking thread's. */
	bpf_probe_read_kernel_str(f.comm, sizeof(f.comm), parent->group_leader->comm);
	submit(&f.hdr, sizeof(f), KMON_KIND_FORK);
	return 0;
}

#endif /* KMON_PROGRAMS_PROCESS_H */
