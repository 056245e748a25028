/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * kmon-checks.exe: one check per driver behaviour, run under Wine by
 * test/wine-run.sh for packages/driver/test/windows.test.ts. Not shipped:
 * kmonctl.exe is the tool users get.
 *   kmon-checks check NAME... | all   one KMON-CHECK line each; exit 1 if any failed
 *   kmon-checks list                  names of the checks
 *   kmon-checks hold                  keep a WAIT pending across an unload
 *   kmon-checks exitcode N            exits with N (the child the process check spawns)
 * Each check prints a machine-readable line
 *   KMON-CHECK {"check":"...","result":"pass|fail|unsupported","detail":"..."}
 * Every wait is bounded.
 */
#include <aclapi.h>
#include <stdio.h>
#include <string.h>

#include "kmon_ioctl_rules.h"
#include "kmonctl.h"

#define WAIT_MS 5000
#define FIFO_DEPTH 4
#define STATUS_CANCELLED_VALUE 0xC0000120UL

#define FAIL(...) (snprintf(detail, n, __VA_ARGS__), 0)

struct check {
	const char *name;
	int (*run)(char *detail, size_t n); /* 1 pass, 0 fail, -1 unsupported here */
};

static void report(const char *name, int result, const char *detail);

static unsigned char big[KMON_BATCH_MIN * 8];

/* Stops the generator and throws away what earlier activity left in the ring. */
static void quiesce(HANDLE h)
{
	DWORD bytes;

	dev_ioctl(h, KMON_IOCTL_SYNTH_STOP, NULL, 0, NULL, 0, &bytes);
	while (!dev_ioctl(h, KMON_IOCTL_PULL, NULL, 0, big, sizeof(big), &bytes) && bytes)
		;
}

static int check_open(char *detail, size_t n)
{
	HANDLE h = dev_open(FALSE);
	struct kmon_info info;
	DWORD err;

	if (h == INVALID_HANDLE_VALUE)
		return FAIL("open \\\\.\\KMon: error %lu", GetLastError());
	err = dev_info(h, &info);
	CloseHandle(h);
	if (err)
		return FAIL("GET_INFO: error %lu", err);
	snprintf(detail, n, "abi %u ioctl %u ring %u record_max %u sources %#x mechanisms %#x", info.abi_version,
		 info.ioctl_version, info.ring_size, info.record_max, info.sources, info.mechanisms);
	return info.abi_version == KMON_ABI_VERSION && info.ioctl_version == KMON_IOCTL_VERSION &&
	       info.record_max == KMON_WIN_RECORD_MAX;
}

/* One call with the whole output buffer pre-filled: err and bytes as expected, nothing past `keep` touched. */
static int expect(HANDLE h, DWORD code, DWORD in_len, DWORD out_len, DWORD want_err, DWORD want_bytes, DWORD keep,
		  char *detail, size_t n)
{
	static unsigned char in[256], out[KMON_BATCH_MIN + 64];
	DWORD bytes, err, i;

	memset(in, 0, sizeof(in));
	memset(out, 0xa5, sizeof(out));
	err = dev_ioctl(h, code, in, in_len, out, out_len, &bytes);
	if (err != want_err || bytes != want_bytes)
		return FAIL("code %#lx in %lu out %lu: error %lu bytes %lu, want error %lu bytes %lu", code, in_len,
			    out_len, err, bytes, want_err, want_bytes);
	for (i = keep; i < sizeof(out); i++)
		if (out[i] != 0xa5)
			return FAIL("code %#lx out %lu: byte %lu written past the reply", code, out_len, i);
	return 1;
}

static int check_ioctl_sizes(char *detail, size_t n)
{
	HANDLE h = dev_open(FALSE);
	unsigned i, calls = 0;
	int ok = 1;

	if (h == INVALID_HANDLE_VALUE)
		return FAIL("open: error %lu", GetLastError());
	for (i = 0; i < kmon_ioctl_rule_count && ok; i++) {
		const struct kmon_ioctl_rule *r = &kmon_ioctl_rules[i];

		ok = expect(h, r->code, r->in_len + 1, r->out_min, ERROR_INVALID_PARAMETER, 0, 0, detail, n);
		if (ok && r->in_len)
			ok = expect(h, r->code, r->in_len - 1, r->out_min, ERROR_INVALID_PARAMETER, 0, 0, detail, n);
		if (ok && r->out_min)
			ok = expect(h, r->code, r->in_len, r->out_min - 1, ERROR_INSUFFICIENT_BUFFER, 0, 0, detail, n);
		calls += 3;
	}
	if (ok)
		ok = expect(h, KMON_CTL(0x8ff, 0), 0, 16, ERROR_INVALID_FUNCTION, 0, 0, detail, n);
	/* A larger buffer than needed: exactly the reply comes back. */
	if (ok)
		ok = expect(h, KMON_IOCTL_GET_INFO, 0, sizeof(struct kmon_info) + 64, 0, sizeof(struct kmon_info),
			    sizeof(struct kmon_info), detail, n);
	CloseHandle(h);
	if (ok)
		snprintf(detail, n, "%u rules, %u malformed calls rejected, no byte past any reply", kmon_ioctl_rule_count,
			 calls);
	return ok;
}

