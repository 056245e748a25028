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

#define KMON_KIND_BIT(kind) (1u << (kind))

/*
 * Scratch slots: a record with variable-length fields is assembled in a
 * per-CPU slot and copied into the ring with its exact size. 8 spare bytes
 * let the program zero the record's padding with one store.
 */
#define KMON_EXEC_SCRATCH (KMON_RECORD_MAX + 8)
#define KMON_SYNTH_SCRATCH (sizeof(struct kmon_synth) + KMON_PAYLOAD_MAX + 8)

#endif /* KMON_CONFIG_H */
