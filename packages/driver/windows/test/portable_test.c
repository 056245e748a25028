/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * Native tests of the driver's portable code (ring, record encoding, IOCTL
 * size rules, framing), built with AddressSanitizer and UBSan by the Makefile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmon_frame.h"
#include "kmon_ioctl_rules.h"
#include "kmon_record.h"
#include "kmon_ring.h"

static int failures, checks;

#define CHECK(cond)                                                              \
	do {                                                                     \
		checks++;                                                        \
		if (!(cond)) {                                                   \
			failures++;                                              \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
		}                                                                \
	} while (0)

#define RING_MEM (4096 + 4 * KMON_WIN_RECORD_MAX)

/* A synthetic record of `size` bytes (>= its 64-byte body) tagged with `tag` (in hdr.seq). */
static int push(struct kmon_ring *r, kmon_u32 size, kmon_u64 tag)
{
	struct kmon_header *h = kmon_ring_reserve(r, size);

	if (!h)
		return 0;
	memset(h, 0, size);
	h->abi_version = KMON_ABI_VERSION;
	h->kind = KMON_KIND_SYNTH;
	h->size = size;
	h->seq = tag;
	kmon_ring_publish(r);
	return 1;
}

static void test_ring_basics(void)
{
	static kmon_u8 mem[RING_MEM];
	static kmon_u8 out[RING_MEM];
	struct kmon_ring r;
	struct kmon_header *h;
	kmon_u32 n;

	CHECK(kmon_ring_init(&r, mem, 4096 + 64, 4096) != 0); /* too small for one record */
	CHECK(kmon_ring_init(&r, mem, sizeof(mem), 12) != 0); /* misaligned data */
	CHECK(kmon_ring_init(&r, mem, sizeof(mem), 4096) == 0);
	CHECK(r.shared->magic == KMON_RING_MAGIC && r.shared->data_size == r.size);
	CHECK(kmon_ring_empty(&r));
	CHECK(kmon_ring_reserve(&r, 0) == NULL);
	CHECK(kmon_ring_reserve(&r, 52) == NULL); /* unaligned */
	CHECK(kmon_ring_reserve(&r, r.size + 8) == NULL);
	CHECK(push(&r, 64, 1) && push(&r, 128, 2));
	CHECK(r.shared->head == 192);
	/* A buffer too small for the first record gets nothing and loses nothing. */
	CHECK(kmon_ring_read(&r, out, 63) == 0 && r.tail == 0);
	n = kmon_ring_read(&r, out, 100);
	h = (struct kmon_header *)out;
	CHECK(n == 64 && h->seq == 1 && r.tail == 64);
	n = kmon_ring_read(&r, out, sizeof(out));
	CHECK(n == 128 && h->seq == 2 && kmon_ring_empty(&r) && r.shared->tail == 192);
}

static void test_ring_wrap_and_full(void)
{
	static kmon_u8 mem[RING_MEM];
	static kmon_u8 out[RING_MEM];
	struct kmon_ring r;
	kmon_u64 tag = 0, expect = 0;
	kmon_u32 i, n, at;
	int round;

	kmon_ring_init(&r, mem, sizeof(mem), 4096);
	for (round = 0; round < 50; round++) {
		kmon_u32 size = 64 + 8 * (kmon_u32)((round * 37) % 900);

		while (push(&r, size, tag))
			tag++;
		CHECK(r.head - r.tail <= r.size);
		CHECK(r.size - (r.head - r.tail) < 2 * size); /* full means no room for one more, pad included */
		n = kmon_ring_read(&r, out, (kmon_u32)(sizeof(out) / 3));
		for (at = 0; at < n; at += ((struct kmon_header *)(out + at))->size) {
			struct kmon_header *h = (struct kmon_header *)(out + at);

			CHECK(h->kind == KMON_KIND_SYNTH); /* pads never leave the ring */
			CHECK(h->seq == expect);
			expect++;
		}
	}
	n = kmon_ring_read(&r, out, sizeof(out));
	for (at = 0, i = 0; at < n; at += ((struct kmon_header *)(out + at))->size, i++)
		CHECK(((struct kmon_header *)(out + at))->seq == expect + i);
	CHECK(expect + i == tag && kmon_ring_empty(&r));
}

