/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/* Open, close and IOCTL routing. Buffer sizes are judged once, by kmon_ioctl_rules. */
#include "kmon.h"
#include "kmon_ioctl_rules.h"

void kmon_complete(PIRP irp, NTSTATUS status, ULONG_PTR information)
{
	irp->IoStatus.Status = status;
	irp->IoStatus.Information = information;
	IoCompleteRequest(irp, IO_NO_INCREMENT);
}

PFILE_OBJECT kmon_irp_file(PIRP irp)
{
	return IoGetCurrentIrpStackLocation(irp)->FileObject;
}

static struct kmon_file *file_context(PIRP irp)
{
	return kmon_irp_file(irp)->FsContext;
}

static NTSTATUS dispatch_create(PDEVICE_OBJECT dev, PIRP irp)
{
	struct kmon_file *f = ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(*f), KMON_POOL_TAG);
	KIRQL irql;

	UNREFERENCED_PARAMETER(dev);
	if (!f) {
		kmon_complete(irp, STATUS_INSUFFICIENT_RESOURCES, 0);
		return STATUS_INSUFFICIENT_RESOURCES;
	}
	RtlZeroMemory(f, sizeof(*f));
	f->file = kmon_irp_file(irp);
	f->file->FsContext = f;
	KeAcquireSpinLock(&kmon.lock, &irql);
	InsertTailList(&kmon.files, &f->link);
	KeReleaseSpinLock(&kmon.lock, irql);
	kmon_complete(irp, STATUS_SUCCESS, 0);
	return STATUS_SUCCESS;
}

/* Everything a handle holds; runs on CLEANUP (owner's context) and again, harmlessly, on CLOSE. */
static void release_file(struct kmon_file *f)
{
	kmon_irpq_cancel_file(&kmon.pending, f->file);
	kmon_client_event_release(f);
	kmon_named_unmap(f);
}

static NTSTATUS dispatch_cleanup(PDEVICE_OBJECT dev, PIRP irp)
{
	UNREFERENCED_PARAMETER(dev);
	release_file(file_context(irp));
	kmon_complete(irp, STATUS_SUCCESS, 0);
	return STATUS_SUCCESS;
}

/* Wine sends CLOSE without CLEANUP, even with IRPs pending: release here too. */
static NTSTATUS dispatch_close(PDEVICE_OBJECT dev, PIRP irp)
{
	struct kmon_file *f = file_context(irp);
	KIRQL irql;

	UNREFERENCED_PARAMETER(dev);
	release_file(f);
	KeAcquireSpinLock(&kmon.lock, &irql);
	RemoveEntryList(&f->link);
	KeReleaseSpinLock(&kmon.lock, irql);
	ExFreePoolWithTag(f, KMON_POOL_TAG);
	kmon_complete(irp, STATUS_SUCCESS, 0);
	return STATUS_SUCCESS;
}

static NTSTATUS ioctl_get_info(struct kmon_ioctl *io)
{
	struct kmon_info info;

	RtlZeroMemory(&info, sizeof(info));
	info.abi_version = KMON_ABI_VERSION;
	info.ioctl_version = KMON_IOCTL_VERSION;
	info.ring_size = kmon.ring.size;
	info.record_max = KMON_WIN_RECORD_MAX;
	info.sources = kmon.sources;
	info.mechanisms = kmon.mechanisms;
	RtlCopyMemory(io->buf, &info, sizeof(info));
	io->reply = sizeof(info);
	return STATUS_SUCCESS;
}

static NTSTATUS ioctl_get_stats(struct kmon_ioctl *io)
{
	KIRQL irql;

	KeAcquireSpinLock(&kmon.lock, &irql);
	RtlCopyMemory(io->buf, &kmon.stats, sizeof(kmon.stats));
	KeReleaseSpinLock(&kmon.lock, irql);
	io->reply = sizeof(kmon.stats);
	return STATUS_SUCCESS;
}

