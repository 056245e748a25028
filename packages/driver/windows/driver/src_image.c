/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/* Image mapping -> KMON_KIND_IMAGE_LOAD. */
#include "kmon.h"

static void image_notify(PUNICODE_STRING name, HANDLE pid, PIMAGE_INFO info)
{
	struct kmon_image_load body;
	struct kmon_field path;

	RtlZeroMemory(&body, sizeof(body));
	body.hdr.kind = KMON_KIND_IMAGE_LOAD;
	body.hdr.tgid = HandleToULong(pid);
	body.hdr.tid = HandleToULong(PsGetCurrentThreadId());
	/* System images live at kernel addresses, which must not leave the kernel. */
	body.image_base = info->SystemModeImage ? 0 : (kmon_u64)(ULONG_PTR)info->ImageBase;
	body.image_size = info->ImageSize;
	kmon_string_field(&path, KMON_FIELD_UTF16, name, KMON_PATH_MAX, &body.path_len);
	kmon_emit(&body, sizeof(body), &path, 1);
	kmon_notify();
}

void kmon_image_init(void)
{
	if (NT_SUCCESS(PsSetLoadImageNotifyRoutine(image_notify)))
		kmon.sources |= KMON_SRC_IMAGE;
}

void kmon_image_free(void)
{
	if (kmon.sources & KMON_SRC_IMAGE)
		PsRemoveLoadImageNotifyRoutine(image_notify);
	kmon.sources &= ~KMON_SRC_IMAGE;
}
