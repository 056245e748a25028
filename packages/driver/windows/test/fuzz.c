/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * libFuzzer target for the driver's portable code, under ASan and UBSan.
 * The first byte picks the target:
 *   0  ring operations checked against a FIFO model of what was pushed
 *   1  ring operations with arbitrary corruption of the ring's memory
 *      (as a writable mapping could cause): must stay in bounds
 *   2  record encoding of arbitrary strings with arbitrary caps
 *   3  framing of arbitrary batches: every verdict stays inside the batch
 *   4  IOCTL size rules
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kmon_frame.h"
#include "kmon_ioctl_rules.h"
#include "kmon_record.h"
#include "kmon_ring.h"

#define RING_MEM (4096 + 2 * KMON_WIN_RECORD_MAX)
#define MODEL_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *p;
	size_t n;
};

static unsigned take(struct input *in, unsigned bytes)
{
	unsigned v = 0;

	while (bytes-- && in->n) {
		v = v << 8 | *in->p++;
		in->n--;
	}
	return v;
}

/*
 * What a ring read hands out frames whole, back to back, no pad among it;
 * records as they were written unless the ring's memory was scribbled on.
 */
static void check_records(const kmon_u8 *out, kmon_u32 n, kmon_u32 cap, int corrupt)
{
	kmon_u32 at = 0;

	if (n > cap)
		abort();
	while (at < n) {
		struct kmon_frame f = kmon_frame_check(out + at, n - at);
		kmon_u16 kind;

		memcpy(&kind, out + at + 2, sizeof(kind));
		if (f.verdict == KMON_FRAME_STOP || kind == KMON_KIND_PAD || (!corrupt && f.verdict != KMON_FRAME_RECORD))
			abort();
		at += f.size;
	}
}

/* Records (pads excluded) between tail and head of an uncorrupted ring. */
static unsigned records_left(const struct kmon_ring *r)
{
	unsigned n = 0;
	kmon_u64 pos;

	for (pos = r->tail; pos < r->head; pos += ((const struct kmon_header *)(r->data + pos % r->size))->size)
		n += ((const struct kmon_header *)(r->data + pos % r->size))->kind != KMON_KIND_PAD;
	return n;
}

static void fuzz_ring(struct input *in, int corrupt)
{
	static kmon_u8 mem[RING_MEM], out[RING_MEM];
	static kmon_u64 model[MODEL_MAX]; /* sizes pushed and not yet read, FIFO */
	unsigned head = 0, tail = 0;
	struct kmon_ring r;
	kmon_u64 tag = 0;

	if (kmon_ring_init(&r, mem, sizeof(mem), 4096))
		abort();
	while (in->n) {
		unsigned op = take(in, 1);
		kmon_u32 size = (take(in, 2) % (KMON_WIN_RECORD_MAX / 8) + 8) * 8; /* >= a synthetic body */
		kmon_u32 cap = take(in, 2) * 2;
		struct kmon_header *h;
		kmon_u32 n, at;

		switch (op % 4) {
		case 0:
			h = kmon_ring_reserve(&r, size);
			if (h && head - tail < MODEL_MAX) {
				memset(h, 0, size);
				h->abi_version = KMON_ABI_VERSION;
				h->kind = KMON_KIND_SYNTH;
				h->size = size;
				h->seq = tag++;
				kmon_ring_publish(&r);
				model[head++ % MODEL_MAX] = size;
			} else if (h) {
				return; /* model full: stop here */
			}
			break;
		case 1:
			n = kmon_ring_read(&r, out, cap);
			check_records(out, n, cap, corrupt);
			for (at = 0; !corrupt && at < n; at += ((struct kmon_header *)(out + at))->size)
				if (tail == head || model[tail++ % MODEL_MAX] != ((struct kmon_header *)(out + at))->size)
					abort();
			break;
		case 2:
			/* Consume to an arbitrary position: accepted only on a record boundary. */
			if (!kmon_ring_consume_to(&r, r.tail + cap) && !corrupt)
				tail = head - records_left(&r);
			break;
		case 3:
			if (corrupt)
				memset(r.data + take(in, 3) % (r.size - 16), (int)take(in, 1), take(in, 1) % 16);
			break;
		}
		if (r.head - r.tail > r.size || r.tail > r.head)
			abort();
	}
}

