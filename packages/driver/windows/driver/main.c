/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/* DriverEntry and unload: the device, its security, and every source's lifetime. */
#include "kmon.h"
#include "security.h"

struct kmon_state kmon;
static BOOLEAN link_created;

/* Undoes whatever DriverEntry got done, in reverse; also the unload routine's body. */
static void teardown(void)
{
	UNICODE_STRING link = RTL_CONSTANT_STRING(KMON_DOS_NAME);

	/* Sources first: once these return no callback, timer or DPC of ours runs. */
	kmon_registry_free();
	kmon_image_free();
	kmon_process_free();
	kmon_synth_free();
	kmon_irpq_cancel_file(&kmon.pending, NULL);
	kmon_named_free();
	if (link_created)
		IoDeleteSymbolicLink(&link);
	link_created = FALSE;
	if (kmon.device)
		IoDeleteDevice(kmon.device);
	kmon.device = NULL;
	kmon_emit_free();
}

static void NTAPI unload(PDRIVER_OBJECT driver)
{
	UNREFERENCED_PARAMETER(driver);
	teardown();
}

static NTSTATUS create_device(PDRIVER_OBJECT driver)
{
	UNICODE_STRING name = RTL_CONSTANT_STRING(KMON_DEVICE_NAME);
	UNICODE_STRING link = RTL_CONSTANT_STRING(KMON_DOS_NAME);
	struct kmon_sd sd;
	NTSTATUS status;

	/* FILE_DEVICE_SECURE_OPEN: the DACL also guards opens of \Device\KMon\anything. */
	status = IoCreateDevice(driver, 0, &name, KMON_DEVICE_TYPE, FILE_DEVICE_SECURE_OPEN, FALSE, &kmon.device);
	if (!NT_SUCCESS(status))
		return status;
	kmon.device->Flags |= DO_DIRECT_IO; /* ReadFile: the buffer arrives as an MDL */
	status = kmon_sd_build(&sd, FILE_ALL_ACCESS, FILE_ALL_ACCESS);
	if (NT_SUCCESS(status))
		status = kmon_sd_apply(kmon.device, &sd);
	if (!NT_SUCCESS(status))
		return status;
	status = IoCreateSymbolicLink(&link, &name);
	link_created = NT_SUCCESS(status);
	return status;
}

static void init_mechanisms(void)
{
	kmon.mechanisms = KMON_MECH_CLIENT_EVENT | KMON_MECH_PENDING | KMON_MECH_READ;
	/* The event is made now, not at boot: a demand-start driver finds \BaseNamedObjects in place. */
	if (NT_SUCCESS(kmon_named_init()))
		kmon.mechanisms |= KMON_MECH_NAMED_EVENT;
#ifdef KMON_HAVE_SEH
	kmon.mechanisms |= KMON_MECH_MAPPED_RING;
#endif
}

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT driver, PUNICODE_STRING registry_path)
{
	NTSTATUS status;

	UNREFERENCED_PARAMETER(registry_path);
	KeInitializeSpinLock(&kmon.lock);
	InitializeListHead(&kmon.files);
	kmon_irpq_init(&kmon.pending, &kmon.lock);
	kmon_dispatch_init(driver);
	driver->DriverUnload = unload;

	status = kmon_emit_init();
	if (NT_SUCCESS(status))
		status = create_device(driver);
	if (!NT_SUCCESS(status)) {
		teardown();
		return status;
	}
	init_mechanisms();
	kmon_synth_init();
	kmon_process_init();
	kmon_image_init();
	kmon_registry_init(driver);
	kmon.device->Flags &= ~DO_DEVICE_INITIALIZING;
	return STATUS_SUCCESS;
}
