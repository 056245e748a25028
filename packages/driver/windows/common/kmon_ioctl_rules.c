/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
#include "kmon_ioctl_rules.h"

const struct kmon_ioctl_rule kmon_ioctl_rules[] = {
	{ KMON_IOCTL_GET_INFO, 0, sizeof(struct kmon_info) },
	{ KMON_IOCTL_GET_STATS, 0, sizeof(struct kmon_cpu_stats) },
	{ KMON_IOCTL_SYNTH_START, sizeof(struct kmon_synth_config), 0 },
	{ KMON_IOCTL_SYNTH_STOP, 0, 0 },
	{ KMON_IOCTL_PULL, 0, KMON_BATCH_MIN },
	{ KMON_IOCTL_WAIT, 0, KMON_BATCH_MIN },
	{ KMON_IOCTL_REGISTER_EVENT, sizeof(struct kmon_event_reg), 0 },
	{ KMON_IOCTL_UNREGISTER_EVENT, 0, 0 },
	{ KMON_IOCTL_MAP_RING, 0, sizeof(struct kmon_ring_map) },
	{ KMON_IOCTL_UNMAP_RING, 0, 0 },
	{ KMON_IOCTL_CONSUME, sizeof(struct kmon_consume), 0 },
};
const unsigned kmon_ioctl_rule_count = sizeof(kmon_ioctl_rules) / sizeof(kmon_ioctl_rules[0]);

enum kmon_ioctl_verdict kmon_ioctl_check(kmon_u32 code, kmon_u32 in_len, kmon_u32 out_len)
{
	unsigned i;

	for (i = 0; i < kmon_ioctl_rule_count; i++) {
		const struct kmon_ioctl_rule *r = &kmon_ioctl_rules[i];

		if (r->code != code)
			continue;
		if (in_len != r->in_len)
			return KMON_IOCTL_BAD_INPUT;
		if (out_len < r->out_min)
			return KMON_IOCTL_SMALL_OUTPUT;
		return KMON_IOCTL_OK;
	}
	return KMON_IOCTL_UNKNOWN;
}

kmon_u32 kmon_ioctl_reply_len(kmon_u32 produced, kmon_u32 out_len)
{
	return produced < out_len ? produced : out_len;
}