/*
 * kmon.sys numbers records per CPU and kind. Follows the synthetic records'
 * sequence of each CPU; returns how many numbers they skipped in all (records
 * dropped), or -1 (detail says why) if one went backwards.
 */
#define MAX_CPUS 256
struct seq_walk {
	kmon_u64 next[MAX_CPUS]; /* 0: no record of that CPU yet */
	kmon_u64 skipped;
};

static int follow_seq(struct seq_walk *w, const struct kmon_header *h, size_t i, char *detail, size_t n)
{
	kmon_u64 *next;

	if (h->cpu >= MAX_CPUS)
		return FAIL("record %zu: cpu %u", i, h->cpu);
	next = &w->next[h->cpu];
	if (*next && h->seq < *next)
		return FAIL("record %zu: seq %llu on cpu %u after %llu", i, h->seq, h->cpu, *next - 1);
	if (*next)
		w->skipped += h->seq - *next;
	*next = h->seq + 1;
	return 1;
}

/* Synthetic records of one run: values 0..count-1 in ring order, no seq skipped on any CPU. */
static int synth_run_ok(const struct recs *r, size_t count, char *detail, size_t n)
{
	static struct seq_walk w;
	const struct kmon_header *h;
	size_t at = 0, i = 0;

	memset(&w, 0, sizeof(w));
	while ((h = recs_next(r, &at)) != NULL) {
		const struct kmon_synth *s = (const void *)h;

		if (h->kind != KMON_KIND_SYNTH)
			continue;
		if (s->value != i)
			return FAIL("record %zu: value %llu (seq %llu, cpu %u): out of order", i, s->value, h->seq, h->cpu);
		if (!follow_seq(&w, h, i, detail, n))
			return 0;
		if (w.skipped)
			return FAIL("record %zu: seq %llu on cpu %u skips %llu", i, h->seq, h->cpu, w.skipped);
		i++;
	}
	if (i != count)
		return FAIL("%zu of %zu synthetic records%s%s", i, count, r->error[0] ? ": " : "", r->error);
	return 1;
}

static int check_synth_pull(char *detail, size_t n)
{
	HANDLE h = dev_open(FALSE);
	struct recs r = { 0 };
	DWORD err;
	int ok;

	if (h == INVALID_HANDLE_VALUE)
		return FAIL("open: error %lu", GetLastError());
	quiesce(h);
	err = dev_synth(h, 1, 50, 100, 1000);
	if (err) {
		CloseHandle(h);
		return FAIL("SYNTH_START: error %lu", err);
	}
	recs_pull_kind(h, &r, KMON_KIND_SYNTH, 1000, 3 * WAIT_MS);
	ok = synth_run_ok(&r, 1000, detail, n);
	if (ok)
		snprintf(detail, n, "1000 records in value order, payload 100, well-formed, no seq gap on any CPU");
	quiesce(h);
	recs_free(&r);
	CloseHandle(h);
	return ok;
}

/* Generates `count` records and waits for `ev` to say they are there, then pulls them. */
static int wake_and_pull(HANDLE h, HANDLE ev, size_t count, char *detail, size_t n)
{
	struct recs r = { 0 };
	DWORD err, w;
	int ok;

	WaitForSingleObject(ev, 0); /* an earlier signal is not this test's */
	if (WaitForSingleObject(ev, 0) != WAIT_TIMEOUT)
		return FAIL("event signalled with nothing emitted");
	err = dev_synth(h, 10, (kmon_u32)count, 16, count);
	if (err)
		return FAIL("SYNTH_START: error %lu", err);
	w = WaitForSingleObject(ev, WAIT_MS);
	if (w != WAIT_OBJECT_0)
		return FAIL("event not signalled within %d ms (wait %lu)", WAIT_MS, w);
	recs_pull_kind(h, &r, KMON_KIND_SYNTH, count, WAIT_MS);
	ok = synth_run_ok(&r, count, detail, n);
	recs_free(&r);
	return ok;
}

