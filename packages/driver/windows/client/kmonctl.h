/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
#ifndef KMONCTL_H
#define KMONCTL_H

#include <windows.h>

#include "kmon_ioctl.h"

/*
 * What kmonctl.exe and the driver checks (test/checks.c, kmon-checks.exe)
 * share: the device, and records as they arrive from it.
 */

/* device.c */
HANDLE dev_open(BOOL overlapped);
/* DeviceIoControl; returns 0 or the Win32 error, *bytes always set. */
DWORD dev_ioctl(HANDLE h, DWORD code, const void *in, DWORD in_len, void *out, DWORD out_len, DWORD *bytes);
DWORD dev_synth(HANDLE h, kmon_u32 period_ms, kmon_u32 per_tick, kmon_u32 payload, kmon_u64 count);
DWORD dev_info(HANDLE h, struct kmon_info *info);
DWORD dev_stats(HANDLE h, struct kmon_cpu_stats *stats);

/* records.c: a growing list of records received, validated as they arrive. */
struct recs {
	unsigned char *buf;
	size_t len, cap;
	size_t count;
	char error[160]; /* first malformed record, if any */
};
/* Appends the records of one batch; 0 if every one is well-formed. */
int recs_add(struct recs *r, const void *batch, size_t len);
/* Iterate: start with *at = 0. */
const struct kmon_header *recs_next(const struct recs *r, size_t *at);
void recs_free(struct recs *r);
void recs_print(const struct kmon_header *h);
/* Pull until `want` records of `kind` arrived or timeout_ms passed. */
size_t recs_pull_kind(HANDLE h, struct recs *r, unsigned kind, size_t want, DWORD timeout_ms);
size_t recs_count_kind(const struct recs *r, unsigned kind);

#endif /* KMONCTL_H */
