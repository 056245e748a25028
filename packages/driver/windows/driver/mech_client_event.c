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

NTSTATUS kmon_ioctl_register_event(struct kmon_ioctl *io)
{
	const struct kmon_event_reg *reg = io->buf;
	PKEVENT event;
	NTSTATUS status;

	/* A handle value only names an object in the process that sent it. */
	if (IoGetRequestorProcess(io->irp) != PsGetCurrentProcess())
		return STATUS_ACCESS_DENIED;
	/*
	 * The requestor's mode makes the object manager check the handle and its
	 * access like a user call would (KernelMode would accept kernel handles);
	 * the type rejects handles to anything but an event.
	 */
	status = ObReferenceObjectByHandle((HANDLE)(ULONG_PTR)reg->handle, EVENT_MODIFY_STATE, KMON_EVENT_TYPE,
					   io->irp->RequestorMode, (PVOID *)&event, NULL);
	if (!NT_SUCCESS(status))
		return status;
	swap_client_event(io->file, event);
	return STATUS_SUCCESS;
}

void kmon_client_event_release(struct kmon_file *f)
{
	swap_client_event(f, NULL);
}

NTSTATUS kmon_ioctl_unregister_event(struct kmon_ioctl *io)
{
	kmon_client_event_release(io->file);
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

NTSTATUS kmon_ioctl_pull(struct kmon_ioctl *io)
{
	KIRQL irql;

	KeAcquireSpinLock(&kmon.lock, &irql);
	io->reply = kmon_ring_read(&kmon.ring, io->buf, io->out_len);
	KeReleaseSpinLock(&kmon.lock, irql);
	return STATUS_SUCCESS;
}
