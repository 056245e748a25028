/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/* Process creation and exit -> KMON_KIND_EXEC / KMON_KIND_EXIT. */
#include "kmon.h"

/* Exported by ntoskrnl, missing from mingw-w64's headers. */
NTKERNELAPI NTSTATUS NTAPI PsGetProcessExitStatus(PEPROCESS process);
NTKERNELAPI PCHAR NTAPI PsGetProcessImageFileName(PEPROCESS process);

/* Process start (system time) on the records' clock (interrupt time). */
static kmon_u64 start_ns(PEPROCESS process)
{
	LARGE_INTEGER now = { .QuadPart = 0 }; /* the macro writes through a cast analyzers cannot follow */
	LONGLONG age;

	KeQuerySystemTime(&now);
	age = now.QuadPart - PsGetProcessCreateTimeQuadPart(process);
	return kmon_now_ns() - (kmon_u64)(age > 0 ? age : 0) * 100;
}

static kmon_u64 parent_start_ns(HANDLE ppid)
{
	PEPROCESS parent;
	kmon_u64 ns;

	if (!NT_SUCCESS(PsLookupProcessByProcessId(ppid, &parent)))
		return 0;
	ns = start_ns(parent);
	ObDereferenceObject(parent);
	return ns;
}

static void emit_exec(PEPROCESS process, HANDLE pid, PPS_CREATE_NOTIFY_INFO info)
{
	struct kmon_exec body;
	struct kmon_field f[2];

	RtlZeroMemory(&body, sizeof(body));
	body.hdr.kind = KMON_KIND_EXEC;
	body.hdr.tgid = HandleToULong(pid); /* tid stays 0: the new process has no thread yet */
	body.start_ns = start_ns(process);
	body.ppid = HandleToULong(info->ParentProcessId);
	body.parent_start_ns = parent_start_ns(info->ParentProcessId);
	if (info->ImageFileName)
		kmon_record_comm(body.comm, info->ImageFileName->Buffer, info->ImageFileName->Length);
	kmon_string_field(&f[0], KMON_FIELD_UTF16, info->ImageFileName, KMON_PATH_MAX, &body.path_len);
	kmon_string_field(&f[1], KMON_FIELD_CMDLINE, info->CommandLine, KMON_ARGV_DEFAULT, &body.argv_len);
	f[1].argc_slot = &body.argc;
	kmon_emit(&body, sizeof(body), f, 2);
}

static void emit_exit(PEPROCESS process, HANDLE pid)
{
	struct kmon_exit body;

	RtlZeroMemory(&body, sizeof(body));
	body.hdr.kind = KMON_KIND_EXIT;
	body.hdr.tgid = HandleToULong(pid);
	body.hdr.tid = HandleToULong(PsGetCurrentThreadId());
	body.start_ns = start_ns(process);
	body.exit_code = PsGetProcessExitStatus(process);
	/* 15 ANSI characters kept by the kernel; ASCII in practice. */
	RtlCopyMemory(body.comm, PsGetProcessImageFileName(process), KMON_COMM_LEN - 1);
	kmon_emit(&body, sizeof(body), NULL, 0);
}

static void process_notify(PEPROCESS process, HANDLE pid, PPS_CREATE_NOTIFY_INFO info)
{
	if (info)
		emit_exec(process, pid, info);
	else
		emit_exit(process, pid);
	kmon_notify();
}

/* Needs an image linked with /INTEGRITYCHECK (--forceinteg); a failure leaves the source off. */
void kmon_process_init(void)
{
	if (NT_SUCCESS(PsSetCreateProcessNotifyRoutineEx(process_notify, FALSE)))
		kmon.sources |= KMON_SRC_PROCESS;
}

void kmon_process_free(void)
{
	if (kmon.sources & KMON_SRC_PROCESS)
		PsSetCreateProcessNotifyRoutineEx(process_notify, TRUE);
	kmon.sources &= ~KMON_SRC_PROCESS;
}
