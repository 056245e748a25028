/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * Mechanisms c and d: requests that wait for records. KMON_IOCTL_WAIT
 * (inverted call) and ReadFile (direct I/O, synchronous or overlapped) share
 * one FIFO; each is completed with as many whole records as fit, oldest
 * request first.
 */
#include "kmon.h"

#define SLOT_BUF 0 /* system address of the request's output buffer */
#define SLOT_LEN 1

static NTSTATUS queue_for_records(PIRP irp, PVOID buf, ULONG len)
{
	NTSTATUS status;

	irp->Tail.Overlay.DriverContext[SLOT_BUF] = buf;
	irp->Tail.Overlay.DriverContext[SLOT_LEN] = (PVOID)(ULONG_PTR)len;
	status = kmon_irpq_insert(&kmon.pending, irp);
	if (status == STATUS_PENDING)
		kmon_pending_deliver(); /* records may be waiting already */
	return status;
}

NTSTATUS kmon_ioctl_wait(struct kmon_ioctl *io)
{
	return queue_for_records(io->irp, io->buf, io->out_len);
}

NTSTATUS kmon_dispatch_read(PDEVICE_OBJECT dev, PIRP irp)
{
	ULONG len = IoGetCurrentIrpStackLocation(irp)->Parameters.Read.Length;
	PVOID buf = NULL;
	NTSTATUS status;

	UNREFERENCED_PARAMETER(dev);
	if (len < KMON_BATCH_MIN) {
		kmon_complete(irp, STATUS_BUFFER_TOO_SMALL, 0);
		return STATUS_BUFFER_TOO_SMALL;
	}
	/* Mapped now, at PASSIVE_LEVEL; filled later under the spinlock. */
	if (irp->MdlAddress)
		buf = MmGetSystemAddressForMdlSafe(irp->MdlAddress, NormalPagePriority);
	status = buf ? queue_for_records(irp, buf, len) : STATUS_INSUFFICIENT_RESOURCES;
	if (status != STATUS_PENDING)
		kmon_complete(irp, status, 0);
	return status;
}

void kmon_pending_deliver(void)
{
	LIST_ENTRY done;
	PIRP irp;
	KIRQL irql;

	InitializeListHead(&done);
	KeAcquireSpinLock(&kmon.lock, &irql);
	while (!kmon_ring_empty(&kmon.ring) && (irp = kmon_irpq_pop_locked(&kmon.pending)) != NULL) {
		irp->IoStatus.Information = kmon_ring_read(&kmon.ring, irp->Tail.Overlay.DriverContext[SLOT_BUF],
							   (ULONG)(ULONG_PTR)irp->Tail.Overlay.DriverContext[SLOT_LEN]);
		InsertTailList(&done, &irp->Tail.Overlay.ListEntry);
	}
	KeReleaseSpinLock(&kmon.lock, irql);
	while (!IsListEmpty(&done)) {
		irp = CONTAINING_RECORD(RemoveHeadList(&done), IRP, Tail.Overlay.ListEntry);
		kmon_complete(irp, STATUS_SUCCESS, irp->IoStatus.Information);
	}
}