static const struct {
	kmon_u32 code;
	kmon_ioctl_fn *fn;
} handlers[] = {
	{ KMON_IOCTL_GET_INFO, ioctl_get_info },
	{ KMON_IOCTL_GET_STATS, ioctl_get_stats },
	{ KMON_IOCTL_SYNTH_START, kmon_ioctl_synth_start },
	{ KMON_IOCTL_SYNTH_STOP, kmon_ioctl_synth_stop },
	{ KMON_IOCTL_PULL, kmon_ioctl_pull },
	{ KMON_IOCTL_WAIT, kmon_ioctl_wait },
	{ KMON_IOCTL_REGISTER_EVENT, kmon_ioctl_register_event },
	{ KMON_IOCTL_UNREGISTER_EVENT, kmon_ioctl_unregister_event },
	{ KMON_IOCTL_MAP_RING, kmon_ioctl_map_ring },
	{ KMON_IOCTL_UNMAP_RING, kmon_ioctl_unmap_ring },
	{ KMON_IOCTL_CONSUME, kmon_ioctl_consume },
};

static kmon_ioctl_fn *find_handler(kmon_u32 code)
{
	unsigned i;

	for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (handlers[i].code == code)
			return handlers[i].fn;
	return NULL;
}

static NTSTATUS verdict_status(enum kmon_ioctl_verdict v)
{
	switch (v) {
	case KMON_IOCTL_OK:
		return STATUS_SUCCESS;
	case KMON_IOCTL_BAD_INPUT:
		return STATUS_INVALID_PARAMETER;
	case KMON_IOCTL_SMALL_OUTPUT:
		return STATUS_BUFFER_TOO_SMALL;
	case KMON_IOCTL_UNKNOWN:
		break;
	}
	return STATUS_INVALID_DEVICE_REQUEST;
}

static NTSTATUS dispatch_ioctl(PDEVICE_OBJECT dev, PIRP irp)
{
	PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(irp);
	ULONG code = sp->Parameters.DeviceIoControl.IoControlCode;
	struct kmon_ioctl io = { irp, file_context(irp), irp->AssociatedIrp.SystemBuffer,
				 sp->Parameters.DeviceIoControl.OutputBufferLength, 0 };
	NTSTATUS status = verdict_status(
		kmon_ioctl_check(code, sp->Parameters.DeviceIoControl.InputBufferLength, io.out_len));
	kmon_ioctl_fn *fn = find_handler(code);

	UNREFERENCED_PARAMETER(dev);
	if (NT_SUCCESS(status) && fn)
		status = fn(&io);
	else if (NT_SUCCESS(status))
		status = STATUS_INVALID_DEVICE_REQUEST;
	if (status == STATUS_PENDING)
		return status;
	kmon_complete(irp, status, NT_SUCCESS(status) ? kmon_ioctl_reply_len((kmon_u32)io.reply, io.out_len) : 0);
	return status;
}

static NTSTATUS dispatch_unsupported(PDEVICE_OBJECT dev, PIRP irp)
{
	UNREFERENCED_PARAMETER(dev);
	kmon_complete(irp, STATUS_INVALID_DEVICE_REQUEST, 0);
	return STATUS_INVALID_DEVICE_REQUEST;
}

void kmon_dispatch_init(PDRIVER_OBJECT driver)
{
	unsigned i;

	for (i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++)
		driver->MajorFunction[i] = dispatch_unsupported;
	driver->MajorFunction[IRP_MJ_CREATE] = dispatch_create;
	driver->MajorFunction[IRP_MJ_CLEANUP] = dispatch_cleanup;
	driver->MajorFunction[IRP_MJ_CLOSE] = dispatch_close;
	driver->MajorFunction[IRP_MJ_DEVICE_CONTROL] = dispatch_ioctl;
	driver->MajorFunction[IRP_MJ_READ] = kmon_dispatch_read;
}
