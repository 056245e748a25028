// Linux backend: loads packages/driver/linux/kmon.bpf.c (embedded as a libbpf
// skeleton), attaches one program per requested kind, and drains the shared
// BPF ring buffer on the JS thread. The loop waits on an edge-triggered epoll
// fd of the ring (uv_poll) and/or a uv_timer, per the wakeup mode: no thread,
// no busy loop.
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <set>

#include "../backend.h"
#include "kmon_config.h"
#include "kmon.skel.h"
#include "syscalls.h"

namespace kmon {
namespace {

constexpr const char* kVmlinuxBtf = "/sys/kernel/btf/vmlinux";
constexpr size_t kLogTail = 4096;  // libbpf output kept for an error message
constexpr int kENOTSUPP = 524;     // kernel-internal "not supported", leaks from bpf()
constexpr uint32_t kZero = 0;      // key of single-entry array maps
constexpr uint32_t kFlowsMax = 65536;  // TCP connections a close session follows at once (LRU beyond)

// libbpf logs through one process-wide callback. While a thread brings a
// backend up, its messages are collected here (the tail ends up in the error
// text); at any other time they are discarded, so libbpf never writes to stderr.
struct CapturedLog {
  std::string tail;
  bool verifier_log = false;  // libbpf printed a verifier log: a program was rejected
};
thread_local CapturedLog* t_log = nullptr;

int CaptureLibbpf(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (t_log == nullptr || level == LIBBPF_DEBUG) return 0;
  va_list copy;
  va_copy(copy, args);
  int n = vsnprintf(nullptr, 0, fmt, copy);  // NOLINT(clang-analyzer-valist.Uninitialized): a va_copy of libbpf's
  va_end(copy);
  if (n <= 0) return 0;
  std::string line(static_cast<size_t>(n) + 1, '\0');
  vsnprintf(line.data(), line.size(), fmt, args);
  line.pop_back();
  if (line.find("BEGIN PROG LOAD LOG") != std::string::npos) t_log->verifier_log = true;
  std::string& tail = t_log->tail;
  tail.append(line);
  if (tail.size() > kLogTail) tail.erase(0, tail.size() - kLogTail);
  return 0;
}

class LogCapture {
 public:
  LogCapture() {
    static std::once_flag once;
    std::call_once(once, [] { libbpf_set_print(CaptureLibbpf); });
    t_log = &log_;
  }
  ~LogCapture() { t_log = nullptr; }
  const std::string& text() const { return log_.tail; }
  bool verifier_rejected() const { return log_.verifier_log; }

 private:
  CapturedLog log_;
};

// Holds one signal back from the calling thread for a scope; a signal that
// arrived meanwhile is delivered when the scope ends. The verifier gives up
// on a program with EAGAIN whenever a signal is pending for the loading
// thread, and libbpf's few retries are interrupted alike: `node --cpu-prof`
// sends the JS thread SIGPROF every sampling interval (1 ms by default),
// shorter than the larger programs take to verify.
class SignalHeld {
 public:
  explicit SignalHeld(int signal) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signal);
    pthread_sigmask(SIG_BLOCK, &set, &previous_);
  }
  ~SignalHeld() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  SignalHeld(const SignalHeld&) = delete;
  SignalHeld& operator=(const SignalHeld&) = delete;

 private:
  sigset_t previous_;
};

// A libuv handle that forwards to Notify. It frees itself in its close
// callback, so the backend may be destroyed while the handle is closing.
struct Waker {
  union {
    uv_handle_t handle;
    uv_poll_t poll;
    uv_timer_t timer;
  } h;
  Backend::Notify notify;
  void* ctx;
  int epoll_fd;  // poll wakers on our edge-triggered epoll fd: its event is taken before notify; else -1
};

void OnPoll(uv_poll_t* poll, int /*status*/, int /*events*/) {
  // Take the kernel's wakeup first, then drain (notify loops until the ring
  // is empty): a wakeup that lands after this point makes libuv call again,
  // so none is lost. Only this path takes wakeups, so a read() between two
  // wakeups leaves them in place. On a poll error, draining is still right.
  auto* w = static_cast<Waker*>(poll->data);
  epoll_event event;
  if (w->epoll_fd >= 0) epoll_wait(w->epoll_fd, &event, 1, 0);
  w->notify(w->ctx);
}

void OnTimer(uv_timer_t* timer) {
  auto* w = static_cast<Waker*>(timer->data);
  w->notify(w->ctx);
}

void CloseWaker(Waker*& w) {
  if (w == nullptr) return;
  uv_close(&w->h.handle, [](uv_handle_t* handle) { delete static_cast<Waker*>(handle->data); });
  w = nullptr;
}

std::string ErrorText(const char* what, int err, const std::string& log) {
  std::string text = std::string(what) + ": " + (err == kENOTSUPP ? "operation not supported" : std::strerror(err));
  size_t end = log.find_last_not_of('\n');
  if (end != std::string::npos) text += "\n" + log.substr(0, end + 1);  // libbpf's lines say "libbpf: "
  return text;
}

// After a failed load: which kernel feature is missing, if that is the cause.
std::string MissingFeature(int err) {
  if (err == EPERM || err == EACCES) return "";
  if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr) == 0)
    return "BPF ring buffers (BPF_MAP_TYPE_RINGBUF, Linux 5.8+)";
  if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACING, nullptr) == 0)
    return "BTF-typed tracepoints (BPF_PROG_TYPE_TRACING, Linux 5.5+)";
  if (err == kENOTSUPP || err == EOPNOTSUPP) return "a BPF feature kmon's programs use (see the libbpf log)";
  return "";
}

// Whether the kernel's sched_process_exit tracepoint passes group_dead (a
// second argument after the task): its BTF typedef btf_trace_sched_process_exit
// points to a prototype of (void *ctx, task, group_dead). If the BTF cannot be
// read, the loader's own CO-RE pass will fail and say why.
bool DetectGroupDead() {
  btf* vmlinux = btf__load_vmlinux_btf();
  if (vmlinux == nullptr) return true;
  bool has = false;
  int id = btf__find_by_name_kind(vmlinux, "btf_trace_sched_process_exit", BTF_KIND_TYPEDEF);
  const btf_type* t = id > 0 ? btf__type_by_id(vmlinux, id) : nullptr;
  if (t != nullptr) t = btf__type_by_id(vmlinux, t->type);  // pointer
  if (t != nullptr && btf_is_ptr(t)) t = btf__type_by_id(vmlinux, t->type);
  if (t != nullptr && btf_is_func_proto(t)) has = btf_vlen(t) >= 3;
  btf__free(vmlinux);
  return has;
}

