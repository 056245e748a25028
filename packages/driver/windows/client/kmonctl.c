/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * kmonctl: install/start/stop/remove kmon.sys, run its checks, print records.
 *   kmonctl install PATH\kmon.sys | start | stop | remove
 *   kmonctl check NAME... | all     one KMON-CHECK line each; exit 1 if any failed
 *   kmonctl watch [SECONDS]         print records (pull) for a while
 *   kmonctl hold                    keep a WAIT pending across an unload (test)
 *   kmonctl rate SECONDS BURST PAYLOAD   synthetic load pulled as fast as possible: records/s, drops
 *   kmonctl list                    names of the checks
 */
#include <stdio.h>
#include <string.h>

#include "kmonctl.h"

static int run_check(const wchar_t *name)
{
	char narrow[64], detail[512];
	size_t i;
	int result;

	snprintf(narrow, sizeof(narrow), "%ls", name);
	for (i = 0; i < check_count; i++) {
		if (strcmp(narrow, checks[i].name) != 0)
			continue;
		detail[0] = 0;
		result = checks[i].run(detail, sizeof(detail));
		report(checks[i].name, result, detail);
		return result != 0;
	}
	report(narrow, 0, "no such check");
	return 0;
}

static int cmd_check(int argc, wchar_t **argv)
{
	int i, ok = 1;
	size_t c;

	if (argc == 1 && !wcscmp(argv[0], L"all")) {
		for (c = 0; c < check_count; c++) {
			wchar_t wide[64];

			swprintf(wide, 64, L"%hs", checks[c].name);
			ok &= run_check(wide);
		}
		return !ok;
	}
	for (i = 0; i < argc; i++)
		ok &= run_check(argv[i]);
	return !ok;
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
		recs_add(&r, batch, bytes);
		while ((rec = recs_next(&r, &at)) != NULL)
			recs_print(rec);
		recs_free(&r);
		if (!bytes)
			Sleep(50);
	}
	CloseHandle(h);
	return 0;
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
		size_t at = 0;

		if (dev_ioctl(h, KMON_IOCTL_PULL, NULL, 0, batch, sizeof(batch), &bytes))
			break;
		while (at < bytes) {
			at += ((const struct kmon_header *)(batch + at))->size;
			records++;
		}
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
	fprintf(stderr, "usage: kmonctl install PATH | start | stop | remove | check NAME...|all | watch [SECONDS] |"
			" rate SECONDS BURST PAYLOAD | list\n");
	return 2;
}

int wmain(int argc, wchar_t **argv);

int wmain(int argc, wchar_t **argv)
{
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return usage();
	if (!wcscmp(argv[1], L"install") && argc == 3)
		return scm_install(argv[2]);
	if (!wcscmp(argv[1], L"start"))
		return scm_start();
	if (!wcscmp(argv[1], L"stop"))
		return scm_stop();
	if (!wcscmp(argv[1], L"remove"))
		return scm_remove();
	if (!wcscmp(argv[1], L"check") && argc >= 3)
		return cmd_check(argc - 2, argv + 2);
	if (!wcscmp(argv[1], L"hold"))
		return hold_until_unload();
	if (!wcscmp(argv[1], L"rate") && argc == 5)
		return cmd_rate(_wtoi(argv[2]), _wtoi(argv[3]), _wtoi(argv[4]));
	if (!wcscmp(argv[1], L"watch"))
		return cmd_watch(argc >= 3 ? _wtoi(argv[2]) : 10);
	if (!wcscmp(argv[1], L"list")) {
		for (i = 0; i < check_count; i++)
			printf("%s\n", checks[i].name);
		return 0;
	}
	/* The child the process check spawns: exits with the code it is given. */
	if (!wcscmp(argv[1], L"exitcode") && argc == 3)
		return _wtoi(argv[2]);
	return usage();
}
