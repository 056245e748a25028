/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * The synthetic load generator (tests and benchmarks).
 */
#ifndef KMON_PROGRAMS_SYNTH_H
#define KMON_PROGRAMS_SYNTH_H

#if defined(__TARGET_ARCH_x86)
#define KMON_NR_GETPPID 110
#elif defined(__TARGET_ARCH_arm64)
#define KMON_NR_GETPPID 173
#else
#error "kmon: add this architecture's __NR_getppid"
#endif

/* Synthetic load: every getppid() of kmon_cfg.synth_tgid becomes one record. */
SEC("?raw_tp/sys_enter") /* "?": not loaded unless the loader asks */
int BPF_PROG(kmon_synth, struct pt_regs *regs, long id)
{
	__u64 ids = bpf_get_current_pid_tgid();
	__u32 zero = 0;
	struct kmon_synth *s;

	if (id != KMON_NR_GETPPID || ids >> 32 != kmon_cfg.synth_tgid)
		return 0;
	s = bpf_map_lookup_elem(&kmon_synth_buf, &zero);
	if (!s)
		return 0;
	fill_header(&s->hdr, KMON_KIND_SYNTH, ids >> 32, (__u32)ids);
	s->value = __sync_fetch_and_add(&kmon_synth_next, 1);
	s->payload_len = kmon_cfg.synth_payload;
	s->reserved0 = 0;
	s->reserved1 = 0;
	submit(&s->hdr, KMON_ALIGN_UP(sizeof(*s) + kmon_cfg.synth_payload), KMON_KIND_SYNTH);
	return 0;
}

#endif /* KMON_PROGRAMS_SYNTH_H */