static void test_ring_consume_and_corruption(void)
{
	static kmon_u8 mem[RING_MEM];
	static kmon_u8 out[RING_MEM];
	struct kmon_ring r;
	struct kmon_header *h;

	kmon_ring_init(&r, mem, sizeof(mem), 4096);
	push(&r, 64, 0);
	push(&r, 64, 1);
	push(&r, 64, 2);
	CHECK(kmon_ring_consume_to(&r, 32) != 0);  /* inside a record */
	CHECK(kmon_ring_consume_to(&r, 256) != 0); /* past head */
	CHECK(kmon_ring_consume_to(&r, 128) == 0 && r.tail == 128 && r.shared->tail == 128);
	CHECK(kmon_ring_consume_to(&r, 64) != 0); /* behind tail */
	/* A scribbled size (as a writable mapping could cause) empties the ring instead of overrunning. */
	h = (struct kmon_header *)(r.data + 128);
	h->size = 0x7ffffff8;
	CHECK(kmon_ring_read(&r, out, sizeof(out)) == 0 && kmon_ring_empty(&r) && r.corrupt == 1);
	/* The shared header is output only: writing it changes nothing. */
	push(&r, 64, 3);
	r.shared->head = 0;
	r.shared->tail = 1 << 20;
	CHECK(kmon_ring_read(&r, out, sizeof(out)) == 64 && ((struct kmon_header *)out)->seq == 3);
}

static kmon_u32 utf16(kmon_u16 *dst, const char *ascii)
{
	kmon_u32 n = 0;

	while (ascii[n]) {
		dst[n] = (kmon_u8)ascii[n];
		n++;
	}
	return n * 2;
}

/* Encodes one field alone (body of 8 bytes) and returns its bytes in out. */
static kmon_u32 encode(enum kmon_field_kind kind, const void *src, kmon_u32 len, kmon_u32 cap, kmon_u8 *out,
		       kmon_u32 *flags, kmon_u32 *argc)
{
	kmon_u8 rec[256 + 64];
	kmon_u64 body = 0x1122334455667788ull;
	kmon_u16 slot = 0;
	struct kmon_field f = { kind, src, len, cap, 0, &slot, argc, 0, 0 };
	kmon_u32 size;

	*flags = 0;
	size = kmon_record_measure(sizeof(body), &f, 1, flags);
	memset(rec, 0xee, sizeof(rec));
	kmon_record_write(rec, size, &body, sizeof(body), &f, 1);
	CHECK(size % 8 == 0 && size == KMON_ALIGN_UP(8 + f.out_len) && slot == f.out_len);
	CHECK(rec[size] == 0xee);       /* nothing past the record */
	CHECK(size == 8 + f.out_len || rec[size - 1] == 0); /* padding is zero */
	memcpy(out, rec + 8, f.out_len);
	return f.out_len;
}

static void test_utf16(void)
{
	/* "aé€😀" then a lone high surrogate */
	const kmon_u16 s[] = { 'a', 0xe9, 0x20ac, 0xd83d, 0xde00, 0xd800 };
	const kmon_u8 want[] = { 'a', 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 0xef, 0xbf, 0xbd };
	kmon_u8 out[64];
	kmon_u32 flags, n;

	n = encode(KMON_FIELD_UTF16, s, sizeof(s), 64, out, &flags, NULL);
	CHECK(n == sizeof(want) && !memcmp(out, want, n) && flags == 0);
	/* Cut inside the emoji: stop before it, not in the middle of it. */
	n = encode(KMON_FIELD_UTF16, s, sizeof(s), 8, out, &flags, NULL);
	CHECK(n == 6 && flags == KMON_F_TRUNCATED(0));
	/* An odd trailing byte is ignored, any alignment is fine. */
	n = encode(KMON_FIELD_UTF16, (const kmon_u8 *)s, 3, 64, out, &flags, NULL);
	CHECK(n == 1 && out[0] == 'a');
}

static void expect_argv(const char *cmdline, const char *want, kmon_u32 want_len, kmon_u32 want_argc)
{
	kmon_u16 w[128];
	kmon_u8 out[256];
	kmon_u32 flags, argc = 0, n;

	n = encode(KMON_FIELD_CMDLINE, w, utf16(w, cmdline), 256, out, &flags, &argc);
	CHECK(n == want_len && !memcmp(out, want, n) && argc == want_argc);
	if (n != want_len || memcmp(out, want, n) || argc != want_argc)
		fprintf(stderr, "  cmdline [%s]: got %u bytes, argc %u\n", cmdline, n, argc);
}

static void test_cmdline(void)
{
	kmon_u16 w[128];
	kmon_u8 out[256];
	kmon_u32 flags, argc = 0, n;

	expect_argv("a b", "a\0b", 4, 2);
	expect_argv("  \"a b\"  c ", "a b\0c", 6, 2);
	expect_argv("a\\\\b", "a\\\\b", 5, 1);          /* backslashes not before a quote */
	expect_argv("a\\\"b", "a\"b", 4, 1);            /* 2n+1 backslashes: literal quote */
	expect_argv("\"a\\\\\" b", "a\\\0b", 5, 2);     /* 2n backslashes: n, quote closes */
	expect_argv("\"a\"\"b\"", "a\"b", 4, 1);        /* "" inside quotes */
	expect_argv("x \"\" y", "x\0\0y", 5, 3);        /* empty argument */
	expect_argv("", "", 0, 0);
	/* Cut: argc still counts every argument. */
	n = encode(KMON_FIELD_CMDLINE, w, utf16(w, "aaaa bbbb cccc"), 7, out, &flags, &argc);
	CHECK(n == 7 && !memcmp(out, "aaaa\0bb", 7) && argc == 3 && flags == KMON_F_TRUNCATED(0));
}