static int check_client_event(char *detail, size_t n)
{
	HANDLE h = dev_open(FALSE), ev = CreateEventW(NULL, FALSE, FALSE, NULL);
	struct kmon_event_reg reg = { (kmon_u64)(ULONG_PTR)ev };
	DWORD err, bytes;
	int ok = 0;

	if (h == INVALID_HANDLE_VALUE)
		return FAIL("open: error %lu", GetLastError());
	quiesce(h);
	err = dev_ioctl(h, KMON_IOCTL_REGISTER_EVENT, &reg, sizeof(reg), NULL, 0, &bytes);
	if (err)
		snprintf(detail, n, "REGISTER_EVENT: error %lu", err);
	else if ((ok = wake_and_pull(h, ev, 10, detail, n)) != 0)
		snprintf(detail, n, "own event signalled, 10 records pulled");
	dev_ioctl(h, KMON_IOCTL_UNREGISTER_EVENT, NULL, 0, NULL, 0, &bytes);
	quiesce(h);
	CloseHandle(ev);
	CloseHandle(h);
	return ok;
}

/* Every ACE of the object's DACL is for SYSTEM or Administrators; *aces gets their number. */
static int dacl_admin_only(HANDLE obj, DWORD *aces, char *detail, size_t n)
{
	PSECURITY_DESCRIPTOR sd = NULL;
	PACL dacl = NULL;
	BYTE system_sid[SECURITY_MAX_SID_SIZE], admins_sid[SECURITY_MAX_SID_SIZE];
	DWORD size = sizeof(system_sid), err, i;
	int ok = 1;

	CreateWellKnownSid(WinLocalSystemSid, NULL, system_sid, &size);
	size = sizeof(admins_sid);
	CreateWellKnownSid(WinBuiltinAdministratorsSid, NULL, admins_sid, &size);
	err = GetSecurityInfo(obj, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL, &dacl, NULL, &sd);
	if (err || !dacl || !dacl->AceCount)
		ok = FAIL("GetSecurityInfo: error %lu, %u ACEs", err, dacl ? dacl->AceCount : 0);
	for (i = 0; ok && i < dacl->AceCount; i++) {
		ACCESS_ALLOWED_ACE *ace;

		if (!GetAce(dacl, i, (void **)&ace) || ace->Header.AceType != ACCESS_ALLOWED_ACE_TYPE)
			ok = FAIL("ACE %lu is not an allow ACE", i);
		else if (!EqualSid((PSID)&ace->SidStart, system_sid) && !EqualSid((PSID)&ace->SidStart, admins_sid))
			ok = FAIL("ACE %lu grants access to someone else than SYSTEM or Administrators", i);
	}
	*aces = ok ? dacl->AceCount : 0;
	LocalFree(sd);
	return ok;
}

static int check_named_event(char *detail, size_t n)
{
	HANDLE h = dev_open(FALSE), ev;
	DWORD aces;
	int ok = 0;

	if (h == INVALID_HANDLE_VALUE)
		return FAIL("open: error %lu", GetLastError());
	quiesce(h);
	ev = OpenEventW(SYNCHRONIZE | READ_CONTROL, FALSE, KMON_EVENT_USER_NAME);
	if (!ev)
		snprintf(detail, n, "OpenEvent(SYNCHRONIZE): error %lu", GetLastError());
	else if (dacl_admin_only(ev, &aces, detail, n) && (ok = wake_and_pull(h, ev, 10, detail, n)) != 0)
		snprintf(detail, n, "DACL: %lu ACEs, SYSTEM/Administrators only; opened for SYNCHRONIZE, signalled, 10 records pulled",
			 aces);
	if (ev)
		CloseHandle(ev);
	quiesce(h);
	CloseHandle(h);
	return ok;
}

/* Copies the records between tail and head of the mapped ring into r; returns the new position. */
static kmon_u64 read_mapped(const struct kmon_ring_header *rh, kmon_u64 pos, struct recs *r)
{
	const unsigned char *data = (const unsigned char *)rh + rh->data_offset;
	kmon_u64 head = __atomic_load_n(&rh->head, __ATOMIC_ACQUIRE);

	while (pos < head) {
		const struct kmon_header *h = (const void *)(data + pos % rh->data_size);

		if (h->size < 8 || h->size % KMON_RECORD_ALIGN)
			break;
		if (h->kind != KMON_KIND_PAD && recs_add(r, h, h->size))
			break;
		pos += h->size;
	}
	return pos;
}

