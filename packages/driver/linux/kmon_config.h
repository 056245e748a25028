/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * Load-time configuration of kmon.bpf.c, shared with the user-space loader
 * (packages/native/src/linux). It lives in .rodata: the loader writes it into
 * the skeleton before load, the kernel freezes it, and the verifier treats
 * every field as a constant, so disabled paths are pruned instead of tested
 * on every event.
 */
#ifndef KMON_CONFIG_H
#define KMON_CONFIG_H

#include "kmon_abi.h"

enum kmon_wakeup {
	KMON_WAKEUP_EACH = 0,     /* BPF_RB_FORCE_WAKEUP on every record */
	KMON_WAKEUP_ADAPTIVE = 1, /* wake only once wakeup_bytes wait in the ring */
	KMON_WAKEUP_POLL = 2,     /* never wake: the consumer polls on a timer */
};

struct kmon_config {
	kmon_u32 kinds;         /* bit (1 << enum kmon_kind) per kind to record */
	kmon_u32 self_tgid;     /* excludeSelf: the monitor's tgid, 0 to keep it */
	kmon_u32 threads;       /* nonzero: report thread clones as forks */
	kmon_u32 wakeup;        /* enum kmon_wakeup */
	kmon_u64 wakeup_bytes;  /* KMON_WAKEUP_ADAPTIVE watermark */
	kmon_u32 argv_max;      /* argv bytes kept per exec, <= KMON_ARGV_MAX */
	kmon_u32 synth_tgid;    /* process whose getppid() calls become records */
	kmon_u32 synth_payload; /* filler bytes per synthetic record, <= KMON_PAYLOAD_MAX */
	kmon_u32 reserved;
};

/*
 * Filters the user can change on a live session: one array map entry the
 * loader writes at open and on every setFilters(), read by the programs at
 * each event. A record a filter rejects is never numbered or counted: loss
 * accounting only sees records that were meant to be delivered.
 */
struct kmon_file_filter {
	kmon_u32 failed;        /* nonzero: also record calls that failed */
	kmon_u32 writes_only;   /* open: only opens that may modify (write access, O_CREAT, O_TRUNC) */
	kmon_u32 path_includes; /* nonzero: kmon_path_prefixes holds includes, a path must match one */
	kmon_u32 path_filter;   /* nonzero: kmon_path_prefixes is not empty */
};

struct kmon_filters {
	struct kmon_file_filter file;
};

/*
 * Path prefixes (the LPM trie kmon_path_prefixes): a key is a path with a
 * trailing '/', so "/etc/" matches "/etc" and "/etc/passwd" but not "/etcd".
 * The longest matching prefix decides, include or exclude; paths are
 * compared on their first KMON_PREFIX_MAX bytes.
 */
#define KMON_PREFIX_MAX 256
#define KMON_PREFIXES_MAX 1024

struct kmon_prefix_key {
	kmon_u32 prefixlen;     /* bits */
	char path[KMON_PREFIX_MAX];
};

enum kmon_prefix_action {
	KMON_PREFIX_INCLUDE = 1,
	KMON_PREFIX_EXCLUDE = 2,
};

/* Tail-call slots of the sys_exit dispatcher: syscall numbers below this. */
#define KMON_SYSCALL_SLOTS 1024

#define KMON_KIND_BIT(kind) (1u << (kind))

/*
 * Live network filters (maps kmon_net_filter, kmon_net_cidr4/6,
 * kmon_net_ports), written by the loader at start and on every setFilters.
 * A prefix or port maps to a verdict; an address matching no prefix (a port
 * in no entry) is kept unless include_addrs (include_ports) says that only
 * included ones are.
 */
enum kmon_net_verdict {
	KMON_NET_INCLUDE = 1,
	KMON_NET_EXCLUDE = 2,
};

enum kmon_net_limits {
	KMON_NET_PREFIXES_MAX = 1024, /* per address family */
	KMON_NET_PORTS_MAX = 1024,
};

