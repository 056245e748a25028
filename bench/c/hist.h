/* SPDX-License-Identifier: MIT */
/*
 * Log-linear latency histogram (ns): exact below 64 ns, then 64 linear
 * sub-buckets per power of two, so a reported percentile is within ~1.6%
 * of the true value. bench/src/hist.ts is the same histogram in TypeScript
 * (both sides of a comparison bucket identically).
 */
#ifndef KMON_BENCH_HIST_H
#define KMON_BENCH_HIST_H

#include <stdint.h>
#include <stdio.h>

#define HIST_SUB_BITS 6
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_BUCKETS (HIST_SUB * 40) /* up to 2^45 ns (~9.7 h) */

struct hist {
	uint64_t n[HIST_BUCKETS];
	uint64_t count, max, negative;
};

/*
 * v < 64: bucket v. Otherwise, with s = floor(log2 v) - 6 and m = v >> s in
 * [64, 128): bucket s * 64 + m, covering [m << s, (m + 1) << s).
 */
static inline unsigned hist_index(uint64_t v)
{
	if (v < HIST_SUB)
		return (unsigned)v;
	unsigned s = 63 - (unsigned)__builtin_clzll(v) - HIST_SUB_BITS;
	unsigned idx = s * HIST_SUB + (unsigned)(v >> s);
	return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

/* Midpoint of bucket i's range. */
static inline uint64_t hist_value(unsigned i)
{
	if (i < HIST_SUB)
		return i;
	unsigned s = i / HIST_SUB - 1;
	uint64_t m = i % HIST_SUB + HIST_SUB;
	return (m << s) + ((1ull << s) >> 1);
}

static inline void hist_add(struct hist *h, int64_t v)
{
	if (v < 0) { /* cannot happen with one clock; counted, not hidden */
		h->negative++;
		v = 0;
	}
	h->n[hist_index((uint64_t)v)]++;
	h->count++;
	if ((uint64_t)v > h->max)
		h->max = (uint64_t)v;
}

static inline uint64_t hist_quantile(const struct hist *h, double q)
{
	if (!h->count)
		return 0;
	uint64_t rank = (uint64_t)(q * (double)(h->count - 1)) + 1, seen = 0;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->n[i];
		if (seen >= rank)
			return hist_value(i);
	}
	return h->max;
}

#endif
