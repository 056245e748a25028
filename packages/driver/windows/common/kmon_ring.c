/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
#include "kmon_ring.h"

#include "kmon_frame.h"

#include <string.h>

#define PAD_HEADER_BYTES 8u /* abi_version, kind, size: all a pad needs */

/* Mapped readers load head with acquire; this store orders the record bytes before it. */
static void store_release(kmon_u64 *p, kmon_u64 v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

int kmon_ring_init(struct kmon_ring *r, void *mem, kmon_u32 mem_size, kmon_u32 data_offset)
{
	kmon_u32 size;

	if (data_offset < sizeof(struct kmon_ring_header) || data_offset % KMON_RECORD_ALIGN ||
	    mem_size <= data_offset)
		return -1;
	size = (mem_size - data_offset) & ~(kmon_u32)(KMON_RECORD_ALIGN - 1);
	if (size < KMON_WIN_RECORD_MAX)
		return -1;
	memset(mem, 0, data_offset);
	r->shared = mem;
	r->data = (kmon_u8 *)mem + data_offset;
	r->size = size;
	r->head = r->tail = r->corrupt = 0;
	r->shared->magic = KMON_RING_MAGIC;
	r->shared->data_offset = data_offset;
	r->shared->data_size = size;
	return 0;
}

static kmon_u32 offset_of(const struct kmon_ring *r, kmon_u64 pos)
{
	return (kmon_u32)(pos % r->size);
}

static void write_pad(kmon_u8 *at, kmon_u32 size)
{
	struct kmon_header pad;

	memset(&pad, 0, sizeof(pad));
	pad.abi_version = KMON_ABI_VERSION;
	pad.kind = KMON_KIND_PAD;
	pad.size = size;
	memcpy(at, &pad, PAD_HEADER_BYTES);
}

void *kmon_ring_reserve(struct kmon_ring *r, kmon_u32 size)
{
	kmon_u32 off = offset_of(r, r->head);
	kmon_u32 to_end = r->size - off;
	kmon_u64 free_bytes = r->size - (r->head - r->tail);
	kmon_u32 pad = size > to_end ? to_end : 0; /* records never wrap */

	if (size == 0 || size % KMON_RECORD_ALIGN || size > r->size || (kmon_u64)size + pad > free_bytes)
		return 0;
	if (pad) {
		write_pad(r->data + off, pad);
		r->head += pad;
		off = 0;
	}
	r->head += size;
	return r->data + off;
}

void kmon_ring_publish(struct kmon_ring *r)
{
	store_release(&r->shared->head, r->head);
}

/* Size of the record (or pad) at pos, or 0 if what is there cannot be one. */
static kmon_u32 record_size_at(const struct kmon_ring *r, kmon_u64 pos)
{
	kmon_u32 off = offset_of(r, pos);
	kmon_u64 left = r->head - pos < r->size - off ? r->head - pos : r->size - off;
	struct kmon_header h;

	memcpy(&h, r->data + off, PAD_HEADER_BYTES);
	if (h.kind == KMON_KIND_PAD)
		return h.size >= PAD_HEADER_BYTES && h.size % KMON_RECORD_ALIGN == 0 && h.size <= left ? h.size : 0;
	return kmon_frame_check(r->data + off, (size_t)left).verdict == KMON_FRAME_STOP ? 0 : h.size;
}

static int is_pad(const struct kmon_ring *r, kmon_u64 pos)
{
	struct kmon_header h;

	memcpy(&h, r->data + offset_of(r, pos), PAD_HEADER_BYTES);
	return h.kind == KMON_KIND_PAD;
}

/* The driver wrote every byte, so a bad size means memory was overwritten: drop it all. */
static void reset_corrupt(struct kmon_ring *r)
{
	r->tail = r->head;
	r->corrupt++;
}

kmon_u32 kmon_ring_read(struct kmon_ring *r, void *dst, kmon_u32 cap)
{
	kmon_u32 copied = 0;

	while (r->tail != r->head) {
		kmon_u32 size = record_size_at(r, r->tail);

		if (!size) {
			reset_corrupt(r);
			break;
		}
		if (!is_pad(r, r->tail)) {
			if (size > cap - copied)
				break;
			memcpy((kmon_u8 *)dst + copied, r->data + offset_of(r, r->tail), size);
			copied += size;
		}
		r->tail += size;
	}
	store_release(&r->shared->tail, r->tail);
	return copied;
}

int kmon_ring_consume_to(struct kmon_ring *r, kmon_u64 pos)
{
	kmon_u64 at = r->tail;

	if (pos < r->tail || pos > r->head)
		return -1;
	while (at < pos) {
		kmon_u32 size = record_size_at(r, at);

		if (!size) {
			reset_corrupt(r);
			store_release(&r->shared->tail, r->tail);
			return -1;
		}
		at += size;
	}
	if (at != pos)
		return -1;
	r->tail = pos;
	store_release(&r->shared->tail, r->tail);
	return 0;
}

int kmon_ring_empty(const struct kmon_ring *r)
{
	return r->tail == r->head;
}
