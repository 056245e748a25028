/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
#include "kmon_service.h"

#define STATE_WAIT_MS 10000
#define STATE_POLL_MS 50

/* The kmon service opened with `access`, or NULL with *error set. */
static SC_HANDLE open_service(DWORD access, DWORD *error)
{
	SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT), svc = NULL;

	if (scm)
		svc = OpenServiceW(scm, KMON_SERVICE_NAME, access);
	*error = svc ? 0 : GetLastError();
	if (scm)
		CloseServiceHandle(scm);
	return svc;
}

/* Waits (bounded) until the service is in state `want`. */
static DWORD wait_state(SC_HANDLE svc, DWORD want)
{
	SERVICE_STATUS st;
	DWORD waited;

	for (waited = 0;; waited += STATE_POLL_MS) {
		if (!QueryServiceStatus(svc, &st))
			return GetLastError();
		if (st.dwCurrentState == want)
			return 0;
		if (waited >= STATE_WAIT_MS)
			return ERROR_SERVICE_REQUEST_TIMEOUT;
		Sleep(STATE_POLL_MS);
	}
}

DWORD kmon_service_install(const wchar_t *sys_path, int *created)
{
	wchar_t full[MAX_PATH];
	SC_HANDLE scm, svc;
	DWORD error = 0;

	*created = 0;
	if (!GetFullPathNameW(sys_path, MAX_PATH, full, NULL))
		return GetLastError();
	scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CREATE_SERVICE);
	if (!scm)
		return GetLastError();
	svc = CreateServiceW(scm, KMON_SERVICE_NAME, KMON_SERVICE_DISPLAY_NAME, SERVICE_QUERY_STATUS,
			     SERVICE_KERNEL_DRIVER, SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL, full, NULL, NULL, NULL,
			     NULL, NULL);
	if (svc) {
		*created = 1;
		CloseServiceHandle(svc);
	} else if (GetLastError() != ERROR_SERVICE_EXISTS) {
		error = GetLastError();
	}
	CloseServiceHandle(scm);
	return error;
}

DWORD kmon_service_start(int *was_running)
{
	DWORD error;
	SC_HANDLE svc = open_service(SERVICE_START | SERVICE_QUERY_STATUS, &error);

	*was_running = 0;
	if (!svc)
		return error;
	if (StartServiceW(svc, 0, NULL))
		error = wait_state(svc, SERVICE_RUNNING);
	else if ((error = GetLastError()) == ERROR_SERVICE_ALREADY_RUNNING) {
		*was_running = 1;
		error = 0;
	}
	CloseServiceHandle(svc);
	return error;
}

DWORD kmon_service_stop(void)
{
	SERVICE_STATUS st;
	DWORD error;
	SC_HANDLE svc = open_service(SERVICE_STOP | SERVICE_QUERY_STATUS, &error);

	if (!svc)
		return error;
	if (ControlService(svc, SERVICE_CONTROL_STOP, &st) || GetLastError() == ERROR_SERVICE_NOT_ACTIVE)
		error = wait_state(svc, SERVICE_STOPPED);
	else
		error = GetLastError();
	CloseServiceHandle(svc);
	return error;
}

DWORD kmon_service_remove(void)
{
	DWORD error;
	SC_HANDLE svc = open_service(DELETE, &error);

	if (!svc)
		return error;
	if (!DeleteService(svc))
		error = GetLastError();
	CloseServiceHandle(svc);
	return error;
}
