/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * kmon.sys as a kernel service of the service control manager: the one
 * install/start/stop/remove path, used by kmonctl and by @kmon/native
 * (which loads a missing driver for a session and unloads it after).
 * Each call returns 0 or the Win32 error that stopped it.
 */
#ifndef KMON_SERVICE_H
#define KMON_SERVICE_H

#include <windows.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KMON_SERVICE_NAME L"kmon"
#define KMON_SERVICE_DISPLAY_NAME L"kmon kernel event monitor"

/* Creates the demand-start kernel service for sys_path (made absolute); *created is 0 if it existed already. */
DWORD kmon_service_install(const wchar_t *sys_path, int *created);

/* Starts the service and waits until it runs; *was_running says it ran already (so it is someone else's). */
DWORD kmon_service_start(int *was_running);

/* Stops the service and waits until it has (an unload completes after the control returns). */
DWORD kmon_service_stop(void);

DWORD kmon_service_remove(void);

#ifdef __cplusplus
}
#endif

#endif /* KMON_SERVICE_H */
