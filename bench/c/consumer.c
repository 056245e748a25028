// SPDX-License-Identifier: MIT
/*
 * Reference consumer: the same BPF object, skeleton and configuration as
 * @kmon/native, drained by plain libbpf in C with nothing above it. It is
 * the baseline the kmon path (addon -> decoder -> zod -> rx) is compared to.
 *
 *   consumer --tgid PID [--kind synth|open|connect] [--mode each|adaptive|poll] [--payload N]
 *            [--ring-bytes N] [--wakeup-bytes N] [--max-latency-ms N]
 *            [--poll-interval-ms N] [--latency [--probe]] [--epoll-lt] [--slow-ns N]
 *
 * --kind: the records it asks for, all from the generator PID: synth (its
 * getppid() calls, the default), open or connect (the generator's opens or
 * connects, with a process filter on PID as a kmon session given
 * filters.process.pids would have).
 *
 * Defaults are @kmon/core's session defaults (16 MiB ring, 64 KiB wakeup
 * watermark, 20 ms max latency, 10 ms poll interval).
 *
 * Waiting, per mode, as the addon does it on its libuv loop:
 *   each      the kernel wakes us per record: epoll_wait, then drain.
 *   adaptive  the kernel wakes us past wakeup_bytes; besides, a periodic
 *             deadline every max_latency_ms drains whatever waits (the
 *             addon's uv_timer): epoll_wait with the time to that deadline.
 *   poll      no wakeups: sleep to the next poll_interval_ms tick, drain.
 *
 * --probe (with --latency): also reads the thread's run delay (time runnable
 * but not running, /proc/thread-self/schedstat) after every wakeup, and
 * reports how much of the latency of the records at or above the p99 was
 * that wait ("where"), as the kmon consumer's probe does (src/latency-probe.ts).
 *
 * Protocol: prints "ready" on stdout once attached; runs until SIGTERM or
 * SIGINT; then drains what is left, reads the kernel per-CPU counters and
 * prints one JSON object on stdout.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "kmon_config.h"
#include "kmon.skel.h"
#include "hist.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t tv_us(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * 1000000ull + (uint64_t)tv.tv_usec;
}

/*
 * The per-syscall tracepoints need tracefs: mounted when it is not, as the
 * addon does (EbpfBackend's SyscallTracepoints), and left mounted.
 */
static int syscall_tracepoints(void)
{
	if (!access("/sys/kernel/tracing/events/syscalls", F_OK))
		return 1;
	mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL);
	return !access("/sys/kernel/tracing/events/syscalls", F_OK);
}

static volatile sig_atomic_t stopping;
static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

/* The records of one kind the generator's calls make, and the programs that make them. */
struct source {
	const char *name;
	uint32_t kind;
	const char *program;
};

static const struct source sources[] = {
	{"synth", KMON_KIND_SYNTH, "kmon_synth"},
	{"open", KMON_KIND_OPEN, "sys_exit_openat"}, /* the generator's open() is openat(2) */
	{"connect", KMON_KIND_CONNECT, "sys_exit_connect"},
};

/* --probe: per record, its latency and the run delay before the wakeup that drained it. */
struct probe {
	int fd;             /* /proc/thread-self/schedstat */
	uint64_t run_delay; /* cumulative, at the last wakeup */
	uint64_t wait;      /* since the wakeup before */
	uint64_t *latency, *waited;
	size_t n, cap;
};

struct state {
	uint32_t kind;
	uint64_t delivered, bytes, wanted, other, value_gaps, next_value;
	int latency;
	uint64_t slow_ns;
	struct hist hist;
	struct probe *probe;
};

static uint64_t run_delay(int fd)
{
	char buf[128];
	unsigned long long on_cpu = 0, delay = 0;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	sscanf(buf, "%llu %llu", &on_cpu, &delay);
	return delay;
}

/* After a wakeup, before draining: the run delay since the last one. */
static void probe_wakeup(struct probe *p)
{
	uint64_t total = run_delay(p->fd);
	p->wait = total - p->run_delay;
	p->run_delay = total;
}

static void probe_record(struct probe *p, uint64_t latency)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 1 << 16;
		p->latency = realloc(p->latency, p->cap * sizeof(uint64_t));
		p->waited = realloc(p->waited, p->cap * sizeof(uint64_t));
		if (!p->latency || !p->waited) {
			fprintf(stderr, "consumer: out of memory\n");
			exit(1);
		}
	}
	p->latency[p->n] = latency;
	p->waited[p->n++] = p->wait < latency ? p->wait : latency;
}

