/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/* kmon.sys internals shared between its source files. */
#ifndef KMON_DRV_H
#define KMON_DRV_H

#include <ntifs.h>

#include "kmon_ioctl.h"
#include "kmon_record.h"
#include "kmon_ring.h"
#include "irpq.h"

#define KMON_POOL_TAG 0x6e6f6d4bu /* "Kmon" in pool dumps */
#define KMON_RING_BYTES (1024u * 1024u) /* mapped to clients: whole pages */

/* Per open handle, in FileObject->FsContext. */
struct kmon_file {
	LIST_ENTRY link;          /* in kmon_state.files, under kmon_state.lock */
	PFILE_OBJECT file;
	PKEVENT client_event;     /* mechanism a, referenced */
	PVOID map_address;        /* mechanism b, user address in map_owner */
	PEPROCESS map_owner;      /* referenced while mapped */
};

struct kmon_state {
	PDEVICE_OBJECT device;
	KSPIN_LOCK lock;          /* ring, stats, files list, pending IRPs */
	struct kmon_ring ring;
	PVOID ring_mem;
	PMDL ring_mdl;
	struct kmon_cpu_stats stats;
	kmon_u64 *seq;            /* [cpu * KMON_KIND_COUNT + kind]: next sequence number of that kind there */
	kmon_u32 cpus;            /* CPUs the machine can have: rows of seq */
	struct kmon_irpq pending; /* WAIT IOCTLs and reads, FIFO */
	LIST_ENTRY files;
	kmon_u32 sources;         /* KMON_SRC_* that registered */
	kmon_u32 mechanisms;      /* KMON_MECH_* available */
};

extern struct kmon_state kmon;

/*
 * The event object type. mingw-w64 declares ExEventObjectType dllimport as a
 * POBJECT_TYPE *, so reading it already goes through the import slot and
 * yields the kernel's POBJECT_TYPE; the usual *ExEventObjectType would
 * dereference once more and pass the type object's first field as the type
 * (Wine faults on it; Windows would reject every handle).
 */
#define KMON_EVENT_TYPE ((POBJECT_TYPE)ExEventObjectType)

DRIVER_INITIALIZE DriverEntry;

/* emit.c */
NTSTATUS kmon_emit_init(void);
void kmon_emit_free(void);
kmon_u64 kmon_now_ns(void);
/* body starts with a kmon_header whose kind, tgid and tid are set; fields follow it. */
void kmon_emit(void *body, kmon_u32 body_size, struct kmon_field *f, unsigned n);
void kmon_string_field(struct kmon_field *f, enum kmon_field_kind kind, PCUNICODE_STRING s, kmon_u32 cap,
		       kmon_u16 *len_slot);
/* After a burst of kmon_emit: wake every waiting client. IRQL <= DISPATCH_LEVEL. */
void kmon_notify(void);

/* dispatch.c */
void kmon_dispatch_init(PDRIVER_OBJECT driver);
void kmon_complete(PIRP irp, NTSTATUS status, ULONG_PTR information);
PFILE_OBJECT kmon_irp_file(PIRP irp);

/*
 * One IOCTL as its handler sees it, its buffer sizes already checked against
 * kmon_ioctl_rules (so the input length is the rule's, never looked at again).
 */
struct kmon_ioctl {
	PIRP irp;
	struct kmon_file *file;
	PVOID buf;       /* METHOD_BUFFERED system buffer: the input, then the reply */
	ULONG out_len;   /* room for the reply */
	ULONG_PTR reply; /* bytes of reply written (set by the handler) */
};
typedef NTSTATUS kmon_ioctl_fn(struct kmon_ioctl *io);

/* mech_client_event.c: mechanism a */
kmon_ioctl_fn kmon_ioctl_register_event, kmon_ioctl_unregister_event, kmon_ioctl_pull;
void kmon_client_event_release(struct kmon_file *f);
void kmon_client_event_signal_all(void);

/* mech_named.c: mechanism b */
NTSTATUS kmon_named_init(void);
void kmon_named_free(void);
void kmon_named_signal(void);
kmon_ioctl_fn kmon_ioctl_map_ring, kmon_ioctl_unmap_ring, kmon_ioctl_consume;
void kmon_named_unmap(struct kmon_file *f);

/* mech_pending.c: mechanisms c and d */
kmon_ioctl_fn kmon_ioctl_wait;
NTSTATUS kmon_dispatch_read(PDEVICE_OBJECT dev, PIRP irp);
void kmon_pending_deliver(void);

/* sources */
void kmon_synth_init(void);
void kmon_synth_free(void);
kmon_ioctl_fn kmon_ioctl_synth_start, kmon_ioctl_synth_stop;
void kmon_process_init(void);
void kmon_process_free(void);
void kmon_image_init(void);
void kmon_image_free(void);
void kmon_registry_init(PDRIVER_OBJECT driver);
void kmon_registry_free(void);

#endif /* KMON_DRV_H */
