/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/* Records received from the driver: validation against kmon_abi.h, and printing. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmon_frame.h"
#include "kmonctl.h"

static int synth_payload_ok(const struct kmon_synth *s)
{
	const unsigned char *p = (const unsigned char *)(s + 1);
	unsigned i;

	for (i = 0; i < s->payload_len; i++)
		if (p[i] != (unsigned char)(s->value + i))
			return 0;
	return 1;
}

/*
 * Empty string if the record at h (avail bytes left in the batch) frames and
 * decodes (kmon_frame_check, the rules @kmon/core's decoder applies) and is
 * what kmon.sys must write: padded to the next boundary and no further, and
 * a synthetic payload that follows its pattern.
 */
static void validate(const struct kmon_header *h, size_t avail, char *why, size_t n)
{
	struct kmon_frame f = kmon_frame_check(h, avail);

	why[0] = 0;
	if (f.verdict != KMON_FRAME_RECORD)
		snprintf(why, n, "%s: %s", f.verdict == KMON_FRAME_SKIP ? "malformed record" : "broken framing", f.field);
	else if (f.size != KMON_ALIGN_UP(f.used))
		snprintf(why, n, "seq %llu: size %u, fields say %u", h->seq, f.size, KMON_ALIGN_UP(f.used));
	else if (h->kind == KMON_KIND_SYNTH && !synth_payload_ok((const struct kmon_synth *)h))
		snprintf(why, n, "seq %llu: synthetic payload corrupt", h->seq);
}

int recs_add(struct recs *r, const void *batch, size_t len)
{
	const unsigned char *b = batch;
	size_t at = 0;
	char why[120];

	while (at < len) {
		const struct kmon_header *h = (const void *)(b + at);

		validate(h, len - at, why, sizeof(why));
		if (why[0]) {
			if (!r->error[0])
				snprintf(r->error, sizeof(r->error), "%s", why);
			return -1;
		}
		at += h->size;
		r->count++;
	}
	if (r->len + len > r->cap) {
		size_t cap = (r->cap ? r->cap * 2 : 65536) + len;
		unsigned char *nb = realloc(r->buf, cap);

		if (!nb)
			return -1;
		r->buf = nb;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, batch, len);
	r->len += len;
	return 0;
}

const struct kmon_header *recs_next(const struct recs *r, size_t *at)
{
	const struct kmon_header *h;

	if (*at >= r->len)
		return NULL;
	h = (const void *)(r->buf + *at);
	*at += h->size;
	return h;
}

void recs_free(struct recs *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

size_t recs_count_kind(const struct recs *r, unsigned kind)
{
	const struct kmon_header *h;
	size_t at = 0, n = 0;

	while ((h = recs_next(r, &at)) != NULL)
		n += h->kind == kind;
	return n;
}

size_t recs_pull_kind(HANDLE h, struct recs *r, unsigned kind, size_t want, DWORD timeout_ms)
{
	static unsigned char batch[KMON_BATCH_MIN * 8];
	ULONGLONG end = GetTickCount64() + timeout_ms;
	DWORD bytes;

	while (recs_count_kind(r, kind) < want && GetTickCount64() < end) {
		if (dev_ioctl(h, KMON_IOCTL_PULL, NULL, 0, batch, sizeof(batch), &bytes) || bytes > sizeof(batch))
			break;
		if (bytes && recs_add(r, batch, bytes))
			break;
		if (!bytes)
			Sleep(5);
	}
	return recs_count_kind(r, kind);
}

static void print_field(const char *name, const char *s, unsigned len)
{
	unsigned i;

	printf(" %s=\"", name);
	for (i = 0; i < len; i++)
		putchar(s[i] ? s[i] : ' '); /* argv is NUL-separated */
	putchar('"');
}

void recs_print(const struct kmon_header *h)
{
	const char *var = (const char *)h;

	printf("seq=%llu ts=%llu cpu=%u pid=%u tid=%u kind=%u flags=%#x", h->seq, h->ts_ns, h->cpu, h->tgid,
	       h->tid, h->kind, h->flags);
	switch (h->kind) {
	case KMON_KIND_EXEC: {
		const struct kmon_exec *e = (const void *)h;

		printf(" ppid=%u argc=%u comm=%.16s", e->ppid, e->argc, e->comm);
		print_field("path", var + sizeof(*e), e->path_len);
		print_field("argv", var + sizeof(*e) + e->path_len, e->argv_len);
		break;
	}
	case KMON_KIND_EXIT: {
		const struct kmon_exit *e = (const void *)h;

		printf(" exit_code=%d comm=%.16s", e->exit_code, e->comm);
		break;
	}
	case KMON_KIND_SYNTH: {
		const struct kmon_synth *s = (const void *)h;

		printf(" value=%llu payload=%u", s->value, s->payload_len);
		break;
	}
	case KMON_KIND_IMAGE_LOAD: {
		const struct kmon_image_load *i = (const void *)h;

		printf(" base=%#llx size=%llu", i->image_base, i->image_size);
		print_field("path", var + sizeof(*i), i->path_len);
		break;
	}
	case KMON_KIND_REGISTRY_SET: {
		const struct kmon_registry_set *s = (const void *)h;

		printf(" type=%u data_size=%u", s->value_type, s->data_size);
		print_field("key", var + sizeof(*s), s->key_len);
		print_field("value", var + sizeof(*s) + s->key_len, s->value_name_len);
		break;
	}
	default:
		break;
	}
	putchar('\n');
}
