/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
#include "kmon_record.h"

#include <string.h>

#define REPLACEMENT_CHAR 0xfffdu

/* Output cursor: writes while everything fits, then only counts that it cut. */
struct out {
	kmon_u8 *dst; /* NULL when measuring */
	kmon_u32 cap;
	kmon_u32 len;
	int cut;
};

static void put_bytes(struct out *o, const kmon_u8 *b, kmon_u32 n)
{
	if (o->cut || n > o->cap - o->len) {
		o->cut = 1; /* never emit a later, shorter sequence after a cut */
		return;
	}
	if (o->dst)
		memcpy(o->dst + o->len, b, n);
	o->len += n;
}

static void put_code_point(struct out *o, kmon_u32 cp)
{
	kmon_u8 b[4];
	kmon_u32 n;

	if (cp < 0x80) {
		b[0] = (kmon_u8)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (kmon_u8)(0xc0 | cp >> 6);
		b[1] = (kmon_u8)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (kmon_u8)(0xe0 | cp >> 12);
		b[1] = (kmon_u8)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (kmon_u8)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (kmon_u8)(0xf0 | cp >> 18);
		b[1] = (kmon_u8)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (kmon_u8)(0x80 | (cp >> 6 & 0x3f));
		b[3] = (kmon_u8)(0x80 | (cp & 0x3f));
		n = 4;
	}
	put_bytes(o, b, n);
}

/* UTF-16 reader over a byte buffer of any alignment (an odd trailing byte is ignored). */
struct u16in {
	const kmon_u8 *src;
	kmon_u32 units;
	kmon_u32 at;
};

static kmon_u32 unit_at(const struct u16in *in, kmon_u32 i)
{
	const kmon_u8 *p = in->src + 2 * (size_t)i;

	return (kmon_u32)p[0] | (kmon_u32)p[1] << 8;
}

static int u16_more(const struct u16in *in)
{
	return in->at < in->units;
}

static kmon_u32 u16_peek(const struct u16in *in)
{
	kmon_u32 hi = unit_at(in, in->at);

	if (hi >= 0xd800 && hi < 0xdc00 && in->at + 1 < in->units) {
		kmon_u32 lo = unit_at(in, in->at + 1);

		if (lo >= 0xdc00 && lo < 0xe000)
			return 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
	}
	return hi >= 0xd800 && hi < 0xe000 ? REPLACEMENT_CHAR : hi;
}

static void u16_skip(struct u16in *in)
{
	in->at += u16_peek(in) >= 0x10000 ? 2 : 1;
}

static void encode_utf16(struct out *o, struct u16in *in)
{
	while (u16_more(in) && !o->cut) {
		put_code_point(o, u16_peek(in));
		u16_skip(in);
	}
}

static void put_repeated(struct out *o, kmon_u32 cp, kmon_u32 n)
{
	while (n--)
		put_code_point(o, cp);
}

/*
 * One argument by the rules of CommandLineToArgvW / the MS C runtime:
 * 2n backslashes + quote -> n backslashes and the quote toggles quoting;
 * 2n+1 backslashes + quote -> n backslashes and a literal quote; other
 * backslashes are literal; inside quotes "" is a literal quote.
 */
static void encode_argument(struct out *o, struct u16in *in)
{
	int quoted = 0;

	while (u16_more(in)) {
		kmon_u32 c = u16_peek(in), slashes = 0;

		if (!quoted && (c == ' ' || c == '\t'))
			return;
		if (c != '\\' && c != '"') {
			put_code_point(o, c);
			u16_skip(in);
			continue;
		}
		while (c == '\\') {
			slashes++;
			u16_skip(in);
			c = u16_more(in) ? u16_peek(in) : 0;
		}
		if (c != '"') {
			put_repeated(o, '\\', slashes);
			continue;
		}
		put_repeated(o, '\\', slashes / 2);
		u16_skip(in);
		if (slashes % 2)
			put_code_point(o, '"');
		else if (quoted && u16_more(in) && u16_peek(in) == '"') {
			put_code_point(o, '"');
			u16_skip(in);
		} else
			quoted = !quoted;
	}
}

static void skip_blanks(struct u16in *in)
{
	while (u16_more(in) && (u16_peek(in) == ' ' || u16_peek(in) == '\t'))
		u16_skip(in);
}

static kmon_u32 encode_cmdline(struct out *o, struct u16in *in)
{
	kmon_u32 argc = 0;

	for (skip_blanks(in); u16_more(in); skip_blanks(in)) {
		encode_argument(o, in);
		put_code_point(o, 0);
		argc++;
	}
	return argc;
}

static void encode_pattern(struct out *o, kmon_u64 seed, kmon_u32 n)
{
	kmon_u32 i;

	for (i = 0; i < n && !o->cut; i++) {
		kmon_u8 b = (kmon_u8)(seed + i);

		put_bytes(o, &b, 1);
	}
}

static kmon_u32 encode_field(struct out *o, const struct kmon_field *f)
{
	struct u16in in = { f->src, f->src_len / 2, 0 };

	switch (f->kind) {
	case KMON_FIELD_BYTES: {
		/* Bytes have no boundaries to respect: keep the prefix that fits. */
		kmon_u32 n = f->src_len < o->cap - o->len ? f->src_len : o->cap - o->len;

		put_bytes(o, f->src, n);
		o->cut = n < f->src_len;
		return 0;
	}
	case KMON_FIELD_UTF16:
		encode_utf16(o, &in);
		return 0;
	case KMON_FIELD_CMDLINE:
		return encode_cmdline(o, &in);
	case KMON_FIELD_PATTERN:
		encode_pattern(o, f->seed, f->src_len);
		return 0;
	}
	return 0;
}

kmon_u32 kmon_record_measure(kmon_u32 body_size, struct kmon_field *f, unsigned n, kmon_u32 *flags)
{
	kmon_u64 total = body_size;
	unsigned i;

	for (i = 0; i < n; i++) {
		struct out o = { 0, f[i].cap, 0, 0 };

		f[i].argc = encode_field(&o, &f[i]);
		f[i].out_len = o.len;
		if (f[i].len_slot)
			*f[i].len_slot = (kmon_u16)o.len;
		if (f[i].argc_slot)
			*f[i].argc_slot = f[i].argc;
		if (o.cut)
			*flags |= KMON_F_TRUNCATED(i);
		total += o.len;
	}
	return total > KMON_RECORD_MAX ? 0 : KMON_ALIGN_UP((kmon_u32)total);
}

void kmon_record_write(void *dst, kmon_u32 size, const void *body, kmon_u32 body_size,
		       const struct kmon_field *f, unsigned n)
{
	kmon_u8 *p = dst;
	kmon_u32 at = body_size;
	unsigned i;

	memcpy(p, body, body_size);
	for (i = 0; i < n; i++) {
		struct out o = { p + at, f[i].out_len, 0, 0 };

		encode_field(&o, &f[i]);
		at += o.len;
	}
	memset(p + at, 0, size - at);
}

void kmon_record_comm(char comm[KMON_COMM_LEN], const void *path, kmon_u32 path_bytes)
{
	struct u16in in = { path, path_bytes / 2, 0 };
	struct out o = { (kmon_u8 *)comm, KMON_COMM_LEN - 1, 0, 0 };
	kmon_u32 i;

	for (i = 0; i < in.units; i++)
		if (unit_at(&in, i) == '\\' || unit_at(&in, i) == '/')
			in.at = i + 1; /* the name starts after the last separator */
	memset(comm, 0, KMON_COMM_LEN);
	encode_utf16(&o, &in);
}
