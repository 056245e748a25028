/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * kmonctl: install/start/stop/remove kmon.sys, print its records, measure it.
 *   kmonctl install PATH\kmon.sys | start | stop | remove
 *   kmonctl watch [SECONDS]              print records (pull) for a while
 *   kmonctl rate SECONDS BURST PAYLOAD   synthetic load pulled as fast as possible: records/s, drops
 * The driver's own checks are a separate program, kmon-checks.exe (test/checks.c).
 */
#include <stdio.h>

#include "kmon_frame.h"
#include "kmon_service.h"
#include "kmonctl.h"

static int service_result(const char *what, DWORD error)
{
	if (!error)
		return 0;
	fprintf(stderr, "kmonctl: %s: error %lu\n", what, error);
	return 1;
}

static int cmd_install(const wchar_t *sys_path)
{
	int created;

	return service_result("install", kmon_service_install(sys_path, &created));
}

static int cmd_start(void)
{
	int was_running;

	return service_result("start", kmon_service_start(&was_running));
}

static int cmd_watch(int seconds)
{
	static unsigned char batch[KMON_BATCH_MIN * 8];
	HANDLE h = dev_open(FALSE);
	ULONGLONG end = GetTickCount64() + (ULONGLONG)seconds * 1000;
	DWORD bytes;

	if (h == INVALID_HANDLE_VALUE) {
		fprintf(stderr, "kmonctl: open: error %lu\n", GetLastError());
		return 1;
	}
	while (GetTickCount64() < end) {
		struct recs r = { 0 };
		const struct kmon_header *rec;
		size_t at = 0;

		if (dev_ioctl(h, KMON_IOCTL_PULL, NULL, 0, batch, sizeof(batch), &bytes))
			break;
		if (recs_add(&r, batch, bytes))
			fprintf(stderr, "kmonctl: %s\n", r.error);
		while ((rec = recs_next(&r, &at)) != NULL)
			recs_print(rec);
		recs_free(&r);
		if (!bytes)
			Sleep(50);
	}
	CloseHandle(h);
	return 0;
}

/* Records in a batch, as far as it frames. */
static unsigned long long count_records(const unsigned char *batch, DWORD bytes)
{
	unsigned long long n = 0;
	DWORD at = 0;

	while (at < bytes) {
		struct kmon_frame f = kmon_frame_check(batch + at, bytes - at);

		if (f.verdict == KMON_FRAME_STOP)
			break;
		at += f.size;
		n++;
	}
	return n;
}

/* Synthetic records every millisecond, BURST at a time, pulled for SECONDS. */
static int cmd_rate(int seconds, int burst, int payload)
{
	static unsigned char batch[KMON_BATCH_MIN * 8];
	HANDLE h = dev_open(FALSE);
	struct kmon_cpu_stats before, after;
	ULONGLONG start, end, ms;
	unsigned long long records = 0, bytes_total = 0;
	DWORD bytes;

	if (h == INVALID_HANDLE_VALUE || dev_stats(h, &before) || dev_synth(h, 1, burst, payload, 0)) {
		fprintf(stderr, "kmonctl: rate: error %lu\n", GetLastError());
		return 1;
	}
	start = GetTickCount64();
	end = start + (ULONGLONG)seconds * 1000;
	while (GetTickCount64() < end) {
		if (dev_ioctl(h, KMON_IOCTL_PULL, NULL, 0, batch, sizeof(batch), &bytes))
			break;
		records += count_records(batch, bytes);
		bytes_total += bytes;
		if (!bytes)
			Sleep(1);
	}
	dev_ioctl(h, KMON_IOCTL_SYNTH_STOP, NULL, 0, NULL, 0, &bytes);
	dev_stats(h, &after);
	ms = GetTickCount64() - start;
	printf("rate: %llu records (%llu bytes) in %llu ms = %.0f records/s; emitted %llu, dropped %llu\n", records,
	       bytes_total, ms, (double)records * 1000.0 / (double)(ms ? ms : 1),
	       after.attempted - before.attempted, after.dropped[KMON_KIND_SYNTH] - before.dropped[KMON_KIND_SYNTH]);
	CloseHandle(h);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: kmonctl install PATH | start | stop | remove | watch [SECONDS] | rate SECONDS BURST PAYLOAD\n");
	return 2;
}

int wmain(int argc, wchar_t **argv);

int wmain(int argc, wchar_t **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return usage();
	if (!wcscmp(argv[1], L"install") && argc == 3)
		return cmd_install(argv[2]);
	if (!wcscmp(argv[1], L"start"))
		return cmd_start();
	if (!wcscmp(argv[1], L"stop"))
		return service_result("stop", kmon_service_stop());
	if (!wcscmp(argv[1], L"remove"))
		return service_result("remove", kmon_service_remove());
	if (!wcscmp(argv[1], L"rate") && argc == 5)
		return cmd_rate(_wtoi(argv[2]), _wtoi(argv[3]), _wtoi(argv[4]));
	if (!wcscmp(argv[1], L"watch"))
		return cmd_watch(argc >= 3 ? _wtoi(argv[2]) : 10);
	return usage();
}
