/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * IoCreateDeviceSecure (wdmsec.lib) is not in mingw-w64, so the device's
 * DACL is built and set here; the named event gets the same treatment so
 * that no other process can signal or reset it.
 */
#include "security.h"

/* Well-known SIDs spelled out: SeExports is not filled in under Wine. */
struct sid2 {
	UCHAR revision;
	UCHAR count;
	SID_IDENTIFIER_AUTHORITY authority;
	ULONG sub[2];
};
static const struct sid2 local_system = { SID_REVISION, 1, { SECURITY_NT_AUTHORITY }, { SECURITY_LOCAL_SYSTEM_RID, 0 } };
static const struct sid2 admins = { SID_REVISION, 2, { SECURITY_NT_AUTHORITY },
				    { SECURITY_BUILTIN_DOMAIN_RID, DOMAIN_ALIAS_RID_ADMINS } };

NTSTATUS kmon_sd_build(struct kmon_sd *s, ACCESS_MASK system_access, ACCESS_MASK admins_access)
{
	PACL acl;
	NTSTATUS status;

	RtlZeroMemory(s, sizeof(*s));
	acl = (PACL)s->acl;
	status = RtlCreateSecurityDescriptor(&s->sd, SECURITY_DESCRIPTOR_REVISION);
	if (NT_SUCCESS(status))
		status = RtlCreateAcl(acl, sizeof(s->acl), ACL_REVISION);
	if (NT_SUCCESS(status))
		status = RtlAddAccessAllowedAce(acl, ACL_REVISION, system_access, (PSID)&local_system);
	if (NT_SUCCESS(status))
		status = RtlAddAccessAllowedAce(acl, ACL_REVISION, admins_access, (PSID)&admins);
	if (NT_SUCCESS(status))
		status = RtlSetDaclSecurityDescriptor(&s->sd, TRUE, acl, FALSE);
	return status;
}

NTSTATUS kmon_sd_apply(PVOID object, struct kmon_sd *s)
{
	HANDLE h;
	NTSTATUS status = ObOpenObjectByPointer(object, OBJ_KERNEL_HANDLE, NULL, WRITE_DAC, NULL, KernelMode, &h);

	if (!NT_SUCCESS(status))
		return status;
	status = ZwSetSecurityObject(h, DACL_SECURITY_INFORMATION, &s->sd);
	ZwClose(h);
	return status;
}
