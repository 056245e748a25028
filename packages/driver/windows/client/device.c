/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
#include "kmonctl.h"

HANDLE dev_open(BOOL overlapped)
{
	return CreateFileW(KMON_USER_PATH, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
			   overlapped ? FILE_FLAG_OVERLAPPED : 0, NULL);
}

DWORD dev_ioctl(HANDLE h, DWORD code, const void *in, DWORD in_len, void *out, DWORD out_len, DWORD *bytes)
{
	*bytes = 0;
	return DeviceIoControl(h, code, (void *)in, in_len, out, out_len, bytes, NULL) ? 0 : GetLastError();
}

DWORD dev_synth(HANDLE h, kmon_u32 period_ms, kmon_u32 per_tick, kmon_u32 payload, kmon_u64 count)
{
	struct kmon_synth_config c = { period_ms, per_tick, payload, 0, count };
	DWORD bytes;

	return dev_ioctl(h, KMON_IOCTL_SYNTH_START, &c, sizeof(c), NULL, 0, &bytes);
}

DWORD dev_info(HANDLE h, struct kmon_info *info)
{
	DWORD bytes;

	return dev_ioctl(h, KMON_IOCTL_GET_INFO, NULL, 0, info, sizeof(*info), &bytes);
}

DWORD dev_stats(HANDLE h, struct kmon_cpu_stats *stats)
{
	DWORD bytes;

	return dev_ioctl(h, KMON_IOCTL_GET_STATS, NULL, 0, stats, sizeof(*stats), &bytes);
}
