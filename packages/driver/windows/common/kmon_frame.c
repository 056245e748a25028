/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
#include "kmon_frame.h"

#include <string.h>

#define MAX_VARS 4

/*
 * What framing needs of each kind: the fixed body and its length fields in
 * record order. A kind added to kmon_abi.h and @kmon/core gets its line here
 * too: core's framing.test.ts asks for a framing vector of every kind, which
 * the C side then only passes with the kind's layout.
 */
struct kind_layout {
	const char *name;
	kmon_u32 body;
	unsigned nvars;
	struct {
		kmon_u32 offset;
		const char *field; /* kind.member */
	} vars[MAX_VARS];
};

#define VAR(kind, type, member) { __builtin_offsetof(struct type, member), kind "." #member }

static const struct kind_layout kinds[KMON_KIND_COUNT] = {
	[KMON_KIND_EXEC] = { "exec", sizeof(struct kmon_exec), 4,
			     { VAR("exec", kmon_exec, path_len), VAR("exec", kmon_exec, argv_len),
			       VAR("exec", kmon_exec, exe_len), VAR("exec", kmon_exec, cwd_len) } },
	[KMON_KIND_EXIT] = { "exit", sizeof(struct kmon_exit), 0, { { 0, 0 } } },
	[KMON_KIND_FORK] = { "fork", sizeof(struct kmon_fork), 0, { { 0, 0 } } },
	[KMON_KIND_SYNTH] = { "synth", sizeof(struct kmon_synth), 1, { VAR("synth", kmon_synth, payload_len) } },
	[KMON_KIND_IMAGE_LOAD] = { "image-load", sizeof(struct kmon_image_load), 1,
				   { VAR("image-load", kmon_image_load, path_len) } },
	[KMON_KIND_REGISTRY_SET] = { "registry-set", sizeof(struct kmon_registry_set), 2,
				     { VAR("registry-set", kmon_registry_set, key_len),
				       VAR("registry-set", kmon_registry_set, value_name_len) } },
	[KMON_KIND_OPEN] = { "open", sizeof(struct kmon_open), 1, { VAR("open", kmon_open, path_len) } },
	[KMON_KIND_UNLINK] = { "unlink", sizeof(struct kmon_unlink), 1, { VAR("unlink", kmon_unlink, path_len) } },
	[KMON_KIND_RENAME] = { "rename", sizeof(struct kmon_rename), 2,
			       { VAR("rename", kmon_rename, old_len), VAR("rename", kmon_rename, new_len) } },
	[KMON_KIND_MKDIR] = { "mkdir", sizeof(struct kmon_mkdir), 1, { VAR("mkdir", kmon_mkdir, path_len) } },
	[KMON_KIND_CHMOD] = { "chmod", sizeof(struct kmon_chmod), 1, { VAR("chmod", kmon_chmod, path_len) } },
	[KMON_KIND_CHOWN] = { "chown", sizeof(struct kmon_chown), 1, { VAR("chown", kmon_chown, path_len) } },
	[KMON_KIND_LINK] = { "link", sizeof(struct kmon_link), 2,
			     { VAR("link", kmon_link, target_len), VAR("link", kmon_link, path_len) } },
	[KMON_KIND_CONNECT] = { "connect", sizeof(struct kmon_connect), 1, { VAR("connect", kmon_connect, path_len) } },
	[KMON_KIND_ACCEPT] = { "accept", sizeof(struct kmon_accept), 1, { VAR("accept", kmon_accept, path_len) } },
	[KMON_KIND_LISTEN] = { "listen", sizeof(struct kmon_listen), 1, { VAR("listen", kmon_listen, path_len) } },
	[KMON_KIND_BIND] = { "bind", sizeof(struct kmon_bind), 1, { VAR("bind", kmon_bind, path_len) } },
	[KMON_KIND_CLOSE] = { "close", sizeof(struct kmon_close), 0, { { 0, 0 } } },
	[KMON_KIND_SEND] = { "send", sizeof(struct kmon_send), 0, { { 0, 0 } } },
	[KMON_KIND_DNS] = { "dns", sizeof(struct kmon_dns), 1, { VAR("dns", kmon_dns, query_len) } },
	[KMON_KIND_EXEC_FAILED] = { "exec-failed", sizeof(struct kmon_exec_failed), 2,
				    { VAR("exec-failed", kmon_exec_failed, path_len),
				      VAR("exec-failed", kmon_exec_failed, argv_len) } },
	[KMON_KIND_PROCESS] = { "process", sizeof(struct kmon_process), 3,
				{ VAR("process", kmon_process, exe_len), VAR("process", kmon_process, cwd_len),
				  VAR("process", kmon_process, argv_len) } },
};

static const struct kind_layout *layout_of(kmon_u32 kind)
{
	return kind < KMON_KIND_COUNT && kinds[kind].name ? &kinds[kind] : NULL;
}

const char *kmon_frame_kind_name(kmon_u32 kind)
{
	const struct kind_layout *k = layout_of(kind);

	return k ? k->name : NULL;
}

static struct kmon_frame verdict(enum kmon_frame_verdict v, kmon_u32 size, const char *field)
{
	struct kmon_frame f;

	f.verdict = v;
	f.size = size;
	f.used = 0;
	f.field = field;
	return f;
}

static kmon_u16 u16_at(const void *rec, kmon_u32 offset)
{
	kmon_u16 v;

	memcpy(&v, (const kmon_u8 *)rec + offset, sizeof(v));
	return v;
}

/* The rules, in the order the decoder applies them: the first that fails names the fault. */
struct kmon_frame kmon_frame_check(const void *at, size_t left)
{
	struct kmon_header h;
	const struct kind_layout *k;
	struct kmon_frame f;
	kmon_u32 used;
	unsigned i;

	if (left < sizeof(h))
		return verdict(KMON_FRAME_STOP, 0, "hdr");
	memcpy(&h, at, sizeof(h));
	if (h.abi_version != KMON_ABI_VERSION)
		return verdict(KMON_FRAME_STOP, 0, "hdr.abi_version");
	if (h.size < sizeof(h) || h.size % KMON_RECORD_ALIGN || h.size > left)
		return verdict(KMON_FRAME_STOP, 0, "hdr.size");
	k = layout_of(h.kind);
	if (k && h.size < k->body)
		return verdict(KMON_FRAME_STOP, 0, "hdr.size");
	if (!k)
		return verdict(KMON_FRAME_SKIP, h.size, "hdr.kind");
	used = k->body;
	for (i = 0; i < k->nvars; i++) {
		used += u16_at(at, k->vars[i].offset);
		if (used > h.size)
			return verdict(KMON_FRAME_SKIP, h.size, k->vars[i].field);
	}
	f = verdict(KMON_FRAME_RECORD, h.size, NULL);
	f.used = used;
	return f;
}
