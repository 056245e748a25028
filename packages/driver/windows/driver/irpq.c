/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
#include "kmon.h"

/* The cancel routine finds the queue of an IRP here. */
#define IRPQ_SLOT 3

static void irpq_cancel(PDEVICE_OBJECT dev, PIRP irp)
{
	struct kmon_irpq *q = irp->Tail.Overlay.DriverContext[IRPQ_SLOT];
	KIRQL irql;

	UNREFERENCED_PARAMETER(dev);
	IoReleaseCancelSpinLock(irp->CancelIrql);
	KeAcquireSpinLock(q->lock, &irql);
	/* A popper that lost the race re-initialised the entry: then this is a no-op. */
	RemoveEntryList(&irp->Tail.Overlay.ListEntry);
	KeReleaseSpinLock(q->lock, irql);
	kmon_complete(irp, STATUS_CANCELLED, 0);
}

void kmon_irpq_init(struct kmon_irpq *q, PKSPIN_LOCK lock)
{
	q->lock = lock;
	InitializeListHead(&q->irps);
}

NTSTATUS kmon_irpq_insert(struct kmon_irpq *q, PIRP irp)
{
	KIRQL irql;

	irp->Tail.Overlay.DriverContext[IRPQ_SLOT] = q;
	KeAcquireSpinLock(q->lock, &irql);
	IoSetCancelRoutine(irp, irpq_cancel);
	/* Cancelled before the routine was set: the I/O manager will not call it. */
	if (irp->Cancel && IoSetCancelRoutine(irp, NULL)) {
		KeReleaseSpinLock(q->lock, irql);
		return STATUS_CANCELLED;
	}
	IoMarkIrpPending(irp);
	InsertTailList(&q->irps, &irp->Tail.Overlay.ListEntry);
	KeReleaseSpinLock(q->lock, irql);
	return STATUS_PENDING;
}

PIRP kmon_irpq_pop_locked(struct kmon_irpq *q)
{
	while (!IsListEmpty(&q->irps)) {
		PLIST_ENTRY e = RemoveHeadList(&q->irps);
		PIRP irp = CONTAINING_RECORD(e, IRP, Tail.Overlay.ListEntry);

		if (IoSetCancelRoutine(irp, NULL))
			return irp;
		/* Its cancel routine is running and will complete it; make its RemoveEntryList harmless. */
		InitializeListHead(e);
	}
	return NULL;
}

void kmon_irpq_cancel_file(struct kmon_irpq *q, PFILE_OBJECT file)
{
	LIST_ENTRY doomed, *e, *next;
	KIRQL irql;

	InitializeListHead(&doomed);
	KeAcquireSpinLock(q->lock, &irql);
	for (e = q->irps.Flink; e != &q->irps; e = next) {
		PIRP irp = CONTAINING_RECORD(e, IRP, Tail.Overlay.ListEntry);

		next = e->Flink;
		if (file && kmon_irp_file(irp) != file)
			continue;
		if (!IoSetCancelRoutine(irp, NULL))
			continue; /* being cancelled: its routine completes it */
		RemoveEntryList(e);
		InsertTailList(&doomed, e);
	}
	KeReleaseSpinLock(q->lock, irql);
	/* Complete outside the lock: completion may call back into the driver. */
	while (!IsListEmpty(&doomed)) {
		e = RemoveHeadList(&doomed);
		kmon_complete(CONTAINING_RECORD(e, IRP, Tail.Overlay.ListEntry), STATUS_CANCELLED, 0);
	}
}