static int check_mapped_ring(char *detail, size_t n)
{
	HANDLE h = dev_open(FALSE);
	struct kmon_ring_map map;
	struct kmon_consume c;
	struct recs r = { 0 };
	MEMORY_BASIC_INFORMATION mbi;
	const struct kmon_ring_header *rh;
	ULONGLONG end = GetTickCount64() + WAIT_MS;
	DWORD err, bytes;
	int ok;

	if (h == INVALID_HANDLE_VALUE)
		return FAIL("open: error %lu", GetLastError());
	quiesce(h);
	err = dev_ioctl(h, KMON_IOCTL_MAP_RING, NULL, 0, &map, sizeof(map), &bytes);
	if (err) {
		CloseHandle(h);
		return err == ERROR_NOT_SUPPORTED ? (snprintf(detail, n, "driver built without SEH (gcc)"), -1)
						  : FAIL("MAP_RING: error %lu", err);
	}
	rh = (const void *)(ULONG_PTR)map.address;
	if (!VirtualQuery(rh, &mbi, sizeof(mbi)) || mbi.Protect != PAGE_READONLY || rh->magic != KMON_RING_MAGIC) {
		ok = FAIL("mapping protect %#lx magic %#x", mbi.Protect, rh->magic);
	} else {
		c.pos = rh->tail;
		dev_synth(h, 10, 20, 16, 20);
		while (recs_count_kind(&r, KMON_KIND_SYNTH) < 20 && GetTickCount64() < end)
			c.pos = read_mapped(rh, c.pos, &r), Sleep(5);
		err = dev_ioctl(h, KMON_IOCTL_CONSUME, &c, sizeof(c), NULL, 0, &bytes);
		ok = synth_run_ok(&r, 20, detail, n) && (err ? FAIL("CONSUME: error %lu", err) : 1);
		if (ok)
			snprintf(detail, n, "read-only mapping, 20 records read in place, consumed to %llu", c.pos);
	}
	dev_ioctl(h, KMON_IOCTL_UNMAP_RING, NULL, 0, NULL, 0, &bytes);
	recs_free(&r);
	quiesce(h);
	CloseHandle(h);
	return ok;
}

/* A request left pending on an overlapped handle: WAIT IOCTL or ReadFile. */
struct pending {
	OVERLAPPED ov;
	unsigned char buf[KMON_BATCH_MIN];
	DWORD err;
};

static void issue(HANDLE h, BOOL use_read, struct pending *p)
{
	BOOL done;

	memset(&p->ov, 0, sizeof(p->ov));
	p->ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
	done = use_read ? ReadFile(h, p->buf, sizeof(p->buf), NULL, &p->ov)
			: DeviceIoControl(h, KMON_IOCTL_WAIT, NULL, 0, p->buf, sizeof(p->buf), NULL, &p->ov);
	p->err = done ? 0 : GetLastError();
}

static int all_pending(struct pending *p, int count, char *detail, size_t n)
{
	int i;

	Sleep(200);
	for (i = 0; i < count; i++)
		if (p[i].err != ERROR_IO_PENDING || HasOverlappedIoCompleted(&p[i].ov))
			return FAIL("request %d did not stay pending (error %lu)", i, p[i].err);
	return 1;
}

static void release(struct pending *p, int count)
{
	int i;

	for (i = 0; i < count; i++)
		CloseHandle(p[i].ov.hEvent);
}

