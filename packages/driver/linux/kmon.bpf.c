// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * kmon's Linux driver: one BPF CO-RE object, one program per hook, every
 * record written to one BPF ring buffer in the layout of kmon_abi.h.
 *
 * Invariant the tests pin: every record a program decides to emit counts in
 * kmon_stats[cpu].attempted (its header seq is the value before the
 * increment) and then either lands in the ring or counts in dropped[kind].
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kmon_config.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* SIGNAL_GROUP_EXIT from include/linux/sched/signal.h: a macro, so not in BTF. */
#define KMON_SIGNAL_GROUP_EXIT 0x00000004

#if defined(__TARGET_ARCH_x86)
#define KMON_NR_GETPPID 110
#elif defined(__TARGET_ARCH_arm64)
#define KMON_NR_GETPPID 173
#else
#error "kmon: add this architecture's __NR_getppid"
#endif

const volatile struct kmon_config kmon_cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24); /* the loader sets options.ringBytes */
} kmon_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kmon_cpu_stats);
} kmon_stats SEC(".maps");

/*
 * Exec records exceed the 32 KiB cap of a per-CPU map value, so this is a
 * plain array indexed by CPU (the loader sets max_entries to the possible
 * CPUs). Sharing a slot per CPU is safe: the kernel never runs one BPF
 * program twice at once on the same CPU (a nested run is skipped and counted
 * as a miss), and only kmon_exec uses this map.
 */
struct kmon_exec_slot {
	char data[KMON_EXEC_SCRATCH];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kmon_exec_slot);
} kmon_exec_buf SEC(".maps");

/* Zero-filled at creation and never written past the body: the payload is zeros. */
struct kmon_synth_slot {
	char data[KMON_SYNTH_SCRATCH];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kmon_synth_slot);
} kmon_synth_buf SEC(".maps");

/* Counter echoed in kmon_synth.value, so a consumer can spot lost records. */
__u64 kmon_synth_next = 0;

static __always_inline int kind_enabled(__u32 kind)
{
	return kmon_cfg.kinds & KMON_KIND_BIT(kind);
}

static __always_inline void fill_header(struct kmon_header *h, __u16 kind, __u32 tgid, __u32 tid)
{
	h->abi_version = KMON_ABI_VERSION;
	h->kind = kind;
	h->flags = 0;
	h->cpu = bpf_get_smp_processor_id();
	h->ts_ns = bpf_ktime_get_ns();
	h->tgid = tgid;
	h->tid = tid;
	h->cgroup_id = bpf_get_current_cgroup_id();
}

/*
 * Adaptive: wake the consumer each time the unread data crosses a multiple
 * of wakeup_bytes, i.e. about once per wakeup_bytes written. Waking for every
 * record past the watermark would cost the traced process a wakeup per event
 * exactly when the consumer is behind; testing crossings of every multiple
 * (not just the first) keeps waking even if two CPUs race past one of them.
 */
