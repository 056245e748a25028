/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/* Security descriptors with ACEs for LocalSystem and Administrators only. */
#ifndef KMON_SECURITY_H
#define KMON_SECURITY_H

#include <ntifs.h>

struct kmon_sd {
	SECURITY_DESCRIPTOR sd;
	ULONG acl[64]; /* ACL header + two ACEs with SIDs of at most 68 bytes; ULONG-aligned */
};

NTSTATUS kmon_sd_build(struct kmon_sd *s, ACCESS_MASK system_access, ACCESS_MASK admins_access);

/* Replaces the DACL of a kernel object (the device) by s's. */
NTSTATUS kmon_sd_apply(PVOID object, struct kmon_sd *s);

#endif /* KMON_SECURITY_H */