/* FIFO_DEPTH requests in flight, then one record per tick: request i must get record i. */
static int check_fifo(BOOL use_read, char *detail, size_t n)
{
	static struct pending p[FIFO_DEPTH];
	HANDLE h = dev_open(TRUE), ctl = dev_open(FALSE);
	DWORD bytes;
	int i, ok;

	if (h == INVALID_HANDLE_VALUE || ctl == INVALID_HANDLE_VALUE)
		return FAIL("open: error %lu", GetLastError());
	quiesce(ctl);
	for (i = 0; i < FIFO_DEPTH; i++)
		issue(h, use_read, &p[i]);
	ok = all_pending(p, FIFO_DEPTH, detail, n);
	if (ok)
		dev_synth(ctl, 20, 1, 8, FIFO_DEPTH);
	for (i = 0; ok && i < FIFO_DEPTH; i++) {
		struct recs r = { 0 };

		if (WaitForSingleObject(p[i].ov.hEvent, WAIT_MS) != WAIT_OBJECT_0)
			ok = FAIL("request %d not completed within %d ms", i, WAIT_MS);
		else if (!GetOverlappedResult(h, &p[i].ov, &bytes, FALSE))
			ok = FAIL("request %d failed: error %lu", i, GetLastError());
		else if (bytes > sizeof(p[i].buf) || recs_add(&r, p[i].buf, bytes) || r.count != 1)
			ok = FAIL("request %d: %lu bytes, %zu records %s", i, bytes, r.count, r.error);
		else if (((const struct kmon_synth *)r.buf)->value != (kmon_u64)i)
			ok = FAIL("request %d completed with record %llu: not FIFO", i,
				  ((const struct kmon_synth *)r.buf)->value);
		recs_free(&r);
	}
	CancelIoEx(h, NULL);
	CloseHandle(h); /* completes any request a failure left behind */
	release(p, FIFO_DEPTH);
	quiesce(ctl);
	CloseHandle(ctl);
	if (ok)
		snprintf(detail, n, "%d %s pending, completed in issue order with records 0..%d", FIFO_DEPTH,
			 use_read ? "overlapped reads" : "WAIT IOCTLs", FIFO_DEPTH - 1);
	return ok;
}

static int check_pending_ioctl(char *detail, size_t n)
{
	return check_fifo(FALSE, detail, n);
}

static int check_read_overlapped(char *detail, size_t n)
{
	return check_fifo(TRUE, detail, n);
}

static int check_cancel(char *detail, size_t n)
{
	static struct pending p;
	HANDLE h = dev_open(TRUE);
	DWORD bytes;
	int ok;

	if (h == INVALID_HANDLE_VALUE)
		return FAIL("open: error %lu", GetLastError());
	issue(h, FALSE, &p);
	ok = all_pending(&p, 1, detail, n);
	if (ok && !CancelIoEx(h, &p.ov))
		ok = FAIL("CancelIoEx: error %lu", GetLastError());
	if (ok && WaitForSingleObject(p.ov.hEvent, WAIT_MS) != WAIT_OBJECT_0)
		ok = FAIL("cancelled request not completed within %d ms", WAIT_MS);
	if (ok && (GetOverlappedResult(h, &p.ov, &bytes, FALSE) || GetLastError() != ERROR_OPERATION_ABORTED))
		ok = FAIL("cancelled request ended with error %lu, bytes %lu", GetLastError(), bytes);
	CloseHandle(h);
	release(&p, 1);
	if (ok)
		snprintf(detail, n, "pending WAIT cancelled by CancelIoEx: ERROR_OPERATION_ABORTED");
	return ok;
}

static int check_close_cancels(char *detail, size_t n)
{
	static struct pending p[2];
	HANDLE h = dev_open(TRUE), again;
	struct kmon_info info;
	int i, ok;

	if (h == INVALID_HANDLE_VALUE)
		return FAIL("open: error %lu", GetLastError());
	issue(h, FALSE, &p[0]);
	issue(h, TRUE, &p[1]);
	ok = all_pending(p, 2, detail, n);
	CloseHandle(h);
	for (i = 0; ok && i < 2; i++) {
		if (WaitForSingleObject(p[i].ov.hEvent, WAIT_MS) != WAIT_OBJECT_0)
			ok = FAIL("request %d still pending %d ms after its handle closed", i, WAIT_MS);
		else if ((DWORD)p[i].ov.Internal != STATUS_CANCELLED_VALUE)
			ok = FAIL("request %d ended with status %#lx", i, (DWORD)p[i].ov.Internal);
	}
	release(p, 2);
	again = dev_open(FALSE);
	if (ok && (again == INVALID_HANDLE_VALUE || dev_info(again, &info)))
		ok = FAIL("driver unusable after the close");
	if (again != INVALID_HANDLE_VALUE)
		CloseHandle(again);
	if (ok)
		snprintf(detail, n, "closing the handle cancelled its pending WAIT and read");
	return ok;
}

