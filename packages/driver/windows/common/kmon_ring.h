/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * The driver's one ring of records: portable C, no kernel or libc calls
 * except memcpy, so the same code runs in kmon.sys and in the native
 * sanitizer tests and fuzzer. The caller serialises every call (the driver
 * holds its spinlock). The layout seen by mapped readers is described in
 * kmon_ioctl.h; head and tail kept here are the truth, the shared header is
 * only ever written, so a client that scribbles on it cannot steer the driver.
 */
#ifndef KMON_RING_H
#define KMON_RING_H

#include "kmon_ioctl.h"

struct kmon_ring {
	struct kmon_ring_header *shared; /* published positions for mapped readers */
	kmon_u8 *data;
	kmon_u32 size;                   /* data bytes, a multiple of KMON_RECORD_ALIGN */
	kmon_u64 head;                   /* next byte to write */
	kmon_u64 tail;                   /* next byte to read */
	kmon_u64 corrupt;                /* times a bad record size forced a reset */
};

/* mem: mem_size bytes, header first, data from data_offset. 0 on success. */
int kmon_ring_init(struct kmon_ring *r, void *mem, kmon_u32 mem_size, kmon_u32 data_offset);

/*
 * Room for one record of `size` bytes (aligned, > 0) or NULL if full. The
 * bytes become visible to readers only at kmon_ring_publish.
 */
void *kmon_ring_reserve(struct kmon_ring *r, kmon_u32 size);
void kmon_ring_publish(struct kmon_ring *r);

/* Copies whole records (pads skipped) into dst, at most cap bytes; frees them. */
kmon_u32 kmon_ring_read(struct kmon_ring *r, void *dst, kmon_u32 cap);

/* Frees up to pos if pos is a record boundary in [tail, head]; 0 on success. */
int kmon_ring_consume_to(struct kmon_ring *r, kmon_u64 pos);

int kmon_ring_empty(const struct kmon_ring *r);

#endif /* KMON_RING_H */
