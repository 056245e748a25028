// SPDX-License-Identifier: MIT
/*
 * kmon load generator: makes one kind of call in a loop.
 *
 *   loadgen [--call getppid|open|connect] [--path P] [--rate N] [--duration S | --count N]
 *           [--wait stdin|signal|none]
 *
 *   --call        getppid (default): syscall(SYS_getppid) (never a cached
 *                 libc value), which kmon's synthetic source turns into one
 *                 record per call when it is attached for this process, and
 *                 which no other kmon program sees (an unrelated syscall);
 *                 open: open(--path, O_RDONLY) + close (glibc's open() is
 *                 openat(2)); connect: a TCP socket, connect() to a closed
 *                 port on 127.0.0.1 (refused at once: the cheapest connect
 *                 that goes through the whole call), close.
 *   --rate N      calls per second; 0 (default) = as fast as possible. Paced
 *                 runs call in batches every --tick-us (default 1000 us) with
 *                 clock_nanosleep(TIMER_ABSTIME), catching up on the total
 *                 due so far, so the average rate is exact even when one
 *                 tick is late.
 *   --duration S  run for S seconds (default 3), or
 *   --count N     stop after N calls (whichever comes first if both).
 *   --wait        stdin (default): start when a line (or EOF) arrives on
 *                 stdin, so the consumer can attach to our pid first;
 *                 signal: start on SIGUSR1; none: start at once.
 *
 * Prints one JSON object on stdout when done:
 *   {"pid","call","rate_target","calls","elapsed_ns","rate","late_ticks",
 *    "cpu_user_us","cpu_sys_us","cpu_ns_per_call","nvcsw","nivcsw"}
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void usage(void)
{
	fprintf(stderr, "usage: loadgen [--call getppid|open|connect] [--path P] [--rate N] [--duration S] [--count N] [--tick-us U] [--wait stdin|signal|none]\n");
	exit(2);
}

static volatile sig_atomic_t go;
static void on_go(int sig)
{
	(void)sig;
	go = 1;
}

static const char *open_path;
static struct sockaddr_in refused = {.sin_family = AF_INET};

static void call_getppid(void)
{
	syscall(SYS_getppid);
}

static void call_open(void)
{
	int fd = open(open_path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0)
		close(fd);
}

static void call_connect(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	connect(fd, (const struct sockaddr *)&refused, sizeof(refused));
	close(fd);
}

/* A loopback port nobody listens on: one the kernel just handed out, released. */
static int pick_refused_port(void)
{
	socklen_t len = sizeof(refused);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	refused.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (const struct sockaddr *)&refused, sizeof(refused)) ||
	    getsockname(fd, (struct sockaddr *)&refused, &len))
		return -1;
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	double rate = 0, duration = 3;
	uint64_t count = 0, tick_ns = 1000000;
	const char *wait = "stdin", *call = "getppid";
	void (*one_call)(void) = call_getppid;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (i + 1 >= argc)
			usage();
		if (!strcmp(a, "--rate"))
			rate = atof(argv[++i]);
		else if (!strcmp(a, "--duration"))
			duration = atof(argv[++i]);
		else if (!strcmp(a, "--count"))
			count = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(a, "--tick-us"))
			tick_ns = strtoull(argv[++i], NULL, 10) * 1000;
		else if (!strcmp(a, "--wait"))
			wait = argv[++i];
		else if (!strcmp(a, "--call"))
			call = argv[++i];
		else if (!strcmp(a, "--path"))
			open_path = argv[++i];
		else
			usage();
	}
	if (rate < 0 || duration <= 0 || tick_ns == 0)
		usage();
	if (!strcmp(call, "open")) {
		if (!open_path || access(open_path, R_OK)) {
			fprintf(stderr, "loadgen: --call open needs --path of a readable file\n");
			return 2;
		}
		one_call = call_open;
	} else if (!strcmp(call, "connect")) {
		if (pick_refused_port()) {
			perror("loadgen: finding a closed loopback port");
			return 1;
		}
		one_call = call_connect;
	} else if (strcmp(call, "getppid")) {
		usage();
	}

	if (!strcmp(wait, "stdin")) {
		char line[64];
		if (!fgets(line, sizeof(line), stdin) && ferror(stdin)) {
			perror("loadgen: stdin");
			return 1;
		}
	} else if (!strcmp(wait, "signal")) {
		sigset_t set, old;
		signal(SIGUSR1, on_go);
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, &old);
		while (!go)
			sigsuspend(&old);
		sigprocmask(SIG_SETMASK, &old, NULL);
	} else if (strcmp(wait, "none")) {
		usage();
	}

	struct rusage ru0, ru1;
	getrusage(RUSAGE_SELF, &ru0);
	const uint64_t limit = count ? count : UINT64_MAX;
	const uint64_t start = now_ns();
	const uint64_t end = start + (uint64_t)(duration * 1e9);
	uint64_t calls = 0, late_ticks = 0, t = start;

	if (rate == 0) {
		/* Saturating: check the clock every 1024 calls (~1 ms at most). */
		while (calls < limit) {
			uint64_t n = limit - calls < 1024 ? limit - calls : 1024;
			for (uint64_t k = 0; k < n; k++)
				one_call();
			calls += n;
			if ((t = now_ns()) >= end)
				break;
		}
	} else {
		struct timespec next;
		uint64_t tick_at = start;
		while (calls < limit) {
			t = now_ns();
			if (t >= end)
				break;
			/* Calls due by now, by the exact rate. */
			uint64_t due = (uint64_t)((double)(t - start) * rate / 1e9) + 1;
			if (due > limit)
				due = limit;
			while (calls < due) {
				one_call();
				calls++;
			}
			tick_at += tick_ns;
			uint64_t after = now_ns();
			if (after > tick_at) { /* this tick overran: no sleep, resync */
				late_ticks++;
				tick_at = after;
				continue;
			}
			next.tv_sec = tick_at / 1000000000ull;
			next.tv_nsec = tick_at % 1000000000ull;
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
				;
		}
		t = now_ns();
	}
	getrusage(RUSAGE_SELF, &ru1);
	uint64_t elapsed = t - start;
	uint64_t user_us = (uint64_t)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) * 1000000 + (uint64_t)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec);
	uint64_t sys_us = (uint64_t)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) * 1000000 + (uint64_t)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec);
	/* CPU per call is immune to the generator being descheduled on a busy machine. */
	printf("{\"pid\":%d,\"call\":\"%s\",\"rate_target\":%.0f,\"calls\":%llu,\"elapsed_ns\":%llu,\"rate\":%.1f,\"late_ticks\":%llu,"
	       "\"cpu_user_us\":%llu,\"cpu_sys_us\":%llu,\"cpu_ns_per_call\":%.1f,\"nvcsw\":%ld,\"nivcsw\":%ld}\n",
	       getpid(), call, rate, (unsigned long long)calls, (unsigned long long)elapsed,
	       elapsed ? (double)calls * 1e9 / (double)elapsed : 0.0, (unsigned long long)late_ticks,
	       (unsigned long long)user_us, (unsigned long long)sys_us,
	       calls ? (double)(user_us + sys_us) * 1e3 / (double)calls : 0.0,
	       ru1.ru_nvcsw - ru0.ru_nvcsw, ru1.ru_nivcsw - ru0.ru_nivcsw);
	return 0;
}