/* The records at or above the p99: how many, their mean latency and mean wait for a CPU. */
static void probe_print(const struct probe *p, uint64_t p99)
{
	uint64_t n = 0, latency = 0, waited = 0;
	for (size_t i = 0; i < p->n; i++) {
		if (p->latency[i] < p99)
			continue;
		n++;
		latency += p->latency[i];
		waited += p->waited[i];
	}
	printf(",\"where\":{\"events\":%llu,\"latency_ns\":%llu,\"cpu_wait_ns\":%llu}", (unsigned long long)n,
	       (unsigned long long)(n ? latency / n : 0), (unsigned long long)(n ? waited / n : 0));
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct state *st = ctx;
	const struct kmon_header *h = data;

	st->delivered++;
	st->bytes += size;
	if (h->kind == st->kind) {
		st->wanted++;
		if (h->kind == KMON_KIND_SYNTH) {
			const struct kmon_synth *s = data;
			if (st->next_value && s->value != st->next_value)
				st->value_gaps++;
			st->next_value = s->value + 1;
		}
	} else {
		st->other++;
	}
	if (st->latency) {
		int64_t latency = (int64_t)(now_ns() - h->ts_ns);
		hist_add(&st->hist, latency);
		if (st->probe)
			probe_record(st->probe, latency > 0 ? (uint64_t)latency : 0);
	}
	if (st->slow_ns) { /* a deliberately slow consumer */
		uint64_t until = now_ns() + st->slow_ns;
		while (now_ns() < until)
			;
	}
	return 0;
}

/* Waits for a kernel wakeup (at most timeout ms), then drains; > 0 when woken. */
static int wait_and_drain(struct ring_buffer *rb, int efd, int timeout, struct probe *probe)
{
	struct epoll_event ev;
	if (efd < 0)
		return ring_buffer__poll(rb, timeout);
	int n = epoll_wait(efd, &ev, 1, timeout);
	if (n < 0)
		return -errno;
	if (n > 0) {
		if (probe)
			probe_wakeup(probe);
		ring_buffer__consume(rb);
	}
	return n;
}

static void usage(void)
{
	fprintf(stderr, "usage: consumer --tgid PID [--kind synth|open|connect] [--mode each|adaptive|poll] [--payload N] [--ring-bytes N]\n"
			"                [--wakeup-bytes N] [--max-latency-ms N] [--poll-interval-ms N] [--latency [--probe]] [--epoll-lt]\n"
			"                [--slow-ns N]\n");
	exit(2);
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, args);
}

