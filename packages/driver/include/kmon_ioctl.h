/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * kmon Windows driver interface: device names, IOCTL codes and the fixed
 * structures they carry. Shared by kmon.sys, kmonctl.exe and the Windows
 * backend of the Node addon. Needs no Windows header: codes are built with
 * the same bit layout as CTL_CODE.
 *
 * Records themselves are the ones of kmon_abi.h. Every record the driver
 * emits fits in KMON_WIN_RECORD_MAX bytes, so batch buffers (PULL, WAIT,
 * ReadFile) must be at least that large and then always make progress.
 *
 * Error contract (Win32 view): a wrong input size fails with
 * ERROR_INVALID_PARAMETER, an output buffer below the minimum fails with
 * ERROR_INSUFFICIENT_BUFFER and 0 bytes returned; an unknown code fails
 * with ERROR_INVALID_FUNCTION. Bytes returned never exceed the caller's
 * output length.
 */
#ifndef KMON_IOCTL_H
#define KMON_IOCTL_H

#include "kmon_abi.h"

#define KMON_IOCTL_VERSION 1

#define KMON_DEVICE_NAME L"\\Device\\KMon"
#define KMON_DOS_NAME L"\\DosDevices\\KMon"
#define KMON_USER_PATH L"\\\\.\\KMon"
/* Named event (mechanism b): the driver creates it, clients open it for SYNCHRONIZE. */
#define KMON_EVENT_KERNEL_NAME L"\\BaseNamedObjects\\KMonRecords"
#define KMON_EVENT_USER_NAME L"Global\\KMonRecords"

#define KMON_DEVICE_TYPE 0x8337u
#define KMON_METHOD_BUFFERED 0u
#define KMON_READ_ACCESS 1u   /* FILE_READ_DATA on the handle */
#define KMON_WRITE_ACCESS 2u  /* FILE_WRITE_DATA on the handle */
#define KMON_CTL(fn, access) \
	((KMON_DEVICE_TYPE << 16) | ((kmon_u32)(access) << 14) | ((kmon_u32)(fn) << 2) | KMON_METHOD_BUFFERED)

#define KMON_IOCTL_GET_INFO         KMON_CTL(0x800, KMON_READ_ACCESS)  /* out: kmon_info */
#define KMON_IOCTL_GET_STATS        KMON_CTL(0x801, KMON_READ_ACCESS)  /* out: kmon_cpu_stats */
#define KMON_IOCTL_SYNTH_START      KMON_CTL(0x802, KMON_WRITE_ACCESS) /* in: kmon_synth_config */
#define KMON_IOCTL_SYNTH_STOP       KMON_CTL(0x803, KMON_WRITE_ACCESS)
#define KMON_IOCTL_PULL             KMON_CTL(0x804, KMON_READ_ACCESS)  /* out: records, now (may be 0 bytes) */
#define KMON_IOCTL_WAIT             KMON_CTL(0x805, KMON_READ_ACCESS)  /* out: records, pends until >= 1 */
#define KMON_IOCTL_REGISTER_EVENT   KMON_CTL(0x806, KMON_READ_ACCESS)  /* in: kmon_event_reg */
#define KMON_IOCTL_UNREGISTER_EVENT KMON_CTL(0x807, KMON_READ_ACCESS)
#define KMON_IOCTL_MAP_RING         KMON_CTL(0x808, KMON_READ_ACCESS)  /* out: kmon_ring_map */
#define KMON_IOCTL_UNMAP_RING       KMON_CTL(0x809, KMON_READ_ACCESS)
#define KMON_IOCTL_CONSUME          KMON_CTL(0x80a, KMON_READ_ACCESS)  /* in: kmon_consume */

/* The largest record kmon.sys emits: exec with full path and the default argv cap. */
#define KMON_WIN_RECORD_MAX KMON_ALIGN_UP(sizeof(struct kmon_exec) + KMON_PATH_MAX + KMON_ARGV_DEFAULT)
#define KMON_BATCH_MIN KMON_WIN_RECORD_MAX