static void fuzz_record(struct input *in)
{
	struct kmon_field f[3];
	kmon_u8 body[48];
	kmon_u32 flags = 0, size, at = sizeof(body), i;
	kmon_u16 lens[3];
	kmon_u8 *rec;

	memset(body, 0x5a, sizeof(body));
	memset(f, 0, sizeof(f));
	for (i = 0; i < 3; i++) {
		kmon_u32 len;

		f[i].kind = (enum kmon_field_kind)(take(in, 1) % 4);
		f[i].cap = take(in, 2) % (KMON_ARGV_MAX + 1);
		len = take(in, 2) % (in->n + 1); /* last: bounded by what is left */
		f[i].src = in->p;
		f[i].src_len = len;
		f[i].seed = len;
		f[i].len_slot = &lens[i];
		in->p += len;
		in->n -= len;
	}
	size = kmon_record_measure(sizeof(body), f, 3, &flags);
	if (!size || size % KMON_RECORD_ALIGN)
		abort();
	rec = malloc(size); /* exactly: ASan catches a single byte more */
	kmon_record_write(rec, size, body, sizeof(body), f, 3);
	for (i = 0; i < 3; i++) {
		if (f[i].out_len > f[i].cap || lens[i] != f[i].out_len)
			abort();
		at += f[i].out_len;
	}
	if (KMON_ALIGN_UP(at) != size || memcmp(rec, body, sizeof(body)))
		abort();
	for (; at < size; at++)
		if (rec[at])
			abort();
	free(rec);
}

static void fuzz_rules(struct input *in)
{
	while (in->n >= 9) {
		kmon_u32 code = (kmon_u32)take(in, 1) % (kmon_ioctl_rule_count + 1);
		kmon_u32 in_len = take(in, 4), out_len = take(in, 4);
		const struct kmon_ioctl_rule *r = code < kmon_ioctl_rule_count ? &kmon_ioctl_rules[code] : NULL;
		enum kmon_ioctl_verdict v = kmon_ioctl_check(r ? r->code : KMON_CTL(0x8ff, 0), in_len, out_len);

		if (!r ? v != KMON_IOCTL_UNKNOWN
		       : (v == KMON_IOCTL_OK) != (in_len == r->in_len && out_len >= r->out_min))
			abort();
		if (kmon_ioctl_reply_len(in_len, out_len) > out_len)
			abort();
	}
}

static void fuzz_frame(struct input *in)
{
	kmon_u8 *batch = malloc(in->n ? in->n : 1); /* exactly: ASan catches a read one byte past it */
	size_t at = 0;

	memcpy(batch, in->p, in->n);
	while (at < in->n) {
		struct kmon_frame f = kmon_frame_check(batch + at, in->n - at);
		kmon_u16 kind;

		if (f.verdict == KMON_FRAME_STOP)
			break;
		memcpy(&kind, batch + at + 2, sizeof(kind));
		if (f.size < sizeof(struct kmon_header) || f.size % KMON_RECORD_ALIGN || f.size > in->n - at ||
		    (f.verdict == KMON_FRAME_RECORD && (f.used > f.size || !kmon_frame_kind_name(kind))))
			abort();
		at += f.size;
	}
	free(batch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };

	switch (take(&in, 1) % 5) {
	case 0:
		fuzz_ring(&in, 0);
		break;
	case 1:
		fuzz_ring(&in, 1);
		break;
	case 2:
		fuzz_record(&in);
		break;
	case 3:
		fuzz_frame(&in);
		break;
	default:
		fuzz_rules(&in);
		break;
	}
	return 0;
}