struct kmon_net_filter {
	kmon_u32 drop_loopback;  /* nonzero: drop loopback addresses (127/8, ::1); all zeros keeps everything */
	kmon_u32 include_addrs;  /* nonzero: keep only addresses under an included prefix */
	kmon_u32 include_ports;  /* nonzero: keep only included ports */
	kmon_u32 lookup_addrs;   /* nonzero: some prefix is set (else the tries are skipped) */
	kmon_u32 lookup_ports;   /* nonzero: some port is set */
	kmon_u32 reserved;
};

/* LPM trie keys: prefix length in bits, then the address in network order. */
struct kmon_net_prefix4 {
	kmon_u32 prefixlen;
	kmon_u8 addr[4];
};

struct kmon_net_prefix6 {
	kmon_u32 prefixlen;
	kmon_u8 addr[16];
};

/*
 * In-kernel process filters (session option filters.process), live-updatable:
 * the loader writes struct kmon_filter in .bss and the filter maps at any
 * time. A record passes when it passes every active filter; the sets are
 * ORs. A record filtered out is never numbered nor counted as attempted.
 */
enum kmon_filter_bit {
	KMON_FILTER_SUBTREE = 1 << 0,  /* tgid in kmon_tracked */
	KMON_FILTER_UID = 1 << 1,      /* real uid in kmon_filter_uids */
	KMON_FILTER_CGROUP = 1 << 2,   /* cgroup or one of its ancestors in kmon_filter_cgroups */
	KMON_FILTER_COMM = 1 << 3,     /* comm in kmon_filter_comms */
	KMON_FILTER_TRACK = 1 << 4,    /* fork adds the child of a tracked process to kmon_tracked */
};

/* Deepest cgroup level the cgroup filter looks at (root is level 0). */
#define KMON_CGROUP_DEPTH_MAX 16

struct kmon_comm_key {
	char comm[KMON_COMM_LEN]; /* NUL-padded */
};

struct kmon_filter {
	kmon_u32 active;      /* enum kmon_filter_bit */
	kmon_u32 generation;  /* kmon_tracked values of the current pid set; a fork copies its parent's */
};

/*
 * Scratch slots: a record with variable-length fields is assembled in a
 * per-CPU slot and copied into the ring with its exact size. 8 spare bytes
 * let the program zero the record's padding with one store.
 */
#define KMON_EXEC_SCRATCH (KMON_RECORD_MAX + 8)

/*
 * Failed execs: argv is read from the caller's array, so it is capped lower.
 * The slot has room for a whole cap after any argument offset: the verifier
 * does not relate an argument's offset to the room left after it.
 */
#define KMON_EXEC_FAILED_ARGS_MAX 32
#define KMON_EXEC_FAILED_ARGV_MAX 1024
#define KMON_EXEC_FAILED_SCRATCH \
	(sizeof(struct kmon_exec_failed) + KMON_PATH_MAX + 2 + 2 * KMON_EXEC_FAILED_ARGV_MAX + 8)
#define KMON_NET_SCRATCH 1024 /* a network body (<= 128) + KMON_DNS_MAX + 8, rounded up */
#define KMON_SYNTH_SCRATCH (sizeof(struct kmon_synth) + KMON_PAYLOAD_MAX + 8)
/*
 * Snapshot records (kind process) go through the iterator's seq_file, whose
 * buffer holds 8 pages: a record must fit in it, so argv is capped lower
 * than an exec's.
 */
#define KMON_SNAPSHOT_ARGV_MAX 16384
#define KMON_SNAPSHOT_SCRATCH (sizeof(struct kmon_process) + 2 * KMON_PATH_MAX + KMON_SNAPSHOT_ARGV_MAX + 8)
/* File records: the largest body and two paths. */
#define KMON_FILE_SCRATCH (sizeof(struct kmon_open) + 2 * KMON_PATH_MAX + 8)

#endif /* KMON_CONFIG_H */
