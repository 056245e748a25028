/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * Syscall exit programs, for every family (programs/file.h, network.h). Each
 * handler runs at a syscall's exit, when its result is known and the objects
 * it made (an fd, a connection) exist, and reads the arguments from the
 * task's saved user registers.
 *
 * KMON_SYSCALL_EXIT(name, handler) defines the handler's two programs, the
 * loader attaches one of them (packages/native/src/linux/syscalls.h lists
 * each call with the kinds it serves):
 *   sys_exit_<name>  on the tracepoint syscalls/sys_exit_<name> (needs
 *                    tracefs); costs nothing to other syscalls' exits
 *   tail_<name>      tail-called by kmon_sys_exit, the one program on the
 *                    raw sys_exit tracepoint, when tracefs is not available;
 *                    that program runs at every syscall's exit
 */
#ifndef KMON_HELPERS_SYSCALL_H
#define KMON_HELPERS_SYSCALL_H

#define ARG1(regs) PT_REGS_PARM1_CORE_SYSCALL(regs)
#define ARG2(regs) PT_REGS_PARM2_CORE_SYSCALL(regs)
#define ARG3(regs) PT_REGS_PARM3_CORE_SYSCALL(regs)
#define ARG4(regs) PT_REGS_PARM4_CORE_SYSCALL(regs)
#define ARG5(regs) PT_REGS_PARM5_CORE_SYSCALL(regs)
/* libbpf 1.1's bpf_tracing.h stops at the fifth syscall argument. */
#if defined(__TARGET_ARCH_x86)
#define ARG6(r) BPF_CORE_READ(r, r9)
#elif defined(__TARGET_ARCH_arm64)
#define ARG6(r) BPF_CORE_READ((struct user_pt_regs *)(r), regs[5])
#endif

static __always_inline struct pt_regs *task_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

#define KMON_SYSCALL_EXIT(name, handler)                                \
	SEC("?tp/syscalls/sys_exit_" #name)                             \
	int sys_exit_##name(struct trace_event_raw_sys_exit *ctx)       \
	{                                                               \
		return handler(task_regs(), ctx->ret);                  \
	}                                                               \
	SEC("?tp_btf/sys_exit")                                         \
	int BPF_PROG(tail_##name, struct pt_regs *regs, long ret)       \
	{                                                               \
		return handler(regs, ret);                              \
	}

/* The syscall number and whether it is a 32-bit compat call (whose numbers differ). */
#if defined(__TARGET_ARCH_x86)
#define KMON_TS_COMPAT 0x0002 /* thread_info.status: in a 32-bit syscall */
static __always_inline long syscall_nr(struct pt_regs *regs)
{
	if (bpf_get_current_task_btf()->thread_info.status & KMON_TS_COMPAT)
		return -1;
	return BPF_CORE_READ(regs, orig_ax);
}
#else
#error "kmon: add this architecture's syscall number (and compat test) for the sys_exit dispatcher"
#endif

/*
 * The fallback without tracefs: on the raw sys_exit tracepoint, jump to the
 * program of this syscall if the session asked for it (the loader fills
 * kmon_syscalls), else return. Compat calls are skipped, as the per-syscall
 * tracepoints skip them.
 */
SEC("?tp_btf/sys_exit")
int BPF_PROG(kmon_sys_exit, struct pt_regs *regs, long ret)
{
	long nr = syscall_nr(regs);

	if (nr >= 0 && nr < KMON_SYSCALL_SLOTS)
		bpf_tail_call(ctx, &kmon_syscalls, nr);
	return 0;
}

#endif /* KMON_HELPERS_SYSCALL_H */
