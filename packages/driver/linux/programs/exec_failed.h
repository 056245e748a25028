/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * Failed execs: sys_enter_execve/execveat note the path and argv pointers of
 * the calling thread, sys_exit_execve/execveat report the call if it failed
 * (a successful exec is reported by kmon_exec). Per-syscall tracepoints: they
 * cost nothing to unrelated syscalls.
 */
#ifndef KMON_PROGRAMS_EXEC_FAILED_H
#define KMON_PROGRAMS_EXEC_FAILED_H

static __always_inline int exec_enter(const char *filename, const char *const *argv)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct kmon_exec_call call = { (__u64)filename, (__u64)argv };

	if ((id >> 32) == kmon_cfg.self_tgid || !process_wanted())
		return 0;
	bpf_map_update_elem(&kmon_exec_calls, &tid, &call, BPF_ANY);
	return 0;
}

/* Appends the NUL-ended arguments (field 1), at most KMON_EXEC_FAILED_ARGS_MAX of them. */
static __always_inline __u32 read_user_argv(char *dst, const char *const *argv, __u32 *argc, __u32 *flags)
{
	__u32 off = 0;

	for (int i = 0; i < KMON_EXEC_FAILED_ARGS_MAX; i++) {
		const char *arg = 0;
		long n;

		if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i]) || !arg)
			return off;
		if (off >= KMON_EXEC_FAILED_ARGV_MAX) {
			*flags |= KMON_F_TRUNCATED(KMON_EXEC_FAILED_VAR_ARGV);
			return off;
		}
		n = bpf_probe_read_user_str(dst + off, KMON_EXEC_FAILED_ARGV_MAX - off, arg);
		if (n <= 0)
			return off;
		off += n;
		*argc += 1;
	}
	*flags |= KMON_F_TRUNCATED(KMON_EXEC_FAILED_VAR_ARGV); /* more arguments than we read */
	return off;
}

static __always_inline void emit_exec_failed(struct kmon_exec_call *call, int error)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 zero = 0, path_len, argv_len, end, argc = 0;
	struct kmon_exec_failed *e = bpf_map_lookup_elem(&kmon_exec_failed_buf, &zero);
	char *var;
	long n;

	if (!e)
		return;
	fill_header(&e->hdr, KMON_KIND_EXEC_FAILED, id >> 32, (__u32)id);
	e->error = error;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->reserved = 0;
	var = (char *)(e + 1);
	/* As read_path: n counts the NUL; only a path longer than the field fills the read. */
	n = bpf_probe_read_user_str(var, KMON_PATH_MAX + 2, (const char *)call->filename);
	path_len = n <= 0 ? 0 : n > KMON_PATH_MAX + 1 ? KMON_PATH_MAX : n - 1;
	if (n > KMON_PATH_MAX + 1)
		e->hdr.flags |= KMON_F_TRUNCATED(KMON_EXEC_FAILED_VAR_PATH);
	if (path_len > KMON_PATH_MAX) /* restated for the verifier */
		return;
	argv_len = read_user_argv(var + path_len, (const char *const *)call->argv, &argc, &e->hdr.flags);
	if (argv_len > KMON_EXEC_FAILED_ARGV_MAX)
		return;
	e->argc = argc;
	e->path_len = path_len;
	e->argv_len = argv_len;
	end = path_len + argv_len;
	submit(&e->hdr, padded_size(var, end, sizeof(*e)), KMON_KIND_EXEC_FAILED);
}

static __always_inline int exec_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct kmon_exec_call *call = bpf_map_lookup_elem(&kmon_exec_calls, &tid);

	if (!call)
		return 0;
	if (ret < 0)
		emit_exec_failed(call, -ret);
	bpf_map_delete_elem(&kmon_exec_calls, &tid);
	return 0;
}

SEC("?tp/syscalls/sys_enter_execve")
int kmon_execve_enter(struct trace_event_raw_sys_enter *ctx)
{
	return exec_enter((const char *)ctx->args[0], (const char *const *)ctx->args[1]);
}

SEC("?tp/syscalls/sys_enter_execveat")
int kmon_execveat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return exec_enter((const char *)ctx->args[1], (const char *const *)ctx->args[2]);
}

SEC("?tp/syscalls/sys_exit_execve")
int kmon_execve_exit(struct trace_event_raw_sys_exit *ctx)
{
	return exec_exit(ctx->ret);
}

SEC("?tp/syscalls/sys_exit_execveat")
int kmon_execveat_exit(struct trace_event_raw_sys_exit *ctx)
{
	return exec_exit(ctx->ret);
}

#endif /* KMON_PROGRAMS_EXEC_FAILED_H */
