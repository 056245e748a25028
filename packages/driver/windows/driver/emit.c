/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/* The ring, record emission and the fan-out to every notification mechanism. */
#include "kmon.h"

#define RING_DATA_OFFSET PAGE_SIZE /* the header page is mapped first */

/*
 * Interrupt time, resolved at load: KeQueryInterruptTimePrecise (Windows
 * 8.1+), else an exported KeQueryInterruptTime (Wine exports one), else the
 * wdm.h macro that reads KUSER_SHARED_DATA (which faults under Wine).
 */
typedef ULONGLONG NTAPI precise_fn(PULONGLONG qpc);
typedef ULONGLONG NTAPI plain_fn(void);
static precise_fn *time_precise;
static plain_fn *time_plain;

static void resolve_clock(void)
{
	UNICODE_STRING precise = RTL_CONSTANT_STRING(L"KeQueryInterruptTimePrecise");
	UNICODE_STRING plain = RTL_CONSTANT_STRING(L"KeQueryInterruptTime");

	time_precise = (precise_fn *)MmGetSystemRoutineAddress(&precise);
	if (!time_precise)
		time_plain = (plain_fn *)MmGetSystemRoutineAddress(&plain);
}

NTSTATUS kmon_emit_init(void)
{
	ULONG bytes = RING_DATA_OFFSET + KMON_RING_BYTES;

	resolve_clock();
	/* Every processor the machine may ever have (hot-added ones included) has its row. */
	kmon.cpus = KeQueryMaximumProcessorCountEx(ALL_PROCESSOR_GROUPS);
	kmon.seq = ExAllocatePoolWithTag(NonPagedPoolNx, (SIZE_T)kmon.cpus * KMON_KIND_COUNT * sizeof(kmon_u64),
					 KMON_POOL_TAG);
	if (!kmon.seq)
		return STATUS_INSUFFICIENT_RESOURCES;
	RtlZeroMemory(kmon.seq, (SIZE_T)kmon.cpus * KMON_KIND_COUNT * sizeof(kmon_u64));
	/* Page-granular and nonpaged: written at DISPATCH_LEVEL, mapped to clients by an MDL. */
	kmon.ring_mem = ExAllocatePoolWithTag(NonPagedPoolNx, bytes, KMON_POOL_TAG);
	if (!kmon.ring_mem)
		return STATUS_INSUFFICIENT_RESOURCES;
	if (kmon_ring_init(&kmon.ring, kmon.ring_mem, bytes, RING_DATA_OFFSET))
		return STATUS_INTERNAL_ERROR;
	kmon.ring_mdl = IoAllocateMdl(kmon.ring_mem, bytes, FALSE, FALSE, NULL);
	if (!kmon.ring_mdl)
		return STATUS_INSUFFICIENT_RESOURCES;
	MmBuildMdlForNonPagedPool(kmon.ring_mdl);
	return STATUS_SUCCESS;
}

void kmon_emit_free(void)
{
	if (kmon.ring_mdl)
		IoFreeMdl(kmon.ring_mdl);
	if (kmon.ring_mem)
		ExFreePoolWithTag(kmon.ring_mem, KMON_POOL_TAG);
	if (kmon.seq)
		ExFreePoolWithTag(kmon.seq, KMON_POOL_TAG);
	kmon.ring_mdl = NULL;
	kmon.ring_mem = NULL;
	kmon.seq = NULL;
}

kmon_u64 kmon_now_ns(void)
{
	ULONGLONG qpc, t;

	if (time_precise)
		t = time_precise(&qpc);
	else if (time_plain)
		t = time_plain();
	else
		t = KeQueryInterruptTime();
	return (kmon_u64)t * 100; /* 100 ns units */
}

/* The processor's index; below kmon.cpus by contract, kept there should a kernel break it. */
static kmon_u32 current_cpu(void)
{
	ULONG cpu = KeGetCurrentProcessorNumberEx(NULL);

	return cpu < kmon.cpus ? cpu : kmon.cpus - 1;
}

/*
 * One number per record attempted, per CPU and kind, so that whoever reads a
 * subset of the kinds (@kmon/native keeps a session's) can tell what the
 * driver dropped of those: a gap of n in a CPU and kind's sequence is n
 * records of that kind dropped there, each counted in stats.dropped[kind].
 * Under kmon.lock.
 */
static kmon_u64 next_seq(kmon_u32 cpu, kmon_u32 kind)
{
	kmon.stats.attempted++;
	return kmon.seq[(SIZE_T)cpu * KMON_KIND_COUNT + kind]++;
}

static void count_drop(kmon_u32 cpu, kmon_u32 kind)
{
	KIRQL irql;

	KeAcquireSpinLock(&kmon.lock, &irql);
	next_seq(cpu, kind);
	kmon.stats.dropped[kind]++;
	KeReleaseSpinLock(&kmon.lock, irql);
}

/*
 * Callers at PASSIVE_LEVEL pass strings that may be pageable, so records are
 * encoded into a nonpaged scratch buffer before the spinlock is taken; under
 * the lock only the sequence number is assigned and the bytes are copied,
 * so ring order is sequence order.
 */
void kmon_emit(void *body, kmon_u32 body_size, struct kmon_field *f, unsigned n)
{
	struct kmon_header *h = body;
	kmon_u32 cpu = current_cpu();
	kmon_u32 flags = 0;
	kmon_u32 size = kmon_record_measure(body_size, f, n, &flags);
	struct kmon_header *rec = size ? ExAllocatePoolWithTag(NonPagedPoolNx, size, KMON_POOL_TAG) : NULL;
	void *dst;
	KIRQL irql;

	if (!rec) {
		count_drop(cpu, h->kind);
		return;
	}
	h->abi_version = KMON_ABI_VERSION;
	h->size = size;
	h->flags |= flags;
	h->cpu = cpu;
	h->ts_ns = kmon_now_ns();
	h->cgroup_id = 0;
	kmon_record_write(rec, size, body, body_size, f, n);

	KeAcquireSpinLock(&kmon.lock, &irql);
	rec->seq = next_seq(cpu, h->kind);
	dst = kmon_ring_reserve(&kmon.ring, size);
	if (dst) {
		RtlCopyMemory(dst, rec, size);
		kmon_ring_publish(&kmon.ring);
		kmon.stats.truncated += flags != 0;
	} else {
		kmon.stats.dropped[h->kind]++;
	}
	KeReleaseSpinLock(&kmon.lock, irql);
	ExFreePoolWithTag(rec, KMON_POOL_TAG);
}

void kmon_notify(void)
{
	kmon_named_signal();
	kmon_client_event_signal_all();
	kmon_pending_deliver();
}

/* Describes a UNICODE_STRING (NULL: empty) as variable-length field of a record. */
void kmon_string_field(struct kmon_field *f, enum kmon_field_kind kind, PCUNICODE_STRING s, kmon_u32 cap,
		       kmon_u16 *len_slot)
{
	RtlZeroMemory(f, sizeof(*f));
	f->kind = kind;
	f->src = s ? s->Buffer : NULL;
	f->src_len = s ? s->Length : 0;
	f->cap = cap;
	f->len_slot = len_slot;
}
