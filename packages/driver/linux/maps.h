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

/* Counter echoed in kmon_synth.value, so a consumer can spot lost records. */
__u64 kmon_synth_next = 0;

#endif /* KMON_MAPS_H */
