/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * Synthetic source: a periodic kernel timer whose DPC emits a burst of
 * KMON_KIND_SYNTH records, for tests and benchmarks. Switched on and off by
 * IOCTL.
 */
#include "kmon.h"

/*
 * A periodic timer's DPC may run again on another CPU before its previous
 * run has returned (under Wine every expiry runs on a thread-pool thread of
 * its own). Were two runs to emit at once, their records would interleave in
 * the ring and value order would no longer be ring order, nor sequence
 * order. So one run at a time emits: a run that finds another one emitting
 * only adds its tick to `ticks` and returns, and the emitting run goes on
 * until no tick is left, announcing each burst (kmon_notify) before it
 * starts the next. Bursts leave in value order, and a request waiting for
 * records is completed with whole bursts. Nobody spins on the lock for
 * longer than a few counter updates (under Wine a spinning "DPC" is a
 * thread that starves the one it waits for).
 */
struct synth {
	KSPIN_LOCK lock; /* the fields below; never held while emitting */
	KTIMER timer;
	KDPC dpc;
	struct kmon_synth_config config;
	kmon_u64 emitted;  /* values handed out: the next burst starts here */
	kmon_u64 ticks;    /* ticks whose burst is not out yet */
	BOOLEAN emitting;  /* a run is emitting: it takes the ticks that come meanwhile */
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

/* The next tick's burst, if a tick is left: *first is its first value. Under s->lock. */
static kmon_u32 take_burst(struct synth *s, kmon_u64 *first)
{
	kmon_u64 burst = s->config.records_per_tick;

	if (!s->ticks)
		return 0;
	s->ticks--;
	if (s->config.count && s->config.count - s->emitted < burst)
		burst = s->config.count - s->emitted;
	*first = s->emitted;
	s->emitted += burst;
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
	kmon_u64 first = 0;
	kmon_u32 i, burst, payload_len;
	KIRQL irql;

	UNREFERENCED_PARAMETER(dpc);
	UNREFERENCED_PARAMETER(arg1);
	UNREFERENCED_PARAMETER(arg2);
	KeAcquireSpinLock(&s->lock, &irql);
	s->ticks++;
	if (s->emitting) { /* the run in progress emits this tick's burst too */
		KeReleaseSpinLock(&s->lock, irql);
		return;
	}
	s->emitting = TRUE;
	payload_len = s->config.payload_len;
	while (s->ticks) {
		burst = take_burst(s, &first);
		if (!burst)
			continue;
		KeReleaseSpinLock(&s->lock, irql);
		for (i = 0; i < burst; i++)
			emit_one(first + i, payload_len);
		kmon_notify();
		KeAcquireSpinLock(&s->lock, &irql);
	}
	s->emitting = FALSE;
	KeReleaseSpinLock(&s->lock, irql);
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
	synth.ticks = 0;
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