static int check_read_sync(char *detail, size_t n)
{
	HANDLE h = dev_open(FALSE);
	struct recs r = { 0 };
	DWORD bytes = 0;
	int ok;

	if (h == INVALID_HANDLE_VALUE)
		return FAIL("open: error %lu", GetLastError());
	quiesce(h);
	if (ReadFile(h, big, 100, &bytes, NULL) || GetLastError() != ERROR_INSUFFICIENT_BUFFER || bytes)
		ok = FAIL("100-byte read: error %lu bytes %lu, want ERROR_INSUFFICIENT_BUFFER", GetLastError(), bytes);
	else if (dev_synth(h, 100, 3, 32, 3))
		ok = FAIL("SYNTH_START failed");
	else if (!ReadFile(h, big, KMON_BATCH_MIN, &bytes, NULL)) /* blocks until the first tick */
		ok = FAIL("blocking read: error %lu", GetLastError());
	else if (bytes > KMON_BATCH_MIN || recs_add(&r, big, bytes) || !r.count)
		ok = FAIL("read %lu bytes: %s", bytes, r.error);
	else
		ok = synth_run_ok(&r, 3, detail, n);
	if (ok)
		snprintf(detail, n, "short read refused; blocking read returned %zu records in %lu bytes", r.count, bytes);
	recs_free(&r);
	quiesce(h);
	CloseHandle(h);
	return ok;
}

static int check_drops(char *detail, size_t n)
{
	const kmon_u64 count = 400; /* 400 records of 4064 bytes: more than the 1 MiB ring */
	HANDLE h = dev_open(FALSE);
	struct kmon_cpu_stats before, after;
	struct recs r = { 0 };
	static struct seq_walk w;
	const struct kmon_header *rec;
	ULONGLONG end = GetTickCount64() + 3ULL * WAIT_MS;
	kmon_u64 dropped, got;
	size_t at = 0, i = 0;
	int ok = 1;

	if (h == INVALID_HANDLE_VALUE)
		return FAIL("open: error %lu", GetLastError());
	quiesce(h);
	dev_stats(h, &before);
	dev_synth(h, 1, 100, 4000, count);
	do {
		Sleep(20);
		dev_stats(h, &after);
	} while (after.attempted - before.attempted < count && GetTickCount64() < end);
	recs_pull_kind(h, &r, KMON_KIND_SYNTH, count, 500);
	got = recs_count_kind(&r, KMON_KIND_SYNTH);
	dropped = after.dropped[KMON_KIND_SYNTH] - before.dropped[KMON_KIND_SYNTH];
	/* A drop between two records of a CPU is a gap there; drops after a CPU's last record show none yet. */
	memset(&w, 0, sizeof(w));
	while (ok && (rec = recs_next(&r, &at)) != NULL)
		ok = rec->kind != KMON_KIND_SYNTH || follow_seq(&w, rec, i++, detail, n);
	if (ok && after.attempted - before.attempted != count)
		ok = FAIL("attempted %llu of %llu", after.attempted - before.attempted, count);
	if (ok && (!dropped || got + dropped != count))
		ok = FAIL("received %llu + dropped %llu != %llu %s", got, dropped, count, r.error);
	if (ok && w.skipped > dropped)
		ok = FAIL("seq gaps of %llu records, only %llu dropped", w.skipped, dropped);
	if (ok)
		snprintf(detail, n, "ring overflowed: %llu received, %llu dropped, counted per kind; seq gaps %llu (<= dropped)",
			 got, dropped, w.skipped);
	recs_free(&r);
	quiesce(h);
	CloseHandle(h);
	return ok;
}

/* The driver must report the source registered; then records of `kind` must match. */
static HANDLE open_for_source(unsigned src, char *detail, size_t n, int *unsupported)
{
	HANDLE h = dev_open(FALSE);
	struct kmon_info info;

	*unsupported = 0;
	if (h == INVALID_HANDLE_VALUE)
		return h;
	if (dev_info(h, &info) || !(info.sources & src)) {
		snprintf(detail, n, "source not registered by the driver (sources %#x)", info.sources);
		*unsupported = 1;
		CloseHandle(h);
		return INVALID_HANDLE_VALUE;
	}
	quiesce(h);
	return h;
}

static const struct kmon_header *find(const struct recs *r, unsigned kind, DWORD pid)
{
	const struct kmon_header *h;
	size_t at = 0;

	while ((h = recs_next(r, &at)) != NULL)
		if (h->kind == kind && h->tgid == pid)
			return h;
	return NULL;
}

