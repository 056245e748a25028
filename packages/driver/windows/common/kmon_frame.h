/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * The framing rules of a batch of records (kmon_abi.h): whether the bytes at
 * the start of a batch are one record, how long it is, and what is wrong
 * with it if not. One implementation for kmon.sys (its ring), @kmon/native's
 * Windows backend (its record filter) and kmonctl; @kmon/core's decodeBatch
 * applies the same rules, and both are run over the same test vectors
 * (packages/driver/test/framing-vectors.json). Portable C, no allocation.
 */
#ifndef KMON_FRAME_H
#define KMON_FRAME_H

#include <stddef.h>

#include "kmon_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

enum kmon_frame_verdict {
	KMON_FRAME_RECORD, /* a record of `size` bytes */
	KMON_FRAME_SKIP,   /* `size` bytes that frame but do not decode: skip them, go on with the next */
	KMON_FRAME_STOP    /* the framing itself is wrong: the rest of the batch cannot be split */
};

struct kmon_frame {
	enum kmon_frame_verdict verdict;
	kmon_u32 size;     /* RECORD, SKIP: the record's size */
	kmon_u32 used;     /* RECORD: bytes the body and its variable fields take (size is this, aligned, or more) */
	const char *field; /* SKIP, STOP: what is wrong, as the decoder names it ("hdr.size", "exec.argv_len") */
};

/* Judges the record at the start of `left` bytes (any alignment; left > 0). */
struct kmon_frame kmon_frame_check(const void *at, size_t left);

/* Event kind name as the decoder spells it ("image-load"), NULL for a kind it does not know. */
const char *kmon_frame_kind_name(kmon_u32 kind);

#ifdef __cplusplus
}
#endif

#endif /* KMON_FRAME_H */
