/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * Synthetic source: a periodic kernel timer whose DPC emits a burst of
 * KMON_KIND_SYNTH records, for tests and benchmarks. Switched on and off by
 * IOCTL.
 */
#include "kmon.h"

/*
 * A periodic timer's DPC may start again on another CPU before its previous
 * run has returned (under Wine every expiry runs on a thread-pool thread of
 * its own). Were values claimed under one lock and the records emitted after
 * it was released, two runs would interleave their records in the ring and
 * value order would no longer be ring order, nor sequence order. So `lock`
 * covers a whole burst, from claiming its values to the last record in the
 * ring: bursts leave one after the other, each in value order. A waiting
 * DPC spins for at most one burst (KMON_SYNTH_BURST_MAX records).
 */
struct synth {
	KSPIN_LOCK lock; /* taken before kmon.lock, never after it */
	KTIMER timer;
	KDPC dpc;
	struct kmon_synth_config config;
	kmon_u64 emitted;
};

static struct synth synth;

static void emit_one(kmon_u64 value, kmon_u32 payload_len)
{
	struct kmon_synth body;
	struct kmon_field payload;

	RtlZeroMemory(&body, sizeof(body));
	RtlZeroMemory(&payload, sizeof(payload));
	body.hdr.kind = KMON_KIND_SYNTH;
	body.value = value;
	payload.kind = KMON_FIELD_PATTERN;
	payload.src_len = payload_len;
	payload.cap = KMON_PAYLOAD_MAX;
	payload.seed = value;
	payload.len_slot = &body.payload_len;
	kmon_emit(&body, sizeof(body), &payload, 1);
}

/* Records this tick may emit (the counter is their value). Under s->lock. */
static kmon_u32 burst_size(const struct synth *s)
{
	kmon_u64 burst = s->config.records_per_tick;

	if (s->config.count && s->config.count - s->emitted < burst)
		burst = s->config.count - s->emitted;
	return (kmon_u32)burst;
}

/*
 * Once count records are out, ticks find nothing to do until SYNTH_STOP:
 * the timer is not cancelled from its own DPC (that deadlocks under Wine,
 * and the IOCTL path has to cancel and flush anyway).
 */
static void synth_dpc(PKDPC dpc, PVOID ctx, PVOID arg1, PVOID arg2)
{
	struct synth *s = ctx;
	kmon_u32 i, burst;
	KIRQL irql;

	UNREFERENCED_PARAMETER(dpc);
	UNREFERENCED_PARAMETER(arg1);
	UNREFERENCED_PARAMETER(arg2);
	KeAcquireSpinLock(&s->lock, &irql);
	burst = burst_size(s);
	for (i = 0; i < burst; i++)
		emit_one(s->emitted + i, s->config.payload_len);
	s->emitted += burst;
	KeReleaseSpinLock(&s->lock, irql);
	if (burst)
		kmon_notify();
}

void kmon_synth_init(void)
{
	KeInitializeSpinLock(&synth.lock);
	KeInitializeTimerEx(&synth.timer, NotificationTimer);
	KeInitializeDpc(&synth.dpc, synth_dpc, &synth);
	kmon.sources |= KMON_SRC_SYNTH;
}

/* Returns with the timer stopped and no DPC of it running anywhere. */
static void stop(void)
{
	KeCancelTimer(&synth.timer);
	KeFlushQueuedDpcs();
}

void kmon_synth_free(void)
{
	if (kmon.sources & KMON_SRC_SYNTH)
		stop();
	kmon.sources &= ~KMON_SRC_SYNTH;
}

static int config_valid(const struct kmon_synth_config *c)
{
	return c->period_ms >= 1 && c->period_ms <= KMON_SYNTH_PERIOD_MAX_MS && c->records_per_tick >= 1 &&
	       c->records_per_tick <= KMON_SYNTH_BURST_MAX && c->payload_len <= KMON_PAYLOAD_MAX && !c->reserved;
}

NTSTATUS kmon_ioctl_synth_start(struct kmon_ioctl *io)
{
	struct kmon_synth_config c;
	LARGE_INTEGER due;
	KIRQL irql;

	RtlCopyMemory(&c, io->buf, sizeof(c));
	if (!config_valid(&c))
		return STATUS_INVALID_PARAMETER;
	stop();
	KeAcquireSpinLock(&synth.lock, &irql);
	synth.config = c;
	synth.emitted = 0;
	KeReleaseSpinLock(&synth.lock, irql);
	due.QuadPart = -10000LL * c.period_ms; /* relative, 100 ns units */
	KeSetTimerEx(&synth.timer, due, (LONG)c.period_ms, &synth.dpc);
	return STATUS_SUCCESS;
}

NTSTATUS kmon_ioctl_synth_stop(struct kmon_ioctl *io)
{
	UNREFERENCED_PARAMETER(io);
	stop();
	return STATUS_SUCCESS;
}