/* Pulls until a record of kind for pid shows up or the wait ends. */
static const struct kmon_header *await(HANDLE h, struct recs *r, unsigned kind, DWORD pid)
{
	ULONGLONG end = GetTickCount64() + WAIT_MS;

	while (!find(r, kind, pid) && GetTickCount64() < end)
		recs_pull_kind(h, r, kind, recs_count_kind(r, kind) + 1, 100);
	return find(r, kind, pid);
}

static int check_process(char *detail, size_t n)
{
	wchar_t self[MAX_PATH], cmd[MAX_PATH + 32];
	STARTUPINFOW si;
	PROCESS_INFORMATION pi;
	struct recs r = { 0 };
	const struct kmon_exit *ex;
	int unsupported, ok;
	HANDLE h = open_for_source(KMON_SRC_PROCESS, detail, n, &unsupported);

	if (h == INVALID_HANDLE_VALUE)
		return unsupported ? -1 : FAIL("open: error %lu", GetLastError());
	memset(&si, 0, sizeof(si));
	si.cb = sizeof(si);
	GetModuleFileNameW(NULL, self, MAX_PATH);
	swprintf(cmd, MAX_PATH + 32, L"\"%ls\" exitcode 3", self);
	if (!CreateProcessW(self, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) {
		CloseHandle(h);
		return FAIL("CreateProcess: error %lu", GetLastError());
	}
	WaitForSingleObject(pi.hProcess, WAIT_MS);
	if (!await(h, &r, KMON_KIND_EXEC, pi.dwProcessId))
		ok = FAIL("no EXEC record for pid %lu %s", pi.dwProcessId, r.error);
	else if (!(ex = (const void *)await(h, &r, KMON_KIND_EXIT, pi.dwProcessId)))
		ok = FAIL("no EXIT record for pid %lu", pi.dwProcessId);
	else if (ex->exit_code != 3)
		ok = FAIL("EXIT record says exit code %d", ex->exit_code);
	else
		ok = (snprintf(detail, n, "EXEC and EXIT (code 3) of pid %lu", pi.dwProcessId), 1);
	CloseHandle(pi.hThread);
	CloseHandle(pi.hProcess);
	recs_free(&r);
	CloseHandle(h);
	return ok;
}

static int check_image(char *detail, size_t n)
{
	struct recs r = { 0 };
	const struct kmon_image_load *il;
	int unsupported, ok;
	HANDLE h = open_for_source(KMON_SRC_IMAGE, detail, n, &unsupported);
	HMODULE mod;

	if (h == INVALID_HANDLE_VALUE)
		return unsupported ? -1 : FAIL("open: error %lu", GetLastError());
	mod = LoadLibraryW(L"msimg32.dll");
	il = (const void *)await(h, &r, KMON_KIND_IMAGE_LOAD, GetCurrentProcessId());
	if (!mod)
		ok = FAIL("LoadLibrary: error %lu", GetLastError());
	else if (!il)
		ok = FAIL("no IMAGE_LOAD record for this process %s", r.error);
	else if (il->image_base != (kmon_u64)(ULONG_PTR)mod)
		ok = FAIL("image base %#llx, module at %p", il->image_base, (void *)mod);
	else
		ok = (snprintf(detail, n, "IMAGE_LOAD of msimg32.dll at its load address"), 1);
	if (mod)
		FreeLibrary(mod);
	recs_free(&r);
	CloseHandle(h);
	return ok;
}

static int check_registry(char *detail, size_t n)
{
	struct recs r = { 0 };
	const struct kmon_registry_set *rs;
	DWORD value = 42;
	HKEY key;
	int unsupported, ok;
	HANDLE h = open_for_source(KMON_SRC_REGISTRY, detail, n, &unsupported);

	if (h == INVALID_HANDLE_VALUE)
		return unsupported ? -1 : FAIL("open: error %lu", GetLastError());
	if (RegCreateKeyExW(HKEY_CURRENT_USER, L"Software\\kmon-test", 0, NULL, 0, KEY_SET_VALUE, NULL, &key, NULL)) {
		CloseHandle(h);
		return FAIL("RegCreateKeyEx failed");
	}
	RegSetValueExW(key, L"probe", 0, REG_DWORD, (const BYTE *)&value, sizeof(value));
	RegCloseKey(key);
	RegDeleteKeyW(HKEY_CURRENT_USER, L"Software\\kmon-test");
	rs = (const void *)await(h, &r, KMON_KIND_REGISTRY_SET, GetCurrentProcessId());
	if (!rs)
		ok = FAIL("no REGISTRY_SET record for this process %s", r.error);
	else if (rs->value_type != REG_DWORD || rs->data_size != 4 || rs->value_name_len != 5 ||
		 memcmp((const char *)(rs + 1) + rs->key_len, "probe", 5) != 0)
		ok = FAIL("record type %u size %u name length %u", rs->value_type, rs->data_size, rs->value_name_len);
	else
		ok = (snprintf(detail, n, "REGISTRY_SET of kmon-test\\probe (REG_DWORD, 4 bytes)"), 1);
	recs_free(&r);
	CloseHandle(h);
	return ok;
}

static int check_device_dacl(char *detail, size_t n)
{
	HANDLE h = dev_open(FALSE);
	DWORD aces;
	int ok;

	if (h == INVALID_HANDLE_VALUE)
		return FAIL("open: error %lu", GetLastError());
	ok = dacl_admin_only(h, &aces, detail, n);
	if (ok)
		snprintf(detail, n, "device DACL: %lu ACEs, SYSTEM and Administrators only", aces);
	CloseHandle(h);
	return ok;
}

/* Keeps a WAIT pending until the driver unloads; reports whether unload cancelled it. */
static int hold_until_unload(void)
{
	static struct pending p;
	char detail[256];
	size_t n = sizeof(detail);
	HANDLE h = dev_open(TRUE);
	DWORD bytes;
	int ok;

	if (h == INVALID_HANDLE_VALUE) {
		report("unload_cancels", FAIL("open: error %lu", GetLastError()), detail);
		return 1;
	}
	issue(h, FALSE, &p);
	ok = all_pending(&p, 1, detail, n);
	printf("HOLDING\n"); /* the test stops the driver now */
	fflush(stdout);
	if (ok && WaitForSingleObject(p.ov.hEvent, 60000) != WAIT_OBJECT_0)
		ok = FAIL("WAIT still pending 60 s later");
	if (ok && (GetOverlappedResult(h, &p.ov, &bytes, FALSE) || GetLastError() != ERROR_OPERATION_ABORTED))
		ok = FAIL("WAIT ended with error %lu, want ERROR_OPERATION_ABORTED", GetLastError());
	if (ok)
		snprintf(detail, n, "unload cancelled the pending WAIT of an open handle");
	report("unload_cancels", ok, detail);
	CloseHandle(h);
	release(&p, 1);
	return !ok;
}

static const struct check checks[] = {
	{ "open", check_open },
	{ "ioctl_sizes", check_ioctl_sizes },
	{ "device_dacl", check_device_dacl },
	{ "synth_pull", check_synth_pull },
	{ "client_event", check_client_event },
	{ "named_event", check_named_event },
	{ "mapped_ring", check_mapped_ring },
	{ "pending_ioctl", check_pending_ioctl },
	{ "cancel", check_cancel },
	{ "close_cancels", check_close_cancels },
	{ "read_sync", check_read_sync },
	{ "read_overlapped", check_read_overlapped },
	{ "drops", check_drops },
	{ "process", check_process },
	{ "image_load", check_image },
	{ "registry", check_registry },
};
static const size_t check_count = sizeof(checks) / sizeof(checks[0]);

static void report(const char *name, int result, const char *detail)
{
	const char *res = result > 0 ? "pass" : result < 0 ? "unsupported" : "fail";
	const char *p;

	printf("KMON-CHECK {\"check\":\"%s\",\"result\":\"%s\",\"detail\":\"", name, res);
	for (p = detail; *p; p++)
		putchar(*p == '"' || *p == '\\' ? '\'' : *p);
	printf("\"}\n");
	fflush(stdout);
}

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

static int usage(void)
{
	fprintf(stderr, "usage: kmon-checks check NAME...|all | list | hold | exitcode N\n");
	return 2;
}

int wmain(int argc, wchar_t **argv);

int wmain(int argc, wchar_t **argv)
{
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && !wcscmp(argv[1], L"check"))
		return cmd_check(argc - 2, argv + 2);
	if (argc == 2 && !wcscmp(argv[1], L"hold"))
		return hold_until_unload();
	if (argc == 2 && !wcscmp(argv[1], L"list")) {
		for (i = 0; i < check_count; i++)
			printf("%s\n", checks[i].name);
		return 0;
	}
	if (argc == 3 && !wcscmp(argv[1], L"exitcode"))
		return _wtoi(argv[2]);
	return usage();
}