static __always_inline __u64 wakeup_flag(__u32 size)
{
	__u64 avail, step = kmon_cfg.wakeup_bytes;

	if (kmon_cfg.wakeup == KMON_WAKEUP_EACH)
		return BPF_RB_FORCE_WAKEUP;
	if (kmon_cfg.wakeup == KMON_WAKEUP_POLL || step == 0)
		return BPF_RB_NO_WAKEUP;
	avail = bpf_ringbuf_query(&kmon_ring, BPF_RB_AVAIL_DATA);
	if ((avail + size) / step != avail / step)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/*
 * Numbers, counts and sends a finished record (header fields other than
 * size/seq already set). Atomics: a syscall tracepoint may be preempted on
 * newer kernels, and another kmon program may then run on the same CPU.
 */
static __always_inline void submit(struct kmon_header *h, __u32 size, __u32 kind)
{
	__u32 zero = 0;
	struct kmon_cpu_stats *st = bpf_map_lookup_elem(&kmon_stats, &zero);

	if (!st)
		return;
	h->size = size;
	h->seq = __sync_fetch_and_add(&st->attempted, 1);
	if (h->flags & KMON_F_TRUNCATED_MASK)
		__sync_fetch_and_add(&st->truncated, 1);
	if (bpf_ringbuf_output(&kmon_ring, h, size, wakeup_flag(size)))
		__sync_fetch_and_add(&st->dropped[kind], 1);
}

/* waitpid()'s view: the group's exit code after exit_group/fatal signal, else the leader's. */
static __always_inline int process_exit_code(struct task_struct *p)
{
	struct signal_struct *sig = p->signal;

	if (sig->flags & KMON_SIGNAL_GROUP_EXIT)
		return sig->group_exit_code;
	return p->group_leader->exit_code;
}

/* Appends the exec'd path (field 0); returns its length. */
static __always_inline __u32 read_path(char *dst, struct linux_binprm *bprm, __u32 *flags)
{
	/*
	 * Room for KMON_PATH_MAX bytes, their NUL and one byte more: n counts the
	 * NUL, so n <= KMON_PATH_MAX + 1 is a path that fits (exactly, at most),
	 * and only a longer one fills the read. The slot has the spare bytes.
	 */
	long n = bpf_probe_read_kernel_str(dst, KMON_PATH_MAX + 2, bprm->filename);

	if (n <= 0)
		return 0;
	if (n > KMON_PATH_MAX + 1) {
		*flags |= KMON_F_TRUNCATED(0);
		return KMON_PATH_MAX;
	}
	return n - 1; /* the NUL is not part of the field */
}

/* Appends the new image's argument block (field 1); returns its length. */
static __always_inline __u32 read_argv(char *dst, struct task_struct *p, __u32 *flags)
{
	struct mm_struct *mm = p->mm;
	unsigned long start = mm->arg_start;
	unsigned long avail = mm->arg_end - start;
	__u32 cap = kmon_cfg.argv_max;
	__u32 len;

	if (cap > KMON_ARGV_MAX)
		cap = KMON_ARGV_MAX;
	len = avail > cap ? cap : avail;
	if (avail > cap)
		*flags |= KMON_F_TRUNCATED(1);
	if (len && bpf_probe_read_user(dst, len, (const void *)start)) {
		*flags |= KMON_F_TRUNCATED(1);
		return 0;
	}
	return len;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(kmon_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = p->tgid;
	__u32 cpu = bpf_get_smp_processor_id();
	__u64 ids = bpf_get_current_uid_gid();
	struct kmon_exec *e;
	__u32 path_len, argv_len, end;
	char *var;

	if (!kind_enabled(KMON_KIND_EXEC) || tgid == kmon_cfg.self_tgid)
		return 0;
	e = bpf_map_lookup_elem(&kmon_exec_buf, &cpu);
	if (!e)
		return 0;
	fill_header(&e->hdr, KMON_KIND_EXEC, tgid, p->pid);
	e->start_ns = p->group_leader->start_time;
	e->parent_start_ns = p->real_parent->group_leader->start_time;
	e->ppid = p->real_parent->tgid;
	e->uid = (__u32)ids; /* real ids: a setuid image changes the effective ones only */
	e->gid = ids >> 32;
	e->argc = bprm->argc;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->reserved = 0;

	var = (char *)(e + 1);
	path_len = read_path(var, bprm, &e->hdr.flags);
	if (path_len > KMON_PATH_MAX) /* restated for the verifier */
		return 0;
	argv_len = read_argv(var + path_len, p, &e->hdr.flags);
	if (argv_len > KMON_ARGV_MAX)
		return 0;
	e->path_len = path_len;
	e->argv_len = argv_len;
	end = path_len + argv_len;
	*(__u64 *)(var + end) = 0; /* zero the padding (the slot has 8 spare bytes) */
	submit(&e->hdr, KMON_ALIGN_UP(sizeof(*e) + end), KMON_KIND_EXEC);
	return 0;
}

static __always_inline void emit_exit(struct task_struct *p)
{
	struct kmon_exit e = {};
	__u32 tgid = p->tgid;
	int code;

	if (!kind_enabled(KMON_KIND_EXIT) || tgid == kmon_cfg.self_tgid)
		return;
	fill_header(&e.hdr, KMON_KIND_EXIT, tgid, p->pid);
	code = process_exit_code(p);
	e.start_ns = p->group_leader->start_time;
	e.exit_code = (code >> 8) & 0xff;
	e.signal = code & 0x7f;
	if (code & 0x80)
		e.hdr.flags |= KMON_F_CORE_DUMPED;
	__builtin_memcpy(e.comm, p->group_leader->comm, sizeof(e.comm));
	submit(&e.hdr, sizeof(e), KMON_KIND_EXIT);
}

/*
 * group_dead is the kernel's own answer (atomic_dec_and_test of
 * signal->live, taken before this tracepoint) to "is this the last thread":
 * exactly one exit per process, whichever thread goes last. The loader uses
 * this program when the kernel's tracepoint passes group_dead (its BTF says).
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(kmon_exit, struct task_struct *p, bool group_dead)
{
	if (group_dead)
		emit_exit(p);
	return 0;
}

/*
 * Older kernels pass only the task. signal->live was already decremented for
 * it, so 0 means no thread is left. Unlike group_dead this can report a
 * process twice when its last two threads exit at the same instant (both
 * decrement before either reads), which is why it is only the fallback.
 */
SEC("?tp_btf/sched_process_exit") /* "?": not loaded unless the loader asks */
int BPF_PROG(kmon_exit_live, struct task_struct *p)
{
	if (p->signal->live.counter == 0)
		emit_exit(p);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(kmon_fork, struct task_struct *parent, struct task_struct *child)
{
	struct kmon_fork f = {};
	__u32 child_tgid = child->tgid;
	__u32 child_tid = child->pid;
	int thread = child_tgid != child_tid;

	/* The child's tgid decides: the monitor's own children are still reported. */
	if (!kind_enabled(KMON_KIND_FORK) || (thread && !kmon_cfg.threads) ||
	    child_tgid == kmon_cfg.self_tgid)
		return 0;
	fill_header(&f.hdr, KMON_KIND_FORK, parent->tgid, parent->pid);
	if (thread)
		f.hdr.flags |= KMON_F_THREAD;
	f.parent_start_ns = parent->group_leader->start_time;
	/* The child *process*'s start: for a thread that is its leader's, so
	 * (child_tgid, child_start_ns) is always a process identity. */
	f.child_start_ns = child->group_leader->start_time;
	f.child_tgid = child_tgid;
	f.child_tid = child_tid;
	/* The process's name, as exit reports it, not the forking thread's. */
	bpf_probe_read_kernel_str(f.comm, sizeof(f.comm), parent->group_leader->comm);
	submit(&f.hdr, sizeof(f), KMON_KIND_FORK);
	return 0;
}

/* Synthetic load: every getppid() of kmon_cfg.synth_tgid becomes one record. */
SEC("?raw_tp/sys_enter") /* "?": not loaded unless the loader asks */
int BPF_PROG(kmon_synth, struct pt_regs *regs, long id)
{
	__u64 ids = bpf_get_current_pid_tgid();
	__u32 zero = 0;
	struct kmon_synth *s;

	if (id != KMON_NR_GETPPID || ids >> 32 != kmon_cfg.synth_tgid)
		return 0;
	s = bpf_map_lookup_elem(&kmon_synth_buf, &zero);
	if (!s)
		return 0;
	fill_header(&s->hdr, KMON_KIND_SYNTH, ids >> 32, (__u32)ids);
	s->value = __sync_fetch_and_add(&kmon_synth_next, 1);
	s->payload_len = kmon_cfg.synth_payload;
	s->reserved0 = 0;
	s->reserved1 = 0;
	submit(&s->hdr, KMON_ALIGN_UP(sizeof(*s) + kmon_cfg.synth_payload), KMON_KIND_SYNTH);
	return 0;
}
