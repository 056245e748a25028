/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * Process filters: the first question every program asks about the current
 * task (process_wanted), and the subtree bookkeeping fork and exit do for it.
 * Filtered-out records are never built, numbered or counted.
 */
#ifndef KMON_HELPERS_FILTER_H
#define KMON_HELPERS_FILTER_H

static __always_inline int filter_on(__u32 bit)
{
	return kmon_filter.active & bit;
}

static __always_inline int cgroup_wanted(void)
{
	/* The task's own cgroup or any ancestor: a container's processes may sit in sub-cgroups. */
	for (int level = KMON_CGROUP_DEPTH_MAX; level >= 1; level--) {
		__u64 id = bpf_get_current_ancestor_cgroup_id(level);

		if (id && bpf_map_lookup_elem(&kmon_filter_cgroups, &id))
			return 1;
	}
	return 0;
}

static __always_inline int comm_wanted(void)
{
	struct kmon_comm_key key = {};

	bpf_get_current_comm(key.comm, sizeof(key.comm));
	return bpf_map_lookup_elem(&kmon_filter_comms, &key) != 0;
}

/* Does the current task pass every active process filter? Cheapest tests first. */
static __always_inline int process_wanted(void)
{
	__u32 active = kmon_filter.active;

	if (!(active & (KMON_FILTER_SUBTREE | KMON_FILTER_UID | KMON_FILTER_CGROUP | KMON_FILTER_COMM)))
		return 1;
	if (active & KMON_FILTER_SUBTREE) {
		__u32 tgid = bpf_get_current_pid_tgid() >> 32;

		if (!bpf_map_lookup_elem(&kmon_tracked, &tgid))
			return 0;
	}
	if (active & KMON_FILTER_UID) {
		__u32 uid = (__u32)bpf_get_current_uid_gid();

		if (!bpf_map_lookup_elem(&kmon_filter_uids, &uid))
			return 0;
	}
	if ((active & KMON_FILTER_CGROUP) && !cgroup_wanted())
		return 0;
	if ((active & KMON_FILTER_COMM) && !comm_wanted())
		return 0;
	return 1;
}

/* A tracked process's new child process joins the subtree, with the parent's generation. */
static __always_inline void track_fork(__u32 parent_tgid, __u32 child_tgid)
{
	__u32 *generation;

	if (!filter_on(KMON_FILTER_TRACK))
		return;
	generation = bpf_map_lookup_elem(&kmon_tracked, &parent_tgid);
	if (generation)
		bpf_map_update_elem(&kmon_tracked, &child_tgid, generation, BPF_ANY);
}

/* An exited process leaves the subtree, so a reused pid is not followed. */
static __always_inline void untrack_exit(__u32 tgid)
{
	if (filter_on(KMON_FILTER_TRACK))
		bpf_map_delete_elem(&kmon_tracked, &tgid);
}

#endif /* KMON_HELPERS_FILTER_H */
