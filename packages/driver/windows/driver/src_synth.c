/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * Synthetic source (after the WDK 'event' sample, seeds 003/004): a periodic
 * kernel timer whose DPC emits a burst of KMON_KIND_SYNTH records, for tests
 * and benchmarks. Switched on and off by IOCTL.
 */
#include "kmon.h"

static KTIMER timer;
static KDPC dpc;
/* Under kmon.lock: the DPC and the IOCTLs both use them. */
static struct kmon_synth_config config;
static kmon_u64 emitted;

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

/* The burst this tick may emit; the counter is the records' value. */
static kmon_u32 claim_burst(kmon_u64 *first, kmon_u32 *payload_len)
{
	kmon_u64 burst;
	KIRQL irql;

	KeAcquireSpinLock(&kmon.lock, &irql);
	burst = config.records_per_tick;
	if (config.count && config.count - emitted < burst)
		burst = config.count - emitted;
	*first = emitted;
	*payload_len = config.payload_len;
	emitted += burst;
	KeReleaseSpinLock(&kmon.lock, irql);
	return (kmon_u32)burst;
}

/*
 * Once count records are out, ticks find nothing to do until SYNTH_STOP:
 * the timer is not cancelled from its own DPC (that deadlocks under Wine,
 * and the IOCTL path has to cancel and flush anyway).
 */
static void synth_dpc(PKDPC d, PVOID ctx, PVOID arg1, PVOID arg2)
{
	kmon_u64 first;
	kmon_u32 payload_len, i, burst = claim_burst(&first, &payload_len);

	UNREFERENCED_PARAMETER(d);
	UNREFERENCED_PARAMETER(ctx);
	UNREFERENCED_PARAMETER(arg1);
	UNREFERENCED_PARAMETER(arg2);
	for (i = 0; i < burst; i++)
		emit_one(first + i, payload_len);
	if (burst)
		kmon_notify();
}

void kmon_synth_init(void)
{
	KeInitializeTimerEx(&timer, NotificationTimer);
	KeInitializeDpc(&dpc, synth_dpc, NULL);
	kmon.sources |= KMON_SRC_SYNTH;
}

/* Returns with the timer stopped and no DPC of it running anywhere. */
static void stop(void)
{
	KeCancelTimer(&timer);
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

NTSTATUS kmon_ioctl_synth_start(PIRP irp, struct kmon_file *f, PVOID buf, ULONG in_len, ULONG out_len,
				ULONG_PTR *information)
{
	struct kmon_synth_config c;
	LARGE_INTEGER due;
	KIRQL irql;

	UNREFERENCED_PARAMETER(irp);
	UNREFERENCED_PARAMETER(f);
	UNREFERENCED_PARAMETER(in_len);
	UNREFERENCED_PARAMETER(out_len);
	UNREFERENCED_PARAMETER(information);
	RtlCopyMemory(&c, buf, sizeof(c));
	if (!config_valid(&c))
		return STATUS_INVALID_PARAMETER;
	stop();
	KeAcquireSpinLock(&kmon.lock, &irql);
	config = c;
	emitted = 0;
	KeReleaseSpinLock(&kmon.lock, irql);
	due.QuadPart = -10000LL * c.period_ms; /* relative, 100 ns units */
	KeSetTimerEx(&timer, due, (LONG)c.period_ms, &dpc);
	return STATUS_SUCCESS;
}

NTSTATUS kmon_ioctl_synth_stop(PIRP irp, struct kmon_file *f, PVOID buf, ULONG in_len, ULONG out_len,
			       ULONG_PTR *information)
{
	UNREFERENCED_PARAMETER(irp);
	UNREFERENCED_PARAMETER(f);
	UNREFERENCED_PARAMETER(buf);
	UNREFERENCED_PARAMETER(in_len);
	UNREFERENCED_PARAMETER(out_len);
	UNREFERENCED_PARAMETER(information);
	stop();
	return STATUS_SUCCESS;
}
