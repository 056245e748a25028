/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * Record encoding for kmon.sys, portable so it is tested and fuzzed natively.
 * Windows hands the driver UTF-16 strings; records carry UTF-8 (kmon_abi.h).
 * Each variable-length field is converted and cut at its cap on a code
 * point boundary, its truncation recorded in hdr.flags.
 */
#ifndef KMON_RECORD_H
#define KMON_RECORD_H

#include "kmon_abi.h"

enum kmon_field_kind {
	KMON_FIELD_BYTES,   /* copied as is */
	KMON_FIELD_UTF16,   /* UTF-16LE -> UTF-8, unpaired surrogates become U+FFFD */
	KMON_FIELD_CMDLINE, /* Windows command line -> NUL-separated UTF-8 argv */
	KMON_FIELD_PATTERN  /* src_len bytes (value + i) & 0xff, value in `seed` */
};

struct kmon_field {
	enum kmon_field_kind kind;
	const void *src;   /* any alignment */
	kmon_u32 src_len;  /* bytes */
	kmon_u32 cap;      /* most bytes the field may take in the record */
	kmon_u64 seed;     /* KMON_FIELD_PATTERN only */
	kmon_u16 *len_slot;  /* the body's length field of this field, set by measure */
	kmon_u32 *argc_slot; /* KMON_FIELD_CMDLINE: the body's argc, set by measure (may be NULL) */
	/* results of kmon_record_measure */
	kmon_u32 out_len;
	kmon_u32 argc;     /* KMON_FIELD_CMDLINE: arguments seen, even past the cap */
};

/*
 * Sizes every field (out_len, argc and the slots they point to), ORs KMON_F_TRUNCATED(i) into *flags for
 * cut fields and returns the aligned record size, or 0 if it would exceed
 * KMON_RECORD_MAX (cannot happen with caps that fit the body's u16 lengths).
 */
kmon_u32 kmon_record_measure(kmon_u32 body_size, struct kmon_field *f, unsigned n, kmon_u32 *flags);

/* Writes body, fields and zero padding: exactly `size` bytes from measure. */
void kmon_record_write(void *dst, kmon_u32 size, const void *body, kmon_u32 body_size,
		       const struct kmon_field *f, unsigned n);

/* comm: last path component of a UTF-16 path as UTF-8, NUL-padded, cut to 15 bytes. */
void kmon_record_comm(char comm[KMON_COMM_LEN], const void *path, kmon_u32 path_bytes);

#endif /* KMON_RECORD_H */