static void test_record_misc(void)
{
	kmon_u16 w[64];
	char comm[KMON_COMM_LEN];
	kmon_u8 out[64];
	kmon_u32 flags, n, i;

	kmon_record_comm(comm, w, utf16(w, "\\Device\\HarddiskVolume2\\Windows\\a-very-long-name.exe"));
	CHECK(!memcmp(comm, "a-very-long-nam", 15) && comm[15] == 0);
	kmon_record_comm(comm, w, utf16(w, "cmd.exe"));
	CHECK(!strcmp(comm, "cmd.exe"));
	n = encode(KMON_FIELD_PATTERN, NULL, 20, 64, out, &flags, NULL);
	for (i = 0; i < n; i++)
		CHECK(out[i] == (kmon_u8)i);
	CHECK(n == 20);
	n = encode(KMON_FIELD_BYTES, "abcdef", 6, 4, out, &flags, NULL);
	CHECK(n == 4 && flags == KMON_F_TRUNCATED(0));
}

static void test_ioctl_rules(void)
{
	unsigned i;

	for (i = 0; i < kmon_ioctl_rule_count; i++) {
		const struct kmon_ioctl_rule *r = &kmon_ioctl_rules[i];

		CHECK(kmon_ioctl_check(r->code, r->in_len, r->out_min) == KMON_IOCTL_OK);
		CHECK(kmon_ioctl_check(r->code, r->in_len + 1, r->out_min) == KMON_IOCTL_BAD_INPUT);
		CHECK(kmon_ioctl_check(r->code, r->in_len, r->out_min + 4096) == KMON_IOCTL_OK);
		if (r->in_len)
			CHECK(kmon_ioctl_check(r->code, r->in_len - 1, r->out_min) == KMON_IOCTL_BAD_INPUT);
		if (r->out_min)
			CHECK(kmon_ioctl_check(r->code, r->in_len, r->out_min - 1) == KMON_IOCTL_SMALL_OUTPUT);
		CHECK((r->code & 3) == KMON_METHOD_BUFFERED && (r->code >> 16) == KMON_DEVICE_TYPE);
	}
	CHECK(kmon_ioctl_check(KMON_CTL(0x8ff, 0), 0, 0) == KMON_IOCTL_UNKNOWN);
	CHECK(kmon_ioctl_reply_len(32, 16) == 16 && kmon_ioctl_reply_len(8, 16) == 8);
}

struct frame_vector {
	const char *name;
	size_t len;
	const kmon_u8 *data;
	unsigned count;
	struct {
		enum kmon_frame_verdict verdict;
		kmon_u32 size;
		const char *field;
	} expect[8];
};

#include "framing_vectors.h"

/* Walks one vector's batch (copied to a buffer of its exact size, so ASan sees any read past it). */
static void check_frame_vector(const struct frame_vector *v)
{
	kmon_u8 *batch = malloc(v->len ? v->len : 1);
	size_t at = 0;
	unsigned i = 0;

	memcpy(batch, v->data, v->len);
	for (; at < v->len && i < v->count; i++) {
		struct kmon_frame f = kmon_frame_check(batch + at, v->len - at);
		int ok = f.verdict == v->expect[i].verdict &&
			 (f.verdict == KMON_FRAME_STOP || f.size == v->expect[i].size) &&
			 (f.verdict == KMON_FRAME_RECORD ? f.field == NULL && f.used && f.used <= f.size
							 : f.field && !strcmp(f.field, v->expect[i].field));

		CHECK(ok);
		if (!ok)
			fprintf(stderr, "  vector \"%s\", record %u: verdict %d size %u field %s\n", v->name, i, f.verdict,
				f.size, f.field ? f.field : "-");
		if (f.verdict == KMON_FRAME_STOP) {
			i++;
			break;
		}
		at += f.size;
	}
	CHECK(i == v->count);
	free(batch);
}

static void test_frame(void)
{
	unsigned i;

	for (i = 0; i < sizeof(frame_vectors) / sizeof(frame_vectors[0]); i++)
		check_frame_vector(&frame_vectors[i]);
	CHECK(kmon_frame_kind_name(KMON_KIND_PAD) == NULL && kmon_frame_kind_name(KMON_KIND_COUNT) == NULL);
}

int main(void)
{
	test_ring_basics();
	test_ring_wrap_and_full();
	test_ring_consume_and_corruption();
	test_utf16();
	test_cmdline();
	test_record_misc();
	test_ioctl_rules();
	test_frame();
	printf("portable tests: %d checks, %d failures\n", checks, failures);
	return failures != 0;
}