// Parsing vmlinux BTF costs ~20 ms and the kernel does not change under us: once per process.
bool ExitTracepointHasGroupDead() {
  static const bool has = DetectGroupDead();
  return has;
}

// An LPM trie key (struct kmon_net_prefix4 or 6) as bytes, and its map.
struct PrefixKey {
  std::vector<uint8_t> key;  // prefixlen (u32, host order), then the address
  bool v6;
  bool operator<(const PrefixKey& o) const { return std::tie(v6, key) < std::tie(o.v6, o.key); }
};

PrefixKey MakePrefixKey(const Filters::Network::Prefix& p) {
  PrefixKey k{std::vector<uint8_t>(sizeof(uint32_t) + p.addr.size()), p.addr.size() == 16};
  std::memcpy(k.key.data(), &p.length, sizeof(uint32_t));
  std::memcpy(k.key.data() + sizeof(uint32_t), p.addr.data(), p.addr.size());
  return k;

}

// tracefs, for the per-syscall tracepoints (syscalls/sys_exit_*). Not
// mounted at boot on every system: mount it then, as perf does, and leave it
// mounted (another session or tool may be using it); an existing mount is
// left alone. False when the syscall tracepoints cannot be had (no
// permission to mount, a kernel without CONFIG_FTRACE_SYSCALLS).
constexpr const char* kTracefs = "/sys/kernel/tracing";
constexpr long kTracefsMagic = 0x74726163;

std::string SyscallEvent(const char* name) { return std::string(kTracefs) + "/events/syscalls/sys_exit_" + name; }

bool SyscallTracepoints() {
  const std::string events = std::string(kTracefs) + "/events/syscalls";
  if (access(events.c_str(), F_OK) == 0) return true;
  struct statfs fs{};
  bool mounted = statfs(kTracefs, &fs) == 0 && static_cast<long>(fs.f_type) == kTracefsMagic;
  if (!mounted && mount("nodev", kTracefs, "tracefs", 0, nullptr) != 0) return false;
  return access(events.c_str(), F_OK) == 0;
}

// tgid -> parent tgid of every process now, from /proc/PID/stat (field 4,
// after the comm, which may itself contain ") ").
std::unordered_map<uint32_t, uint32_t> ParentsNow() {
  std::unordered_map<uint32_t, uint32_t> parents;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return parents;
  while (dirent* entry = readdir(proc)) {
    char* end = nullptr;
    unsigned long pid = std::strtoul(entry->d_name, &end, 10);
    if (pid == 0 || *end != '\0') continue;
    std::ifstream stat(std::string("/proc/") + entry->d_name + "/stat");
    std::string line;
    if (!std::getline(stat, line)) continue;  // exited meanwhile
    size_t close = line.rfind(')');
    unsigned long ppid = 0;
    if (close != std::string::npos && std::sscanf(line.c_str() + close + 1, " %*c %lu", &ppid) == 1)
      parents[static_cast<uint32_t>(pid)] = static_cast<uint32_t>(ppid);
  }
  closedir(proc);
  return parents;
}

