/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * File filter helpers: the live filters of struct kmon_filters (kmon_config.h),
 * asked in order of cost, so a record that will be dropped costs as little as
 * possible. A rejected record never reaches submit(): it is not attempted,
 * so it is not lost either.
 */
#ifndef KMON_HELPERS_FILE_FILTER_H
#define KMON_HELPERS_FILE_FILTER_H

static __always_inline struct kmon_filters *filters(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&kmon_filters, &zero);
}

/* Whether the result of a syscall is to be recorded (failures only when asked). */
static __always_inline int result_wanted(const struct kmon_filters *f, long ret)
{
	return ret >= 0 || f->file.failed;
}

struct dots {
	__u32 len;
	__u32 found;
};

static __always_inline int component_end(struct kmon_path_slot *s, __u32 index, __u32 len)
{
	return index >= len || s->buf[(KMON_PATH_MID + index) & (2 * KMON_PATH_MAX - 1)] == '/';
}

/*
 * Byte `index` of a given path (at KMON_PATH_MID): does a "." or ".."
 * component start here? The position comes from the index, not from the
 * context, so the verifier checks one step, not every byte.
 */
static long dots_step(__u64 index, void *ctx)
{
	struct dots *d = ctx;
	struct kmon_path_slot *s = path_slot();
	__u32 at = KMON_PATH_MID + (__u32)index, i = index;

	if (!s || i >= d->len)
		return 1;
	if (s->buf[at & (2 * KMON_PATH_MAX - 1)] != '.' ||
	    (i > 0 && s->buf[(at - 1) & (2 * KMON_PATH_MAX - 1)] != '/'))
		return 0;
	if (component_end(s, i + 1, d->len) ||
	    (s->buf[(at + 1) & (2 * KMON_PATH_MAX - 1)] == '.' && component_end(s, i + 2, d->len))) {
		d->found = 1;
		return 1;
	}
	return 0;
}

/*
 * The path prefix filter. The longest matching prefix decides; no match
 * passes unless includes exist. A path whose prefix is not known for sure
 * passes whatever the filter says, so nothing that might match is dropped:
 * a cut path (its beginning is gone) and a given path with "."/".."
 * components, which the kernel did not resolve ("/tmp/../etc/x" is in /etc).
 */
static __always_inline int path_passes(const struct kmon_filters *f, struct kmon_path_slot *s, struct path_range *r)
{
	struct dots dots = { .len = r->given };
	__u32 n = r->len;
	__u32 *action;

	if (!f->file.path_filter || r->cut)
		return 1;
	if (r->given) {
		bpf_loop(r->given, dots_step, &dots, 0);
		if (dots.found)
			return 1;
	}
	if (n > KMON_PREFIX_MAX)
		n = KMON_PREFIX_MAX;
	bpf_probe_read_kernel(s->key.path, n, &s->buf[r->start & (2 * KMON_PATH_MAX - 1)]);
	if (n < KMON_PREFIX_MAX) {
		s->key.path[n] = '/'; /* so "/etc/" matches "/etc" itself */
		n += 1;
	}
	s->key.prefixlen = n * 8;
	action = bpf_map_lookup_elem(&kmon_path_prefixes, &s->key);
	if (action)
		return *action == KMON_PREFIX_INCLUDE;
	return !f->file.path_includes;
}

#endif /* KMON_HELPERS_FILE_FILTER_H */
