/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * Base helpers: questions every program asks before doing any work
 * (is this kind wanted, is this task one we report).
 */
#ifndef KMON_HELPERS_BASE_H
#define KMON_HELPERS_BASE_H

static __always_inline int kind_enabled(__u32 kind)
{
	return kmon_cfg.kinds & KMON_KIND_BIT(kind);
}

#endif /* KMON_HELPERS_BASE_H */