int64_t ClockNs(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// The BPF programs stamp ts_ns with bpf_ktime_get_ns(), which is CLOCK_MONOTONIC.
SessionClock SampleClock() {
  std::ifstream file("/proc/sys/kernel/random/boot_id");
  std::string boot_id;
  std::getline(file, boot_id);
  return {boot_id, ClockOffset([] { return ClockNs(CLOCK_MONOTONIC); }, [] { return ClockNs(CLOCK_REALTIME); })};
}

uint32_t RecordSize(const uint8_t* record) {
  uint32_t size = 0;
  std::memcpy(&size, record + offsetof(kmon_header, size), sizeof(size));
  return size;
}

// The snapshot's records are not from the ring: a sequence of their own on
// no CPU, so per-CPU gap accounting never sees them. A record whose size
// does not frame (a driver bug) ends the snapshot there.
std::vector<uint8_t> NumberSnapshot(std::vector<uint8_t> records) {
  uint64_t seq = 0;
  for (size_t at = 0; at < records.size();) {
    uint32_t size = RecordSize(records.data() + at);
    if (size < sizeof(kmon_process) || size % KMON_RECORD_ALIGN != 0 || size > records.size() - at) {
      records.resize(at);
      break;
    }
    auto* h = reinterpret_cast<kmon_header*>(records.data() + at);
    h->cpu = KMON_CPU_SNAPSHOT;
    h->seq = seq++;
    at += size;
  }
  return records;
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

std::string Link(const std::string& path) {
  char target[KMON_PATH_MAX + 1];
  ssize_t n = readlink(path.c_str(), target, sizeof(target));
  return n > 0 ? std::string(target, static_cast<size_t>(n)) : "";
}

// "Uid:\t1000\t1000\t1000\t1000" -> 1000 (the real id comes first).
uint32_t StatusId(const std::string& status, const char* key) {
  size_t at = status.find(key);
  return at == std::string::npos ? 0 : static_cast<uint32_t>(std::strtoul(status.c_str() + at + std::strlen(key), nullptr, 10));
}

// The cgroup v2 id of a process: the inode of its cgroup directory.
uint64_t CgroupId(const std::string& pid) {
  std::string cgroup = ReadFile("/proc/" + pid + "/cgroup");
  size_t at = cgroup.find("0::");
  if (at == std::string::npos) return 0;
  std::string path = cgroup.substr(at + 3, cgroup.find('\n', at) - at - 3);
  struct stat st{};
  return stat(("/sys/fs/cgroup" + path).c_str(), &st) == 0 ? st.st_ino : 0;
}

// /proc/PID/stat: the comm in parentheses (it may hold ") "), then ppid and
// starttime (fields 4 and 22) among the space-separated fields after it.
struct ProcStat {
  std::string comm;
  uint32_t ppid = 0;
  uint64_t start_ticks = 0;  // since boot, CLOCK_BOOTTIME in clock ticks
};

bool ReadStat(const std::string& pid, ProcStat* out) {
  std::string line = ReadFile("/proc/" + pid + "/stat");
  size_t open = line.find('('), close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return false;  // exited meanwhile
  out->comm = line.substr(open + 1, close - open - 1);
  unsigned long ppid = 0;
  unsigned long long start = 0;
  if (std::sscanf(line.c_str() + close + 1, " %*c %lu %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
                  &ppid, &start) != 2)
    return false;
  out->ppid = static_cast<uint32_t>(ppid);
  out->start_ticks = start;
  return true;
}

// Appends a variable field, cut to `cap` (paths keep their end, as the
// kernel's walk does; argv its start) with the field's truncation flag.
void PutField(std::vector<uint8_t>* rec, const std::string& value, size_t cap, bool keep_end, uint32_t field, uint16_t* len) {
  auto* h = reinterpret_cast<kmon_header*>(rec->data());
  size_t n = std::min(value.size(), cap);
  if (n < value.size()) h->flags |= KMON_F_TRUNCATED(field);
  const char* from = value.data() + (keep_end ? value.size() - n : 0);
  rec->insert(rec->end(), from, from + n);
  *len = static_cast<uint16_t>(n);
}

// The snapshot without the kernel's iterator, from /proc, flagged
// approximate: /proc gives start times in clock ticks of CLOCK_BOOTTIME,
// converted here to CLOCK_MONOTONIC ns, so they only approach the kernel's.
std::vector<uint8_t> ProcSnapshot(uint32_t self_tgid, uint32_t argv_bytes) {
  std::map<uint32_t, ProcStat> stats;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) throw BackendError("snapshot", errno, ErrorText("listing /proc", errno, ""));
  while (dirent* entry = readdir(proc)) {
    char* end = nullptr;
    unsigned long pid = std::strtoul(entry->d_name, &end, 10);
    ProcStat stat;
    if (pid != 0 && *end == '\0' && ReadStat(entry->d_name, &stat)) stats[static_cast<uint32_t>(pid)] = stat;
  }
  closedir(proc);
  const int64_t tick_ns = 1000000000 / sysconf(_SC_CLK_TCK);
  const int64_t boot_to_mono = ClockNs(CLOCK_MONOTONIC) - ClockNs(CLOCK_BOOTTIME);
  auto start_ns = [&](uint64_t ticks) { return static_cast<uint64_t>(static_cast<int64_t>(ticks) * tick_ns + boot_to_mono); };
  size_t argv_cap = std::min<size_t>(argv_bytes, KMON_SNAPSHOT_ARGV_MAX);
  std::vector<uint8_t> out;
  for (const auto& [tgid, stat] : stats) {
    if (tgid == self_tgid) continue;  // read only as a parent
    std::string pid = std::to_string(tgid), dir = "/proc/" + pid;
    std::vector<uint8_t> rec(sizeof(kmon_process));
    kmon_process p{};
    p.hdr.abi_version = KMON_ABI_VERSION;
    p.hdr.kind = KMON_KIND_PROCESS;
    p.hdr.flags = KMON_F_APPROXIMATE;
    p.hdr.ts_ns = static_cast<uint64_t>(ClockNs(CLOCK_MONOTONIC));
    p.hdr.tgid = p.hdr.tid = tgid;
    p.hdr.cgroup_id = CgroupId(pid);
    p.start_ns = start_ns(stat.start_ticks);
    auto parent = stats.find(stat.ppid);
    p.parent_start_ns = parent == stats.end() ? 0 : start_ns(parent->second.start_ticks);
    p.ppid = stat.ppid;
    std::string status = ReadFile(dir + "/status");
    p.uid = StatusId(status, "\nUid:");
    p.gid = StatusId(status, "\nGid:");
    std::string argv = ReadFile(dir + "/cmdline");
    if (!argv.empty() && argv.back() != '\0') argv += '\0';  // a rewritten title: the ABI wants the final NUL
    p.argc = static_cast<uint32_t>(std::count(argv.begin(), argv.end(), '\0'));
    std::memcpy(p.comm, stat.comm.data(), std::min(stat.comm.size(), sizeof(p.comm) - 1));
    std::memcpy(rec.data(), &p, sizeof(p));
    uint16_t exe_len = 0, cwd_len = 0, argv_len = 0;
    PutField(&rec, Link(dir + "/exe"), KMON_PATH_MAX, true, KMON_PROCESS_VAR_EXE, &exe_len);
    PutField(&rec, Link(dir + "/cwd"), KMON_PATH_MAX, true, KMON_PROCESS_VAR_CWD, &cwd_len);
    PutField(&rec, argv, argv_cap, false, KMON_PROCESS_VAR_ARGV, &argv_len);
    auto* body = reinterpret_cast<kmon_process*>(rec.data());
    body->exe_len = exe_len;
    body->cwd_len = cwd_len;
    body->argv_len = argv_len;
    rec.resize(KMON_ALIGN_UP(rec.size()));
    body = reinterpret_cast<kmon_process*>(rec.data());
    body->hdr.size = static_cast<uint32_t>(rec.size());
    out.insert(out.end(), rec.begin(), rec.end());
  }
  return out;
}

class EbpfBackend final : public Backend {
 public:
  explicit EbpfBackend(const BackendOptions& options) : opts_(options) {}
  ~EbpfBackend() override { Close(); }

  void Init() {
    LogCapture log;
    if (access(kVmlinuxBtf, R_OK) != 0)
      throw BackendError("btf", errno, ErrorText("no kernel BTF at /sys/kernel/btf/vmlinux", errno, ""),
                         "kernel BTF (CONFIG_DEBUG_INFO_BTF=y)");
    ncpus_ = libbpf_num_possible_cpus();
    if (ncpus_ <= 0) throw BackendError("open", -ncpus_, ErrorText("counting CPUs", -ncpus_, log.text()));
    bool snapshot = opts_.kinds & Bit(KMON_KIND_PROCESS);
    snapshot_iter_ = snapshot && !opts_.snapshot_fallback;
    SignalHeld profiler(SIGPROF);  // for the rest of Init: a profiled process still loads its programs
    int err = OpenAndLoad(log);
    if (err != 0 && snapshot_iter_) {
      // A kernel without sleepable task iterators or bpf_copy_from_user_task
      // (before 5.18): everything else, and the snapshot from /proc.
      snapshot_iter_ = false;
      kmon_bpf__destroy(skel_);
      skel_ = nullptr;
      err = OpenAndLoad(log);
    }
    if (err != 0) {
      // The verifier rejects with EACCES too: that is not a permission problem.
      throw BackendError(log.verifier_rejected() ? "verify" : "load", -err, ErrorText("loading the BPF programs", -err, log.text()),
                         MissingFeature(-err));
    }
    RememberIds();
    FillSyscallSlots();
    WriteFilters(opts_.filters);
    if (int err = kmon_bpf__attach(skel_); err != 0)
      throw BackendError("attach", -err, ErrorText("attaching the BPF programs", -err, log.text()),
                         MissingFeature(-err));
    // Processes forked between the walk above and the attach: fork tracking sees every later one.
    if (Tracking(opts_.filters.process)) TrackSubtree(opts_.filters.process.pids);
    ring_ = ring_buffer__new(bpf_map__fd(skel_->maps.kmon_ring), OnRecord, this, nullptr);
    if (ring_ == nullptr) throw BackendError("ring", errno, ErrorText("mapping the ring buffer", errno, log.text()));
    MapRingPositions();
    if (opts_.wakeup == Wakeup::kAdaptive || opts_.wakeup == Wakeup::kPull) OpenWakeupFd();
    clock_ = SampleClock();
    // After the attach: a process born meanwhile is in the snapshot, its fork in the ring, or both; none is missed.
    if (snapshot) snapshot_ = NumberSnapshot(snapshot_iter_ ? IterSnapshot() : ProcSnapshot(opts_.self_tgid, opts_.argv_bytes));
  }

  bool Pending() override { return snapshot_at_ < snapshot_.size(); }

  SessionClock Clock() override { return clock_; }

  void Start(uv_loop_t* loop, Notify notify, void* ctx) override {
    if (opts_.wakeup != Wakeup::kPoll) poll_ = StartPoll(loop, notify, ctx);
    if (opts_.wakeup == Wakeup::kAdaptive) timer_ = StartTimer(loop, opts_.max_latency_ms, notify, ctx);
    if (opts_.wakeup == Wakeup::kPoll) timer_ = StartTimer(loop, opts_.poll_interval_ms, notify, ctx);
  }

  Drained Drain(uint8_t* dst, size_t cap) override {
    if (ring_ == nullptr) return {0, false};
    dst_ = dst;
    room_ = cap;
    used_ = 0;
    full_ = false;
    if (!TakeSnapshot()) return {used_, true};  // ring records only after the whole snapshot
    ring_buffer__consume(ring_);  // < 0 only when OnRecord stopped it
    return {used_, full_};
  }

  BackendStats Stats() override {
    BackendStats stats;
    stats.binding_dropped = binding_dropped_;
    if (skel_ == nullptr) return stats;
    stats.cpus.resize(static_cast<size_t>(ncpus_));
    uint32_t key = 0;
    int err = bpf_map__lookup_elem(skel_->maps.kmon_stats, &key, sizeof(key), stats.cpus.data(),
                                   stats.cpus.size() * sizeof(kmon_cpu_stats), 0);
    if (err != 0) throw BackendError("stats", -err, ErrorText("reading the per-CPU counters", -err, ""));
    if (positions_ != nullptr) {
      stats.ring_size = opts_.ring_bytes;
      stats.ring_used = RingPosition(page_) - RingPosition(0);
    }
    return stats;
  }

  void SetFilters(const Filters& filters) override {
    if (skel_ == nullptr) return;
    if (Tracking(filters.process) && !detached_) {
      AttachLate(skel_->progs.kmon_fork, &skel_->links.kmon_fork);
      AttachLate(ExitProgram(), ExitLink());
    }
    WriteFilters(filters);
  }

  // No wakeups while paused: the ring fills, then the BPF programs drop and count.
  void Pause() override {
    if (poll_ != nullptr) uv_poll_stop(&poll_->h.poll);
    if (timer_ != nullptr) uv_timer_stop(&timer_->h.timer);
  }

  // A wakeup the kernel sent while paused is still pending on our epoll fd
  // (in `each` mode: records waiting keep the ring ready) and fires the poll
  // again; addon.cc drains what waits in any case.
  void Resume() override {
    if (poll_ != nullptr)
      if (int err = uv_poll_start(&poll_->h.poll, UV_READABLE, OnPoll); err != 0) throw WaitError(err);
    if (timer_ != nullptr)
      if (int err = uv_timer_again(&timer_->h.timer); err != 0) throw WaitError(err);
  }

  void Detach() override {
    if (skel_ != nullptr) kmon_bpf__detach(skel_);  // links go; the ring and counters stay
    detached_ = true;
  }

  void Close() override {
    CloseWaker(poll_);  // first: uv_close unregisters the fd before it is closed
    CloseWaker(timer_);
    if (wakeup_fd_ >= 0) close(wakeup_fd_);
    wakeup_fd_ = -1;
    ring_buffer__free(ring_);
    ring_ = nullptr;
    if (positions_ != nullptr) munmap(positions_, 2 * page_);
    positions_ = nullptr;
    kmon_bpf__destroy(skel_);  // links, programs, maps and their fds
    skel_ = nullptr;
    AwaitRelease();
  }

 private:
  // How full the ring is, for the status line: the kernel's producer position
  // (page 1 of the ring map) minus the consumer position (page 0), mapped
  // read-only beside libbpf's own mapping. Not essential: on failure, unknown.
  void MapRingPositions() {
    page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    void* mapped = mmap(nullptr, 2 * page_, PROT_READ, MAP_SHARED, bpf_map__fd(skel_->maps.kmon_ring), 0);
    positions_ = mapped == MAP_FAILED ? nullptr : static_cast<uint8_t*>(mapped);
  }

  uint64_t RingPosition(size_t offset) const {
    return __atomic_load_n(reinterpret_cast<const uint64_t*>(positions_ + offset), __ATOMIC_ACQUIRE);
  }

  int OpenAndLoad(const LogCapture& log) {
    skel_ = kmon_bpf__open();
    if (skel_ == nullptr) throw BackendError("open", errno, ErrorText("opening the BPF object", errno, log.text()));
    Configure();
    return kmon_bpf__load(skel_);
  }

  // Runs the task iterator once (its link was attached with the others) and
  // returns what it wrote: one struct kmon_process per process.
  std::vector<uint8_t> IterSnapshot() {
    int fd = bpf_iter_create(bpf_link__fd(skel_->links.kmon_snapshot));
    if (fd < 0) throw BackendError("snapshot", errno, ErrorText("starting the process iterator", errno, ""));
    std::vector<uint8_t> out;
    for (;;) {
      size_t at = out.size();
      out.resize(at + (64 << 10));
      ssize_t n = read(fd, out.data() + at, 64 << 10);
      out.resize(at + static_cast<size_t>(std::max<ssize_t>(n, 0)));
      if (n > 0 || (n < 0 && errno == EINTR)) continue;
      int err = n < 0 ? errno : 0;
      close(fd);
      if (err != 0) throw BackendError("snapshot", err, ErrorText("reading the process iterator", err, ""));
      break;
    }
    bpf_link__destroy(skel_->links.kmon_snapshot);  // run once: nothing of it stays in the kernel
    skel_->links.kmon_snapshot = nullptr;
    return out;
  }

  // Copies whole snapshot records while they fit; true once the snapshot is
  // all delivered and a ring record still fits (OnRecord's rule).
  bool TakeSnapshot() {
    while (snapshot_at_ < snapshot_.size()) {
      uint32_t size = RecordSize(snapshot_.data() + snapshot_at_);
      if (size > room_ - used_) return false;
      std::memcpy(dst_ + used_, snapshot_.data() + snapshot_at_, size);
      used_ += size;
      snapshot_at_ += size;
    }
    if (!snapshot_.empty()) std::vector<uint8_t>().swap(snapshot_);  // delivered: free it
    snapshot_at_ = 0;
    return room_ - used_ >= KMON_RECORD_MAX;
  }

  void Configure() {
    auto& cfg = skel_->rodata->kmon_cfg;
    cfg.kinds = opts_.kinds;
    cfg.self_tgid = opts_.self_tgid;
    cfg.threads = opts_.threads ? 1 : 0;
    cfg.wakeup = opts_.wakeup == Wakeup::kAdaptive ? KMON_WAKEUP_ADAPTIVE
                 : opts_.wakeup == Wakeup::kPoll   ? KMON_WAKEUP_POLL
                                                   : KMON_WAKEUP_EACH;  // each, pull
    // A watermark the ring can never reach would leave only the timer to drain it.
    cfg.wakeup_bytes = std::min(opts_.wakeup_bytes, opts_.ring_bytes / 2);
    cfg.argv_max = opts_.argv_bytes;
    cfg.synth_tgid = opts_.synth_tgid;
    cfg.synth_payload = opts_.synth_payload;
    SetMaxEntries(skel_->maps.kmon_ring, static_cast<uint32_t>(opts_.ring_bytes));
    SetMaxEntries(skel_->maps.kmon_exec_buf, static_cast<uint32_t>(ncpus_));
    // Programs of kinds not asked for are neither loaded nor attached: zero cost.
    Autoload(skel_->progs.kmon_exec, opts_.kinds & (1u << KMON_KIND_EXEC));
    group_dead_ = !opts_.exit_fallback && ExitTracepointHasGroupDead();
    // Fork and exit also keep the subtree filter's process set: always
    // loaded, so a filter set later can attach them, but attached only when
    // a kind or the filter needs them.
    bool tracking = Tracking(opts_.filters.process);
    Autoload(skel_->progs.kmon_exit, group_dead_);
    Autoload(skel_->progs.kmon_exit_live, !group_dead_);
    bpf_program__set_autoattach(ExitProgram(), (opts_.kinds & (1u << KMON_KIND_EXIT)) || tracking);
    bpf_program__set_autoattach(skel_->progs.kmon_fork, (opts_.kinds & (1u << KMON_KIND_FORK)) || tracking);
    Autoload(skel_->progs.kmon_synth, opts_.synthetic);
    Autoload(skel_->progs.kmon_tcp_close, opts_.kinds & Bit(KMON_KIND_CLOSE));
    Autoload(skel_->progs.kmon_snapshot, snapshot_iter_);
    bool failed_execs = opts_.kinds & (1u << KMON_KIND_EXEC_FAILED);
    for (bpf_program* prog : {skel_->progs.kmon_execve_enter, skel_->progs.kmon_execveat_enter, skel_->progs.kmon_execve_exit,
                              skel_->progs.kmon_execveat_exit})
      Autoload(prog, failed_execs);
    // An LRU map is allocated whole at creation: only a session with `close` pays for its table.
    SetMaxEntries(skel_->maps.kmon_flows, opts_.kinds & Bit(KMON_KIND_CLOSE) ? kFlowsMax : 1);
    ChooseSyscallPrograms();
  }

  bpf_program* Program(const char* name) {
    bpf_program* prog = bpf_object__find_program_by_name(skel_->obj, name);
    if (prog == nullptr) throw BackendError("open", ENOENT, std::string("the BPF object has no program ") + name);
    return prog;
  }

  void WriteFilters(const Filters& filters) {
    WriteNetworkFilter(filters.network);
    WriteProcessFilter(filters.process);
    WriteFileFilters(filters.file);
  }

  // The live network filter: the prefixes and ports first (new ones in,
  // stale ones out), then the switches that make the programs use them.
  void WriteNetworkFilter(const Filters::Network& f) {
    std::map<PrefixKey, uint32_t> prefixes;
    for (const auto& p : f.include) prefixes[MakePrefixKey(p)] = KMON_NET_INCLUDE;
    for (const auto& p : f.exclude) prefixes[MakePrefixKey(p)] = KMON_NET_EXCLUDE;
    std::map<uint16_t, uint32_t> ports;
    for (uint16_t port : f.ports) ports[port] = KMON_NET_INCLUDE;
    for (uint16_t port : f.exclude_ports) ports[port] = KMON_NET_EXCLUDE;
    for (const auto& [key, verdict] : prefixes) Update(PrefixMap(key), key.key.data(), verdict, "an address prefix");
    for (const auto& [port, verdict] : ports) Update(skel_->maps.kmon_net_ports, &port, verdict, "a port");
    for (const auto& [key, verdict] : prefixes_)
      if (prefixes.count(key) == 0) bpf_map__delete_elem(PrefixMap(key), key.key.data(), key.key.size(), 0);
    for (const auto& [port, verdict] : ports_)
      if (ports.count(port) == 0) bpf_map__delete_elem(skel_->maps.kmon_net_ports, &port, sizeof(port), 0);
    prefixes_ = std::move(prefixes);
    ports_ = std::move(ports);
    kmon_net_filter value{};
    value.drop_loopback = f.drop_loopback ? 1 : 0;
    value.include_addrs = f.include.empty() ? 0 : 1;
    value.include_ports = f.ports.empty() ? 0 : 1;
    value.lookup_addrs = prefixes_.empty() ? 0 : 1;
    value.lookup_ports = ports_.empty() ? 0 : 1;
    Update(skel_->maps.kmon_net_filter, &kZero, value, "the network filter");
  }

  bpf_map* PrefixMap(const PrefixKey& key) const { return key.v6 ? skel_->maps.kmon_net_cidr6 : skel_->maps.kmon_net_cidr4; }

  template <typename Key, typename Value>
  static void Update(bpf_map* map, const Key* key, const Value& value, const char* what) {
    if (int err = bpf_map__update_elem(map, key, bpf_map__key_size(map), &value, sizeof(value), BPF_ANY); err != 0)
      throw BackendError("filters", -err, ErrorText((std::string("setting ") + what).c_str(), -err, ""));
  }

  bpf_program* ExitProgram() const { return group_dead_ ? skel_->progs.kmon_exit : skel_->progs.kmon_exit_live; }
  bpf_link** ExitLink() const { return group_dead_ ? &skel_->links.kmon_exit : &skel_->links.kmon_exit_live; }

  static bool Tracking(const Filters::Process& filter) { return !filter.pids.empty() && filter.children; }

  // The skeleton owns the link, so detach and close release it like the others.
  static void AttachLate(bpf_program* prog, bpf_link** link) {
    if (*link != nullptr) return;
    LogCapture log;
    bpf_link* attached = bpf_program__attach(prog);
    if (attached == nullptr)
      throw BackendError("attach", errno, ErrorText(bpf_program__name(prog), errno, log.text()), MissingFeature(errno));
    *link = attached;
  }

  // While the filter changes, the set filters are off and the subtree filter
  // stays on only if it was on and will be: a record may pass that neither
  // filter wanted, never the reverse beyond the pid walk. Then the sets, the
  // pid set of a new generation, the bits of the new filter; stale pids last.
  void WriteProcessFilter(const Filters::Process& filter) {
    uint32_t active = 0;
    if (!filter.pids.empty()) active |= KMON_FILTER_SUBTREE;
    if (Tracking(filter)) active |= KMON_FILTER_TRACK;
    if (!filter.uids.empty()) active |= KMON_FILTER_UID;
    if (!filter.cgroups.empty()) active |= KMON_FILTER_CGROUP;
    if (!filter.comms.empty()) active |= KMON_FILTER_COMM;
    kmon_filter& state = skel_->bss->kmon_filter;
    uint32_t generation = state.generation + 1;
    __atomic_store_n(&state.generation, generation, __ATOMIC_RELEASE);
    // TRACK goes on before the walk, so a fork during it is followed by the kernel.
    uint32_t meanwhile = (state.active & active & KMON_FILTER_SUBTREE) | (active & KMON_FILTER_TRACK);
    __atomic_store_n(&state.active, meanwhile, __ATOMIC_RELEASE);
    ReplaceSet(skel_->maps.kmon_filter_uids, filter.uids);
    ReplaceSet(skel_->maps.kmon_filter_cgroups, filter.cgroups);
    std::vector<kmon_comm_key> comms;
    for (const std::string& comm : filter.comms) {
      kmon_comm_key key{};
      std::memcpy(key.comm, comm.data(), std::min(comm.size(), sizeof(key.comm) - 1));
      comms.push_back(key);
    }
    ReplaceSet(skel_->maps.kmon_filter_comms, comms);
    if (Tracking(filter))
      TrackSubtree(filter.pids);
    else
      Track(filter.pids);
    __atomic_store_n(&state.active, active, __ATOMIC_RELEASE);
    PruneTracked(generation);
  }

  // Puts every key of `keys` in a set map and removes the others.
  template <typename Key>
  void ReplaceSet(bpf_map* map, const std::vector<Key>& keys) {
    uint8_t one = 1;
    for (const Key& key : keys)
      if (int err = bpf_map__update_elem(map, &key, sizeof(key), &one, sizeof(one), BPF_ANY); err != 0)
        throw BackendError("filters", -err, ErrorText(bpf_map__name(map), -err, ""));
    std::vector<Key> stale;
    Key key{};
    for (void* prev = nullptr; bpf_map__get_next_key(map, prev, &key, sizeof(key)) == 0; prev = &key)
      if (std::find_if(keys.begin(), keys.end(), [&](const Key& k) { return std::memcmp(&k, &key, sizeof(key)) == 0; }) ==
          keys.end())
        stale.push_back(key);
    for (const Key& k : stale) bpf_map__delete_elem(map, &k, sizeof(k), 0);
  }

  // Adds these tgids with the current generation; returns how many were new to this walk.
  size_t Track(const std::vector<uint32_t>& tgids) {
    uint32_t generation = skel_->bss->kmon_filter.generation;
    for (uint32_t tgid : tgids)
      if (int err = bpf_map__update_elem(skel_->maps.kmon_tracked, &tgid, sizeof(tgid), &generation,
                                         sizeof(generation), BPF_ANY);
          err != 0)
        throw BackendError("filters", -err,
                           ErrorText("adding a process to the followed subtree (65536 at most)", -err, ""));
    return tgids.size();
  }

  // The roots and all their living descendants, until a walk of /proc finds
  // none that is not tracked yet: from then on, every fork of a tracked
  // process is tracked by the kernel itself.
  void TrackSubtree(const std::vector<uint32_t>& roots) {
    std::unordered_set<uint32_t> tracked(roots.begin(), roots.end());
    Track(roots);
    for (int round = 0; round < 16; ++round) {
      std::unordered_map<uint32_t, uint32_t> parents = ParentsNow();
      std::vector<uint32_t> found;
      for (bool grew = true; grew;) {  // descendants of descendants within this walk
        grew = false;
        for (const auto& [pid, ppid] : parents)
          if (tracked.count(ppid) != 0 && tracked.insert(pid).second) {
            found.push_back(pid);
            grew = true;
          }
      }
      if (found.empty()) return;
      Track(found);
    }
  }

  // Removes the tgids of earlier generations (a fork copies its parent's, so
  // children of today's set carry today's).
  void PruneTracked(uint32_t generation) {
    bpf_map* map = skel_->maps.kmon_tracked;
    std::vector<uint32_t> stale;
    uint32_t key = 0;
    for (void* prev = nullptr; bpf_map__get_next_key(map, prev, &key, sizeof(key)) == 0; prev = &key) {
      uint32_t value = 0;
      if (bpf_map__lookup_elem(map, &key, sizeof(key), &value, sizeof(value), 0) == 0 && value != generation)
        stale.push_back(key);
    }
    for (uint32_t k : stale) bpf_map__delete_elem(map, &k, sizeof(k), 0);
  }

  // The syscall programs of the kinds asked for, and how they are attached:
  // each on its own tracepoint when tracefs has them (other syscalls pay
  // nothing), else all behind one raw sys_exit program that tail-calls them
  // (every syscall of the system pays for that one; measured in bench/).
  void ChooseSyscallPrograms() {
    bool dispatcher = false;
    for (const SyscallProgram& call : kSyscallPrograms) {
      if (!(opts_.kinds & call.kinds)) continue;
      if (tracepoints_ < 0) tracepoints_ = !opts_.syscall_fallback && SyscallTracepoints();
      if (tracepoints_ == 1) {
        // A syscall this kernel lacks has no tracepoint: nothing to attach.
        if (access(SyscallEvent(call.name).c_str(), F_OK) == 0) Autoload(Program((std::string("sys_exit_") + call.name).c_str()), true);
        continue;
      }
      bpf_program* tail = Program((std::string("tail_") + call.name).c_str());
      Autoload(tail, true);
      bpf_program__set_autoattach(tail, false);  // reached through kmon_sys_exit only
      dispatcher = true;
    }
    Autoload(skel_->progs.kmon_sys_exit, dispatcher);
  }

  // The dispatcher's tail-call slots: syscall number -> its loaded program.
  void FillSyscallSlots() {
    int slots = bpf_map__fd(skel_->maps.kmon_syscalls);
    for (const SyscallProgram& call : kSyscallPrograms) {
      int fd = bpf_program__fd(Program((std::string("tail_") + call.name).c_str()));
      if (fd < 0) continue;  // not loaded
      uint32_t nr = static_cast<uint32_t>(call.nr);
      if (bpf_map_update_elem(slots, &nr, &fd, BPF_ANY) != 0)
        throw BackendError("attach", errno, ErrorText("filling the syscall dispatch table", errno, ""));
    }
  }

  // The live file filter, in the same order.
  void WriteFileFilters(const Filters::File& file) {
    std::set<std::string> next;
    for (const std::string& p : file.include) next.insert("+" + p);
    for (const std::string& p : file.exclude) next.insert("-" + p);
    int trie = bpf_map__fd(skel_->maps.kmon_path_prefixes);
    for (const std::string& entry : next) {
      kmon_prefix_key key = PathPrefixKey(entry);
      uint32_t action = entry[0] == '+' ? KMON_PREFIX_INCLUDE : KMON_PREFIX_EXCLUDE;
      if (bpf_map_update_elem(trie, &key, &action, BPF_ANY) != 0)
        throw BackendError("filters", errno, ErrorText(("setting the path prefix " + entry.substr(1)).c_str(), errno, ""));
    }
    for (const std::string& entry : path_prefixes_) {
      if (next.count(entry) != 0 || next.count((entry[0] == '+' ? "-" : "+") + entry.substr(1)) != 0) continue;
      kmon_prefix_key key = PathPrefixKey(entry);
      bpf_map_delete_elem(trie, &key);
    }
    path_prefixes_ = next;
    kmon_filters value{};
    value.file.failed = file.failed ? 1 : 0;
    value.file.writes_only = file.writes_only ? 1 : 0;
    value.file.path_includes = file.include.empty() ? 0 : 1;
    value.file.path_filter = next.empty() ? 0 : 1;
    uint32_t zero = 0;
    if (bpf_map_update_elem(bpf_map__fd(skel_->maps.kmon_filters), &zero, &value, BPF_ANY) != 0)
      throw BackendError("filters", errno, ErrorText("setting the filters", errno, ""));
  }

  static kmon_prefix_key PathPrefixKey(const std::string& entry) {
    kmon_prefix_key key{};
    size_t n = std::min(entry.size() - 1, sizeof(key.path));  // core caps prefixes at KMON_PREFIX_MAX
    std::memcpy(key.path, entry.data() + 1, n);
    key.prefixlen = static_cast<uint32_t>(n * 8);
    return key;
  }

  void RememberIds() {
    bpf_program* prog = nullptr;
    bpf_object__for_each_program(prog, skel_->obj) {
      bpf_prog_info info{};
      uint32_t len = sizeof(info);
      if (bpf_program__fd(prog) >= 0 && bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0)
        prog_ids_.push_back(info.id);
    }
    bpf_map* map = nullptr;
    bpf_object__for_each_map(map, skel_->obj) {
      bpf_map_info info{};
      uint32_t len = sizeof(info);
      if (bpf_obj_get_info_by_fd(bpf_map__fd(map), &info, &len) == 0) map_ids_.push_back(info.id);
    }
  }

  // Unlinking is immediate, but the kernel frees the programs, and then their
  // maps, only after RCU grace periods (~20-40 ms here). Waiting makes a
  // returned close() mean "nothing of this session is left in the kernel",
  // which callers can check with bpftool. Bounded, so close() never hangs.
  void AwaitRelease() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (AnyAlive() && std::chrono::steady_clock::now() < deadline) usleep(1000);
    prog_ids_.clear();
    map_ids_.clear();
  }

  bool AnyAlive() const {
    for (uint32_t id : prog_ids_)
      if (StillThere(bpf_prog_get_fd_by_id(id))) return true;
    for (uint32_t id : map_ids_)
      if (StillThere(bpf_map_get_fd_by_id(id))) return true;
    return false;
  }

  static bool StillThere(int fd) {
    if (fd < 0) return false;  // ENOENT: released
    close(fd);
    return true;
  }

  // In adaptive and pull modes the loop waits on an epoll fd of our own that
  // holds the ring edge-triggered: it turns ready only when the kernel wakes
  // the ring (BPF_RB_FORCE_WAKEUP), never merely because data waits. Polled
  // level-triggered (as libbpf's own epoll fd does), a steady producer would
  // keep the loop waking for every few records and defeat the adaptive
  // watermark, and records a pull consumer has not read yet would wake it
  // again and again. In `each` mode the loop polls the ring itself: every
  // record wakes it anyway and every wakeup drains the ring dry, so it is
  // ready exactly when records wait, and a wakeup costs one syscall, not two.
  void OpenWakeupFd() {
    wakeup_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (wakeup_fd_ < 0) throw BackendError("wait", errno, ErrorText("creating an epoll fd", errno, ""));
    epoll_event event{};
    event.events = EPOLLIN | EPOLLET;
    if (epoll_ctl(wakeup_fd_, EPOLL_CTL_ADD, bpf_map__fd(skel_->maps.kmon_ring), &event) != 0)
      throw BackendError("wait", errno, ErrorText("watching the ring buffer", errno, ""));
  }

  static void SetMaxEntries(bpf_map* map, uint32_t n) {
    if (int err = bpf_map__set_max_entries(map, n); err != 0)
      throw BackendError("open", -err, ErrorText(bpf_map__name(map), -err, ""));
  }

  static void Autoload(bpf_program* prog, bool on) {
    if (int err = bpf_program__set_autoload(prog, on); err != 0)
      throw BackendError("open", -err, ErrorText(bpf_program__name(prog), -err, ""));
  }

  Waker* StartPoll(uv_loop_t* loop, Notify notify, void* ctx) {
    auto* w = new Waker{{}, notify, ctx, wakeup_fd_};
    int fd = wakeup_fd_ >= 0 ? wakeup_fd_ : bpf_map__fd(skel_->maps.kmon_ring);
    if (int err = uv_poll_init(loop, &w->h.poll, fd); err != 0) {
      delete w;  // a failed init leaves the handle outside the loop
      throw WaitError(err);
    }
    w->h.handle.data = w;
    if (int err = uv_poll_start(&w->h.poll, UV_READABLE, OnPoll); err != 0) {
      CloseWaker(w);
      throw WaitError(err);
    }
    return w;
  }

  static Waker* StartTimer(uv_loop_t* loop, uint64_t ms, Notify notify, void* ctx) {
    auto* w = new Waker{{}, notify, ctx, -1};
    uv_timer_init(loop, &w->h.timer);  // cannot fail
    w->h.handle.data = w;
    if (int err = uv_timer_start(&w->h.timer, OnTimer, ms, ms); err != 0) {
      CloseWaker(w);
      throw WaitError(err);
    }
    return w;
  }

  static BackendError WaitError(int uv_err) {
    return BackendError("wait", -uv_err, std::string("starting the wait: ") + uv_strerror(uv_err));
  }

  // ring_buffer__consume calls this per record. Returning < 0 stops the
  // drain, but libbpf has already consumed that record: so copy first, and
  // stop while the room left still fits any record.
  static int OnRecord(void* ctx, void* data, size_t size) {
    auto* self = static_cast<EbpfBackend*>(ctx);
    if (size > self->room_ - self->used_) {  // only a driver bug gets here
      ++self->binding_dropped_;
      return 0;
    }
    std::memcpy(self->dst_ + self->used_, data, size);
    self->used_ += size;
    if (self->room_ - self->used_ >= KMON_RECORD_MAX) return 0;
    self->full_ = true;
    return -1;
  }

  BackendOptions opts_;
  SessionClock clock_;
  bool snapshot_iter_ = false;    // the snapshot comes from the task iterator (else from /proc)
  std::vector<uint8_t> snapshot_;  // process records to deliver before any ring record
  size_t snapshot_at_ = 0;         // bytes of it delivered
  kmon_bpf* skel_ = nullptr;
  ring_buffer* ring_ = nullptr;
  uint8_t* positions_ = nullptr;  // the ring's consumer and producer pages, read-only
  size_t page_ = 0;
  Waker* poll_ = nullptr;
  Waker* timer_ = nullptr;
  std::map<PrefixKey, uint32_t> prefixes_;  // now in kmon_net_cidr4/6, with their verdicts
  std::map<uint16_t, uint32_t> ports_;       // now in kmon_net_ports
  int tracepoints_ = -1;            // syscall programs on their own tracepoints (1) or the dispatcher (0); -1: none
  std::set<std::string> path_prefixes_;  // "+prefix" / "-prefix" now in kmon_path_prefixes
  std::vector<uint32_t> prog_ids_;  // to wait for their release in Close
  std::vector<uint32_t> map_ids_;
  int wakeup_fd_ = -1;  // edge-triggered epoll on the ring (adaptive, pull)
  bool group_dead_ = true;  // which exit program is loaded
  bool detached_ = false;
  int ncpus_ = 0;
  uint64_t binding_dropped_ = 0;
  // The batch being filled by Drain.
  uint8_t* dst_ = nullptr;
  size_t room_ = 0;
  size_t used_ = 0;
  bool full_ = false;
};

}  // namespace

std::unique_ptr<Backend> CreateBackend(const BackendOptions& options) {
  auto backend = std::make_unique<EbpfBackend>(options);
  backend->Init();  // on throw, the unique_ptr's destructor releases what was acquired
  return backend;
}

const char* BackendName() { return "linux-ebpf"; }

size_t RecordMax() { return KMON_RECORD_MAX; }

}  // namespace kmon
