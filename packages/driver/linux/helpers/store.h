/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * Store helpers: header filling, wakeup policy and the one submit() every
 * record goes through (numbering, counting, ring output).
 */
#ifndef KMON_HELPERS_STORE_H
#define KMON_HELPERS_STORE_H

static __always_inline void fill_header(struct kmon_header *h, __u16 kind, __u32 tgid, __u32 tid)
{
	h->abi_version = KMON_ABI_VERSION;
	h->kind = kind;
	h->flags = 0;
	h->cpu = bpf_get_smp_processor_id();
	h->ts_ns = bpf_ktime_get_ns();
	h->tgid = tgid;
	h->tid = tid;
	h->cgroup_id = bpf_get_current_cgroup_id();
}

/*
 * Adaptive: wake the consumer each time the unread data crosses a multiple
 * of wakeup_bytes, i.e. about once per wakeup_bytes written. Waking for every
 * record past the watermark would cost the traced process a wakeup per event
 * exactly when the consumer is behind; testing crossings of every multiple
 * (not just the first) keeps waking even if two CPUs race past one of them.
 */
static __always_inline __u64 wakeup_flag(__u32 size)
{
	__u64 avail, step = kmon_cfg.wakeup_bytes;

	if (kmon_cfg.wakeup == KMON_WAKEUP_EACH)
		return BPF_RB_FORCE_WAKEUP;
	if (kmon_cfg.wakeup == KMON_WAKEUP_POLL || step == 0)
		return BPF_RB_NO_WAKEUP;
	avail = bpf_ringbuf_query(&kmon_ring, BPF_RB_AVAIL_DATA);
	if ((avail + size) / step != avail / step)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/*
 * The size of a record whose variable part ends `var_len` bytes after `var`,
 * `body` bytes from its start: rounded up to KMON_RECORD_ALIGN, with the
 * padding zeroed (every record slot has 8 spare bytes past its largest
 * variable part, so one 8-byte store covers it).
 */
static __always_inline __u32 padded_size(char *var, __u32 var_len, __u32 body)
{
	*(__u64 *)(var + var_len) = 0;
	return KMON_ALIGN_UP(body + var_len);
}

/*
 * Numbers, counts and sends a finished record (header fields other than
 * size/seq already set). Atomics: a syscall tracepoint may be preempted on
 * newer kernels, and another kmon program may then run on the same CPU.
 */
static __always_inline void submit(struct kmon_header *h, __u32 size, __u32 kind)
{
	__u32 zero = 0;
	struct kmon_cpu_stats *st = bpf_map_lookup_elem(&kmon_stats, &zero);

	if (!st)
		return;
	h->size = size;
	h->seq = __sync_fetch_and_add(&st->attempted, 1);
	if (h->flags & KMON_F_TRUNCATED_MASK)
		__sync_fetch_and_add(&st->truncated, 1);
	if (bpf_ringbuf_output(&kmon_ring, h, size, wakeup_flag(size)))
		__sync_fetch_and_add(&st->dropped[kind], 1);
}

#endif /* KMON_HELPERS_STORE_H */
