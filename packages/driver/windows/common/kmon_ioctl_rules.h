/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * Buffer-size rules of every kmon IOCTL in one table, checked before any
 * handler runs, so no handler can forget a check (and copy sizeof(output)
 * without looking at OutputBufferLength). Portable: the
 * native tests walk the same table the driver uses.
 */
#ifndef KMON_IOCTL_RULES_H
#define KMON_IOCTL_RULES_H

#include "kmon_ioctl.h"

enum kmon_ioctl_verdict {
	KMON_IOCTL_OK,
	KMON_IOCTL_UNKNOWN,      /* -> STATUS_INVALID_DEVICE_REQUEST */
	KMON_IOCTL_BAD_INPUT,    /* -> STATUS_INVALID_PARAMETER */
	KMON_IOCTL_SMALL_OUTPUT  /* -> STATUS_BUFFER_TOO_SMALL */
};

struct kmon_ioctl_rule {
	kmon_u32 code;
	kmon_u32 in_len;  /* the input must be exactly this long */
	kmon_u32 out_min; /* the output must be at least this long */
};

extern const struct kmon_ioctl_rule kmon_ioctl_rules[];
extern const unsigned kmon_ioctl_rule_count;

enum kmon_ioctl_verdict kmon_ioctl_check(kmon_u32 code, kmon_u32 in_len, kmon_u32 out_len);

/* Bytes to report for a reply of `produced` bytes: never more than the caller's buffer. */
kmon_u32 kmon_ioctl_reply_len(kmon_u32 produced, kmon_u32 out_len);

#endif /* KMON_IOCTL_RULES_H */
