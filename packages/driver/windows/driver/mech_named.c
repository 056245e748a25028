/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * Mechanism b: a driver-created named event (only SYSTEM and
 * Administrators may modify it; clients open it for SYNCHRONIZE only) plus the ring mapped read-only
 * into the client with an MDL. Mapping and unmapping happen in the owning
 * process: the IOCTL runs in the caller's context, the unmap in CLEANUP
 * (the last handle closes in its process) or attached to the owner.
 */
#include "kmon.h"
#include "security.h"

#ifndef MdlMappingNoWrite
#define MdlMappingNoWrite 0x80000000u   /* Windows 8+: the mapping is read-only */
#define MdlMappingNoExecute 0x40000000u
#endif

static HANDLE handle;
static PKEVENT event;

NTSTATUS kmon_named_init(void)
{
	UNICODE_STRING name = RTL_CONSTANT_STRING(KMON_EVENT_KERNEL_NAME);
	OBJECT_ATTRIBUTES oa;
	struct kmon_sd sd;
	/* Nobody but SYSTEM and Administrators can signal or reset it; clients open it for SYNCHRONIZE. */
	NTSTATUS status = kmon_sd_build(&sd, EVENT_ALL_ACCESS, EVENT_ALL_ACCESS);

	if (!NT_SUCCESS(status))
		return status;
	/* No OBJ_OPENIF: an event someone created first under our name is not ours to signal through. */
	InitializeObjectAttributes(&oa, &name, OBJ_KERNEL_HANDLE, NULL, &sd.sd);
	status = ZwCreateEvent(&handle, EVENT_ALL_ACCESS, &oa, SynchronizationEvent, FALSE);
	if (!NT_SUCCESS(status))
		return status;
	/* The KEVENT, for KeSetEvent at DISPATCH_LEVEL; our own kernel handle, hence KernelMode. */
	status = ObReferenceObjectByHandle(handle, EVENT_MODIFY_STATE, KMON_EVENT_TYPE, KernelMode, (PVOID *)&event,
					   NULL);
	if (!NT_SUCCESS(status))
		kmon_named_free();
	return status;
}

void kmon_named_free(void)
{
	if (event)
		ObDereferenceObject(event);
	if (handle)
		ZwClose(handle);
	event = NULL;
	handle = NULL;
}

void kmon_named_signal(void)
{
	if (event)
		KeSetEvent(event, IO_NO_INCREMENT, FALSE);
}

#ifdef KMON_HAVE_SEH
/* A user-mode mapping raises on failure instead of returning NULL. */
static PVOID map_into_current_process(void)
{
	PVOID va;

	__try {
		va = MmMapLockedPagesSpecifyCache(kmon.ring_mdl, UserMode, MmCached, NULL, FALSE,
						  NormalPagePriority | MdlMappingNoWrite | MdlMappingNoExecute);
	} __except (EXCEPTION_EXECUTE_HANDLER) {
		va = NULL;
	}
	return va;
}
#else
/* gcc has no __try: without a guard a failed user mapping would crash the system. */
static PVOID map_into_current_process(void)
{
	return NULL;
}
#endif

static void unmap(PVOID va, PEPROCESS owner)
{
	KAPC_STATE apc;
	BOOLEAN attach = owner != PsGetCurrentProcess();

	if (attach)
		KeStackAttachProcess((PKPROCESS)owner, &apc);
	MmUnmapLockedPages(va, kmon.ring_mdl);
	if (attach)
		KeUnstackDetachProcess(&apc);
	ObDereferenceObject(owner);
}

NTSTATUS kmon_ioctl_map_ring(struct kmon_ioctl *io)
{
	struct kmon_file *f = io->file;
	struct kmon_ring_map map;
	PEPROCESS me = PsGetCurrentProcess();
	PVOID va;
	BOOLEAN raced;
	KIRQL irql;

	if (!(kmon.mechanisms & KMON_MECH_MAPPED_RING))
		return STATUS_NOT_SUPPORTED;
	if (IoGetRequestorProcess(io->irp) != me)
		return STATUS_ACCESS_DENIED;
	va = map_into_current_process();
	if (!va)
		return STATUS_INSUFFICIENT_RESOURCES;
	ObReferenceObject(me);
	KeAcquireSpinLock(&kmon.lock, &irql);
	raced = f->map_address != NULL;
	if (!raced) {
		f->map_address = va;
		f->map_owner = me;
	}
	KeReleaseSpinLock(&kmon.lock, irql);
	if (raced) {
		unmap(va, me);
		return STATUS_ALREADY_REGISTERED;
	}
	RtlZeroMemory(&map, sizeof(map));
	map.address = (kmon_u64)(ULONG_PTR)va; /* a user address of the caller: no kernel pointer leaves */
	map.size = (kmon_u32)MmGetMdlByteCount(kmon.ring_mdl);
	RtlCopyMemory(io->buf, &map, sizeof(map));
	io->reply = sizeof(map);
	return STATUS_SUCCESS;
}

void kmon_named_unmap(struct kmon_file *f)
{
	PVOID va;
	PEPROCESS owner;
	KIRQL irql;

	KeAcquireSpinLock(&kmon.lock, &irql);
	va = f->map_address;
	owner = f->map_owner;
	f->map_address = NULL;
	f->map_owner = NULL;
	KeReleaseSpinLock(&kmon.lock, irql);
	if (va)
		unmap(va, owner);
}

NTSTATUS kmon_ioctl_unmap_ring(struct kmon_ioctl *io)
{
	kmon_named_unmap(io->file);
	return STATUS_SUCCESS;
}

NTSTATUS kmon_ioctl_consume(struct kmon_ioctl *io)
{
	const struct kmon_consume *c = io->buf;
	KIRQL irql;
	int bad;

	KeAcquireSpinLock(&kmon.lock, &irql);
	bad = !io->file->map_address || kmon_ring_consume_to(&kmon.ring, c->pos);
	KeReleaseSpinLock(&kmon.lock, irql);
	return bad ? STATUS_INVALID_PARAMETER : STATUS_SUCCESS;
}
