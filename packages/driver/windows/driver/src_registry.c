/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * Registry value writes -> KMON_KIND_REGISTRY_SET. CmRegisterCallbackEx is
 * looked up at run time: a kernel (or Wine) without it loads the driver with
 * this source off instead of refusing the image for a missing import.
 */
#include "kmon.h"

typedef NTSTATUS NTAPI register_fn(PEX_CALLBACK_FUNCTION, PCUNICODE_STRING, PVOID, PVOID, PLARGE_INTEGER, PVOID);
typedef NTSTATUS NTAPI unregister_fn(LARGE_INTEGER);

static unregister_fn *unregister;
static LARGE_INTEGER cookie;

#define KEY_NAME_BYTES (sizeof(OBJECT_NAME_INFORMATION) + KMON_KEY_MAX * sizeof(WCHAR))

/* The key's full path; Length 0 if it is longer than the buffer (then the field reads as cut). */
static POBJECT_NAME_INFORMATION key_name(PVOID key)
{
	POBJECT_NAME_INFORMATION name = ExAllocatePoolWithTag(PagedPool, KEY_NAME_BYTES, KMON_POOL_TAG);
	ULONG got;

	if (name && !NT_SUCCESS(ObQueryNameString(key, name, KEY_NAME_BYTES, &got)))
		name->Name.Length = 0;
	return name;
}

static void emit_set_value(PREG_POST_OPERATION_INFORMATION post)
{
	/* ValueName was captured into kernel memory by the configuration manager. */
	PREG_SET_VALUE_KEY_INFORMATION set = post->PreInformation;
	POBJECT_NAME_INFORMATION name = key_name(post->Object);
	struct kmon_registry_set body;
	struct kmon_field f[2];

	RtlZeroMemory(&body, sizeof(body));
	body.hdr.kind = KMON_KIND_REGISTRY_SET;
	body.hdr.tgid = HandleToULong(PsGetCurrentProcessId());
	body.hdr.tid = HandleToULong(PsGetCurrentThreadId());
	body.value_type = set->Type;
	body.data_size = set->DataSize;
	kmon_string_field(&f[0], KMON_FIELD_UTF16, name ? &name->Name : NULL, KMON_KEY_MAX, &body.key_len);
	kmon_string_field(&f[1], KMON_FIELD_UTF16, set->ValueName, KMON_KEY_MAX, &body.value_name_len);
	if (!name || !name->Name.Length)
		body.hdr.flags |= KMON_F_TRUNCATED(0);
	kmon_emit(&body, sizeof(body), f, 2);
	if (name)
		ExFreePoolWithTag(name, KMON_POOL_TAG);
	kmon_notify();
}

static NTSTATUS NTAPI registry_callback(PVOID ctx, PVOID cls, PVOID arg)
{
	PREG_POST_OPERATION_INFORMATION post = arg;

	UNREFERENCED_PARAMETER(ctx);
	/* Post-operation, so only writes that happened are reported. */
	if ((REG_NOTIFY_CLASS)(ULONG_PTR)cls == RegNtPostSetValueKey && NT_SUCCESS(post->Status) &&
	    post->PreInformation)
		emit_set_value(post);
	return STATUS_SUCCESS;
}

void kmon_registry_init(PDRIVER_OBJECT driver)
{
	UNICODE_STRING reg_name = RTL_CONSTANT_STRING(L"CmRegisterCallbackEx");
	UNICODE_STRING unreg_name = RTL_CONSTANT_STRING(L"CmUnRegisterCallback");
	UNICODE_STRING altitude = RTL_CONSTANT_STRING(L"385201"); /* activity-monitor range */
	register_fn *reg = (register_fn *)MmGetSystemRoutineAddress(&reg_name);

	unregister = (unregister_fn *)MmGetSystemRoutineAddress(&unreg_name);
	if (reg && unregister && NT_SUCCESS(reg(registry_callback, &altitude, driver, NULL, &cookie, NULL)))
		kmon.sources |= KMON_SRC_REGISTRY;
}

void kmon_registry_free(void)
{
	if (kmon.sources & KMON_SRC_REGISTRY)
		unregister(cookie);
	kmon.sources &= ~KMON_SRC_REGISTRY;
}