int main(int argc, char **argv)
{
	const char *mode = "adaptive", *kind = "synth";
	const struct source *source = NULL;
	uint32_t tgid = 0, payload = 0;
	uint64_t ring_bytes = 16u << 20, wakeup_bytes = 256u << 10;
	double max_latency_ms = 20, poll_interval_ms = 10;
	static struct state st;
	static struct probe probe;
	int epoll_lt = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--latency")) {
			st.latency = 1;
			continue;
		}
		if (!strcmp(a, "--probe")) {
			st.probe = &probe;
			continue;
		}
		if (!strcmp(a, "--epoll-lt")) {
			epoll_lt = 1;
			continue;
		}
		if (i + 1 >= argc)
			usage();
		if (!strcmp(a, "--tgid"))
			tgid = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(a, "--kind"))
			kind = argv[++i];
		else if (!strcmp(a, "--mode"))
			mode = argv[++i];
		else if (!strcmp(a, "--payload"))
			payload = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(a, "--ring-bytes"))
			ring_bytes = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(a, "--wakeup-bytes"))
			wakeup_bytes = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(a, "--max-latency-ms"))
			max_latency_ms = atof(argv[++i]);
		else if (!strcmp(a, "--slow-ns"))
			st.slow_ns = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(a, "--poll-interval-ms"))
			poll_interval_ms = atof(argv[++i]);
		else
			usage();
	}
	uint32_t wakeup;
	if (!strcmp(mode, "each"))
		wakeup = KMON_WAKEUP_EACH;
	else if (!strcmp(mode, "adaptive"))
		wakeup = KMON_WAKEUP_ADAPTIVE;
	else if (!strcmp(mode, "poll"))
		wakeup = KMON_WAKEUP_POLL;
	else
		usage();
	for (size_t k = 0; k < sizeof(sources) / sizeof(sources[0]); k++)
		if (!strcmp(kind, sources[k].name))
			source = &sources[k];
	if (!tgid || payload > KMON_PAYLOAD_MAX || !source || (st.probe && !st.latency))
		usage();
	if (st.probe) {
		probe.fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
		if (probe.fd < 0) {
			fprintf(stderr, "consumer: /proc/thread-self/schedstat: %s\n", strerror(errno));
			return 1;
		}
		probe.run_delay = run_delay(probe.fd);
	}
	st.kind = source->kind;
	if (source->kind != KMON_KIND_SYNTH && !syscall_tracepoints()) {
		fprintf(stderr, "consumer: no syscall tracepoints (tracefs): %s\n", strerror(errno));
		return 1;
	}

	libbpf_set_print(libbpf_quiet);
	int ncpus = libbpf_num_possible_cpus();
	struct kmon_bpf *skel = kmon_bpf__open();
	if (!skel || ncpus <= 0) {
		fprintf(stderr, "consumer: opening the BPF object: %s\n", strerror(errno));
		return 1;
	}
	/* Exactly what @kmon/native's EbpfBackend::Configure writes. */
	struct kmon_config *cfg = (struct kmon_config *)&skel->rodata->kmon_cfg;
	cfg->kinds = 1u << source->kind;
	cfg->self_tgid = (uint32_t)getpid();
	cfg->threads = 0;
	cfg->wakeup = wakeup;
	cfg->wakeup_bytes = wakeup_bytes < ring_bytes / 2 ? wakeup_bytes : ring_bytes / 2; /* as the addon clamps it */
	cfg->argv_max = KMON_ARGV_DEFAULT;
	cfg->synth_tgid = tgid;
	cfg->synth_payload = payload;
	bpf_map__set_max_entries(skel->maps.kmon_ring, (uint32_t)ring_bytes);
	bpf_map__set_max_entries(skel->maps.kmon_exec_buf, (uint32_t)ncpus);
	/* Only the source's program: every other program (whatever the object holds) stays out. */
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, !strcmp(bpf_program__name(prog), source->program));
	if (source->kind != KMON_KIND_SYNTH)
		skel->bss->kmon_filter.active = KMON_FILTER_SUBTREE;
	int err = kmon_bpf__load(skel);
	if (!err && source->kind != KMON_KIND_SYNTH) {
		uint32_t generation = 0;
		err = bpf_map__update_elem(skel->maps.kmon_tracked, &tgid, sizeof(tgid), &generation, sizeof(generation), BPF_ANY);
	}
	if (!err)
		err = kmon_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "consumer: loading/attaching: %s\n", strerror(-err));
		kmon_bpf__destroy(skel);
		return 1;
	}
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(skel->maps.kmon_ring), on_record, &st, NULL);
	if (!rb) {
		fprintf(stderr, "consumer: ring_buffer__new: %s\n", strerror(errno));
		kmon_bpf__destroy(skel);
		return 1;
	}

	struct sigaction sa = {0};
	sa.sa_handler = on_stop; /* no SA_RESTART: a signal interrupts epoll_wait / nanosleep */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	struct rusage ru0, ru1;
	getrusage(RUSAGE_SELF, &ru0);
	printf("ready\n");
	fflush(stdout);

	/*
	 * As the addon: our own epoll fd holding the ring edge-triggered, so it
	 * turns ready only on a kernel wakeup, then ring_buffer__consume. With
	 * --epoll lt: libbpf's own (level-triggered) ring_buffer__poll instead.
	 */
	int efd = -1;
	if (wakeup != KMON_WAKEUP_POLL && !epoll_lt) {
		struct epoll_event ev = {.events = EPOLLIN | EPOLLET};
		efd = epoll_create1(EPOLL_CLOEXEC);
		if (efd < 0 || epoll_ctl(efd, EPOLL_CTL_ADD, bpf_map__fd(skel->maps.kmon_ring), &ev)) {
			fprintf(stderr, "consumer: epoll: %s\n", strerror(errno));
			return 1;
		}
	}

	const uint64_t period_ns = (uint64_t)((wakeup == KMON_WAKEUP_POLL ? poll_interval_ms : max_latency_ms) * 1e6);
	uint64_t deadline = now_ns() + period_ns;
	uint64_t first_ns = 0, last_ns = 0, at_first = 0, at_last = 0, drains = 0, wakeups = 0, timer_drains = 0;

	while (!stopping) {
		uint64_t before = st.delivered, t0;
		int n = 0;
		if (wakeup == KMON_WAKEUP_EACH) {
			n = wait_and_drain(rb, efd, 1000, st.probe);
			t0 = now_ns();
			if (n > 0)
				wakeups++;
		} else if (wakeup == KMON_WAKEUP_ADAPTIVE) {
			uint64_t t = now_ns();
			int timeout = t >= deadline ? 0 : (int)((deadline - t + 999999) / 1000000);
			n = wait_and_drain(rb, efd, timeout, st.probe);
			t0 = now_ns();
			if (n > 0)
				wakeups++;
			if (t0 >= deadline) { /* the periodic deadline: drain what waits */
				ring_buffer__consume(rb);
				timer_drains++;
				deadline += period_ns;
				if (deadline <= t0)
					deadline = t0 + period_ns;
			}
		} else {
			struct timespec ts = {.tv_sec = deadline / 1000000000ull, .tv_nsec = deadline % 1000000000ull};
			if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
				continue;
			ring_buffer__consume(rb);
			t0 = now_ns();
			timer_drains++;
			deadline += period_ns;
			if (deadline <= t0)
				deadline = t0 + period_ns;
		}
		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "consumer: ring_buffer__poll: %s\n", strerror(-n));
			break;
		}
		if (st.delivered != before) {
			drains++;
			if (!first_ns) {
				first_ns = t0;
				at_first = st.delivered;
			}
			last_ns = t0;
			at_last = st.delivered;
		}
	}
	/* What is left in the ring. */
	while (ring_buffer__consume(rb) > 0)
		;
	getrusage(RUSAGE_SELF, &ru1);

	uint64_t attempted = 0, dropped = 0, truncated = 0;
	struct kmon_cpu_stats *cpus = calloc((size_t)ncpus, sizeof(*cpus));
	uint32_t key = 0;
	if (cpus && !bpf_map__lookup_elem(skel->maps.kmon_stats, &key, sizeof(key), cpus, (size_t)ncpus * sizeof(*cpus), 0)) {
		for (int c = 0; c < ncpus; c++) {
			attempted += cpus[c].attempted;
			truncated += cpus[c].truncated;
			for (int k = 0; k < KMON_KIND_COUNT; k++)
				dropped += cpus[c].dropped[k];
		}
	} else {
		fprintf(stderr, "consumer: reading kmon_stats failed\n");
	}
	free(cpus);
	if (efd >= 0)
		close(efd);
	ring_buffer__free(rb);
	kmon_bpf__destroy(skel);

	uint64_t user_us = tv_us(ru1.ru_utime) - tv_us(ru0.ru_utime);
	uint64_t sys_us = tv_us(ru1.ru_stime) - tv_us(ru0.ru_stime);
	double span = last_ns > first_ns ? (double)(last_ns - first_ns) : 0;
	printf("{\"consumer\":\"c\",\"kind\":\"%s\",\"mode\":\"%s\",\"epoll\":\"%s\",\"payload\":%u,\"delivered\":%llu,\"bytes\":%llu,"
	       "\"first_ns\":%llu,\"last_ns\":%llu,\"rate\":%.1f,\"attempted\":%llu,\"dropped\":%llu,"
	       "\"truncated\":%llu,\"value_gaps\":%llu,\"other\":%llu,\"drains\":%llu,\"wakeups\":%llu,"
	       "\"timer_drains\":%llu,\"cpu_user_us\":%llu,\"cpu_sys_us\":%llu,\"max_rss_kb\":%ld,\"minor_faults\":%ld",
	       kind, mode, efd >= 0 ? "et" : wakeup == KMON_WAKEUP_POLL ? "none" : "lt", payload, (unsigned long long)st.delivered, (unsigned long long)st.bytes,
	       (unsigned long long)first_ns, (unsigned long long)last_ns,
	       span > 0 ? (double)(at_last - at_first) * 1e9 / span : 0.0, (unsigned long long)attempted,
	       (unsigned long long)dropped, (unsigned long long)truncated, (unsigned long long)st.value_gaps,
	       (unsigned long long)st.other, (unsigned long long)drains, (unsigned long long)wakeups,
	       (unsigned long long)timer_drains, (unsigned long long)user_us, (unsigned long long)sys_us,
	       ru1.ru_maxrss, ru1.ru_minflt - ru0.ru_minflt);
	if (st.latency) {
		printf(",\"latency\":{\"count\":%llu,\"p50_ns\":%llu,\"p99_ns\":%llu,\"p999_ns\":%llu,\"max_ns\":%llu,"
		       "\"negative\":%llu",
		       (unsigned long long)st.hist.count, (unsigned long long)hist_quantile(&st.hist, 0.5),
		       (unsigned long long)hist_quantile(&st.hist, 0.99), (unsigned long long)hist_quantile(&st.hist, 0.999),
		       (unsigned long long)st.hist.max, (unsigned long long)st.hist.negative);
		if (st.probe)
			probe_print(st.probe, hist_quantile(&st.hist, 0.99));
		printf("}");
	}
	printf("}\n");
	return 0;
}
