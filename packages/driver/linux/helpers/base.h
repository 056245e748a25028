/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * Base helpers: questions every program asks before doing any work
 * (is this kind wanted, is this task one we report), and the identity every
 * record about a process carries.
 */
#ifndef KMON_HELPERS_BASE_H
#define KMON_HELPERS_BASE_H

static __always_inline int kind_enabled(__u32 kind)
{
	return kmon_cfg.kinds & KMON_KIND_BIT(kind);
}

/*
 * The start time of task's process (its group leader's, CLOCK_MONOTONIC ns):
 * with the tgid, the process identity (pids are reused, start times are not).
 * Every record about a process takes it from here, so one process has one
 * identity on all of its records.
 */
static __always_inline __u64 process_start(struct task_struct *task)
{
	return task->group_leader->start_time;
}

/* The current task's process start time. */
static __always_inline __u64 current_process_start(void)
{
	return process_start(bpf_get_current_task_btf());
}

#endif /* KMON_HELPERS_BASE_H */