/* kmon_info.sources: event sources that registered at load. */
#define KMON_SRC_PROCESS (1u << 0)
#define KMON_SRC_IMAGE (1u << 1)
#define KMON_SRC_REGISTRY (1u << 2)
#define KMON_SRC_SYNTH (1u << 3)

/* kmon_info.mechanisms: notification mechanisms this build and this kernel offer. */
#define KMON_MECH_CLIENT_EVENT (1u << 0) /* a: REGISTER_EVENT + PULL */
#define KMON_MECH_NAMED_EVENT (1u << 1)  /* b: KMON_EVENT_USER_NAME */
#define KMON_MECH_MAPPED_RING (1u << 2)  /* b: MAP_RING + CONSUME (needs SEH: clang build only) */
#define KMON_MECH_PENDING (1u << 3)      /* c: WAIT */
#define KMON_MECH_READ (1u << 4)         /* d: ReadFile */

struct kmon_info {
	kmon_u32 abi_version;   /* KMON_ABI_VERSION */
	kmon_u32 ioctl_version; /* KMON_IOCTL_VERSION */
	kmon_u32 ring_size;     /* data bytes of the ring */
	kmon_u32 record_max;    /* KMON_WIN_RECORD_MAX */
	kmon_u32 sources;       /* KMON_SRC_* */
	kmon_u32 mechanisms;    /* KMON_MECH_* */
	kmon_u64 reserved;
};

struct kmon_synth_config {
	kmon_u32 period_ms;        /* timer period (the kernel timer's granularity), 1..KMON_SYNTH_PERIOD_MAX_MS */
	kmon_u32 records_per_tick; /* 1..KMON_SYNTH_BURST_MAX */
	kmon_u32 payload_len;      /* 0..KMON_PAYLOAD_MAX; byte i of the payload is (value + i) & 0xff */
	kmon_u32 reserved;         /* must be 0 */
	kmon_u64 count;            /* records to emit in total, 0 = until SYNTH_STOP */
};
#define KMON_SYNTH_PERIOD_MAX_MS 60000u
#define KMON_SYNTH_BURST_MAX 4096u

struct kmon_event_reg {
	kmon_u64 handle; /* event handle of the calling process, EVENT_MODIFY_STATE access */
};

/*
 * Mapped ring (mechanism b). The mapping is read-only. Its first page is a
 * kmon_ring_header; records start at data_offset. head and tail are byte
 * positions that only grow; a record at position p starts at
 * data_offset + p % data_size and never wraps: a record of kind 0 (pad)
 * fills the end of the data area instead. A reader copies records from its
 * position up to head, then re-reads tail: if tail moved past its position
 * another consumer reclaimed the space and the copies are void. CONSUME
 * tells the driver how far the reader got.
 */
#define KMON_RING_MAGIC 0x474e524bu /* "KRNG" */
#define KMON_KIND_PAD 0

struct kmon_ring_header {
	kmon_u32 magic;
	kmon_u32 data_offset;
	kmon_u32 data_size;
	kmon_u32 reserved;
	kmon_u64 head; /* written by the driver after the record bytes (release) */
	kmon_u64 tail;
};

struct kmon_ring_map {
	kmon_u64 address; /* user address of the kmon_ring_header in the calling process */
	kmon_u32 size;    /* mapped bytes */
	kmon_u32 reserved;
};

struct kmon_consume {
	kmon_u64 pos; /* new tail: a record boundary between tail and head */
};

KMON_PIN_SIZE(kmon_info, 32);
KMON_PIN_SIZE(kmon_synth_config, 24);
KMON_PIN_SIZE(kmon_event_reg, 8);
KMON_PIN_SIZE(kmon_ring_header, 32);
KMON_PIN_SIZE(kmon_ring_map, 16);
KMON_PIN_SIZE(kmon_consume, 8);

#endif /* KMON_IOCTL_H */
