/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * Every map of the kmon BPF object, in one place: the ring, the per-CPU
 * counters, the scratch slots and the load-time configuration.
 */
#ifndef KMON_MAPS_H
#define KMON_MAPS_H

const volatile struct kmon_config kmon_cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24); /* the loader sets options.ringBytes */
} kmon_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kmon_cpu_stats);
} kmon_stats SEC(".maps");

/*
 * Exec records exceed the 32 KiB cap of a per-CPU map value, so this is a
 * plain array indexed by CPU (the loader sets max_entries to the possible
 * CPUs). Sharing a slot per CPU is safe: the kernel never runs one BPF
 * program twice at once on the same CPU (a nested run is skipped and counted
 * as a miss), and only kmon_exec uses this map.
 */
struct kmon_exec_slot {
	char data[KMON_EXEC_SCRATCH];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kmon_exec_slot);
} kmon_exec_buf SEC(".maps");

/* Zero-filled at creation and never written past the body: the payload is zeros. */
struct kmon_synth_slot {
	char data[KMON_SYNTH_SCRATCH];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kmon_synth_slot);
} kmon_synth_buf SEC(".maps");

/*
 * Network records with a variable field (unix paths, DNS queries) are built
 * here. Only syscall-exit programs use it: those run with preemption off and
 * never in interrupt context, so one slot per CPU is never shared by two
 * records at once (the TCP close program, which runs in softirq, builds its
 * record on the stack).
 */
struct kmon_net_slot {
	char data[KMON_NET_SCRATCH];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kmon_net_slot);
} kmon_net_buf SEC(".maps");

/*
 * TCP connections this session saw open (connect or accept), keyed by their
 * struct sock: the close is reported for the task that opened it, not for
 * whatever task the softirq that closes it interrupted. LRU: a connection
 * whose close is never seen cannot fill the map.
 */
struct kmon_flow {
	__u64 opened_ns;         /* when the connect or accept returned */
	__u64 process_start_ns;  /* the opening task's process start: its identity with tgid */
	__u64 cgroup_id;
	__u32 tgid;
	__u32 tid;
	char comm[KMON_COMM_LEN];
	__u32 inbound;
	__u32 reserved;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct kmon_flow);
} kmon_flows SEC(".maps");

/*
 * Network filters, live: user space rewrites these maps on a running session
 * (kmon_config is frozen at load). Address verdicts come from the longest
 * matching prefix, so an exclusion inside an included range works.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kmon_net_filter);
} kmon_net_filter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, KMON_NET_PREFIXES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct kmon_net_prefix4);
	__type(value, __u32);
} kmon_net_cidr4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, KMON_NET_PREFIXES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct kmon_net_prefix6);
	__type(value, __u32);
} kmon_net_cidr6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KMON_NET_PORTS_MAX);
	__type(key, __u16);
	__type(value, __u32);
} kmon_net_ports SEC(".maps");

/* Process filters (kmon_config.h): state and sets, written by the loader at any time. */
struct kmon_filter kmon_filter = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 16); /* the processes a subtree filter follows at once */
	__type(key, __u32);           /* tgid */
	__type(value, __u32);         /* kmon_filter.generation when it was added */
} kmon_tracked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32); /* uid */
	__type(value, __u8);
} kmon_filter_uids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u64); /* cgroup v2 id */
	__type(value, __u8);
} kmon_filter_cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct kmon_comm_key);
	__type(value, __u8);
} kmon_filter_comms SEC(".maps");

/* An exec in flight per thread (sys_enter_execve*), until its sys_exit says whether it failed. */
struct kmon_exec_call {
	__u64 filename; /* user pointers, as passed */
	__u64 argv;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32); /* tid */
	__type(value, struct kmon_exec_call);
} kmon_exec_calls SEC(".maps");

struct kmon_exec_failed_slot {
	char data[KMON_EXEC_FAILED_SCRATCH];
};

/* Failed exec records are built here, by syscall-exit programs only (as kmon_net_buf). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kmon_exec_failed_slot);
} kmon_exec_failed_buf SEC(".maps");

/*
 * File records are assembled here (two paths at most). Per-CPU: a program
 * runs to completion on its CPU (migration is disabled), and the file
 * programs are the only users.
 */
struct kmon_file_slot {
	char data[KMON_FILE_SCRATCH];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kmon_file_slot);
} kmon_file_buf SEC(".maps");

/*
 * Path walk scratch (helpers/path.h). `buf` is two halves that meet in the
 * middle: a walk writes a directory right to left so it ends at the middle,
 * a user string is read to start there, and "dir/given" comes out contiguous.
 * `key` is the prefix-filter lookup key.
 */
struct kmon_path_slot {
	char buf[2 * KMON_PATH_MAX];
	struct kmon_prefix_key key;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kmon_path_slot);
} kmon_path_buf SEC(".maps");

/* Live filters (struct kmon_filters), written by user space at any time. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kmon_filters);
} kmon_filters SEC(".maps");

/* Path prefixes to include or exclude (enum kmon_prefix_action), live. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, KMON_PREFIXES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct kmon_prefix_key);
	__type(value, __u32);
} kmon_path_prefixes SEC(".maps");

/*
 * Fallback attachment without tracefs: kmon_sys_exit (tp_btf/sys_exit) tail
 * calls the program for the syscall number. The loader fills only the slots
 * of the kinds asked for.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, KMON_SYSCALL_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} kmon_syscalls SEC(".maps");

/*
 * The snapshot iterator (programs/iter.h) builds each record here and walks
 * paths in its own slot. Plain arrays: only the session's own read of the
 * iterator runs the program, one task at a time, and it may sleep (reading
 * another process's memory), so a per-CPU slot could be taken over meanwhile.
 */
struct kmon_snapshot_slot {
	char data[KMON_SNAPSHOT_SCRATCH];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kmon_snapshot_slot);
} kmon_snapshot_buf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kmon_path_slot);
} kmon_snapshot_path SEC(".maps");

/* Counter echoed in kmon_synth.value, so a consumer can spot lost records. */
__u64 kmon_synth_next = 0;

#endif /* KMON_MAPS_H */
