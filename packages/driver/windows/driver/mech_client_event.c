/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * Mechanism a: the client registers an event of its own by handle, waits on
 * it, and pulls records with KMON_IOCTL_PULL.
 */
#include "kmon.h"

/* Installs `event` (NULL: none) as the file's client event and drops the one it replaces. */
static void swap_client_event(struct kmon_file *f, PKEVENT event)
{
	PKEVENT old;
	KIRQL irql;

	KeAcquireSpinLock(&kmon.lock, &irql);
	old = f->client_event;
	f->client_event = event;
	KeReleaseSpinLock(&kmon.lock, irql);
	if (old)
		ObDereferenceObject(old);
}

NTSTATUS kmon_ioctl_register_event(PIRP irp, struct kmon_file *f, PVOID buf, ULONG in_len, ULONG out_len,
				   ULONG_PTR *information)
{
	const struct kmon_event_reg *reg = buf;
	PKEVENT event;
	NTSTATUS status;

	UNREFERENCED_PARAMETER(in_len);
	UNREFERENCED_PARAMETER(out_len);
	UNREFERENCED_PARAMETER(information);
	/* A handle value only names an object in the process that sent it. */
	if (IoGetRequestorProcess(irp) != PsGetCurrentProcess())
		return STATUS_ACCESS_DENIED;
	/*
	 * The requestor's mode makes the object manager check the handle and its
	 * access like a user call would (KernelMode would accept kernel handles);
	 * the type rejects handles to anything but an event.
	 */
	status = ObReferenceObjectByHandle((HANDLE)(ULONG_PTR)reg->handle, EVENT_MODIFY_STATE, KMON_EVENT_TYPE,
					   irp->RequestorMode, (PVOID *)&event, NULL);
	if (!NT_SUCCESS(status))
		return status;
	swap_client_event(f, event);
	return STATUS_SUCCESS;
}

void kmon_client_event_release(struct kmon_file *f)
{
	swap_client_event(f, NULL);
}

NTSTATUS kmon_ioctl_unregister_event(PIRP irp, struct kmon_file *f, PVOID buf, ULONG in_len, ULONG out_len,
				     ULONG_PTR *information)
{
	UNREFERENCED_PARAMETER(irp);
	UNREFERENCED_PARAMETER(buf);
	UNREFERENCED_PARAMETER(in_len);
	UNREFERENCED_PARAMETER(out_len);
	UNREFERENCED_PARAMETER(information);
	kmon_client_event_release(f);
	return STATUS_SUCCESS;
}

void kmon_client_event_signal_all(void)
{
	PLIST_ENTRY e;
	KIRQL irql;

	KeAcquireSpinLock(&kmon.lock, &irql);
	for (e = kmon.files.Flink; e != &kmon.files; e = e->Flink) {
		struct kmon_file *f = CONTAINING_RECORD(e, struct kmon_file, link);

		if (f->client_event)
			KeSetEvent(f->client_event, IO_NO_INCREMENT, FALSE);
	}
	KeReleaseSpinLock(&kmon.lock, irql);
}

NTSTATUS kmon_ioctl_pull(PIRP irp, struct kmon_file *f, PVOID buf, ULONG in_len, ULONG out_len,
			 ULONG_PTR *information)
{
	KIRQL irql;

	UNREFERENCED_PARAMETER(irp);
	UNREFERENCED_PARAMETER(f);
	UNREFERENCED_PARAMETER(in_len);
	KeAcquireSpinLock(&kmon.lock, &irql);
	*information = kmon_ring_read(&kmon.ring, buf, out_len);
	KeReleaseSpinLock(&kmon.lock, irql);
	return STATUS_SUCCESS;
}
