/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/* Install, start, stop and remove kmon.sys through the service control manager. */
#include <stdio.h>

#include "kmonctl.h"

static int fail(const char *what)
{
	fprintf(stderr, "kmonctl: %s failed: error %lu\n", what, GetLastError());
	return 1;
}

/* Opens the SCM and the kmon service with `access`; NULL service on failure (reported). */
static SC_HANDLE open_service(SC_HANDLE *scm, DWORD access)
{
	SC_HANDLE svc;

	*scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
	if (!*scm) {
		fail("OpenSCManager");
		return NULL;
	}
	svc = OpenServiceW(*scm, KMON_SERVICE, access);
	if (!svc) {
		fail("OpenService");
		CloseServiceHandle(*scm);
	}
	return svc;
}

int scm_install(const wchar_t *sys_path)
{
	wchar_t full[MAX_PATH];
	SC_HANDLE scm, svc;

	if (!GetFullPathNameW(sys_path, MAX_PATH, full, NULL))
		return fail("GetFullPathName");
	scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CREATE_SERVICE);
	if (!scm)
		return fail("OpenSCManager");
	svc = CreateServiceW(scm, KMON_SERVICE, L"kmon kernel event monitor", SERVICE_ALL_ACCESS,
			     SERVICE_KERNEL_DRIVER, SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL, full, NULL, NULL,
			     NULL, NULL, NULL);
	if (!svc && GetLastError() != ERROR_SERVICE_EXISTS) {
		CloseServiceHandle(scm);
		return fail("CreateService");
	}
	if (svc)
		CloseServiceHandle(svc);
	CloseServiceHandle(scm);
	return 0;
}

int scm_start(void)
{
	SC_HANDLE scm, svc = open_service(&scm, SERVICE_START);
	int rc = 0;

	if (!svc)
		return 1;
	if (!StartServiceW(svc, 0, NULL) && GetLastError() != ERROR_SERVICE_ALREADY_RUNNING)
		rc = fail("StartService");
	CloseServiceHandle(svc);
	CloseServiceHandle(scm);
	return rc;
}

/* Waits (bounded) for the stop to finish: unload runs asynchronously to the control. */
static int wait_stopped(SC_HANDLE svc)
{
	SERVICE_STATUS st;
	int i;

	for (i = 0; i < 100; i++) {
		if (!QueryServiceStatus(svc, &st))
			return fail("QueryServiceStatus");
		if (st.dwCurrentState == SERVICE_STOPPED)
			return 0;
		Sleep(100);
	}
	fprintf(stderr, "kmonctl: service did not stop (state %lu)\n", st.dwCurrentState);
	return 1;
}

int scm_stop(void)
{
	SC_HANDLE scm, svc = open_service(&scm, SERVICE_STOP | SERVICE_QUERY_STATUS);
	SERVICE_STATUS st;
	int rc;

	if (!svc)
		return 1;
	if (!ControlService(svc, SERVICE_CONTROL_STOP, &st) && GetLastError() != ERROR_SERVICE_NOT_ACTIVE)
		rc = fail("ControlService(STOP)");
	else
		rc = wait_stopped(svc);
	CloseServiceHandle(svc);
	CloseServiceHandle(scm);
	return rc;
}

int scm_remove(void)
{
	SC_HANDLE scm, svc = open_service(&scm, DELETE);
	int rc = 0;

	if (!svc)
		return 1;
	if (!DeleteService(svc))
		rc = fail("DeleteService");
	CloseServiceHandle(svc);
	CloseServiceHandle(scm);
	return rc;
}
