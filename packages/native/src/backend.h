// The boundary between the N-API layer (addon.cc) and a platform's kernel
// driver. One implementation per OS, chosen at build time:
// src/linux/ebpf_backend.cc (binding.gyp) and src/windows/kmsys_backend.cc
// (windows/Makefile, cross-built). The methods below are called on the JS
// thread only, and `notify` is only ever called on its libuv loop. The Linux
// backend waits on the loop itself (uv_poll, uv_timer: no thread); the
// Windows one has a thread of its own (libuv cannot poll a device handle
// there) that queues batches and wakes the loop with uv_async_send.
#ifndef KMON_NATIVE_BACKEND_H
#define KMON_NATIVE_BACKEND_H

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "kmon_abi.h"

namespace kmon {

// kPull: the kernel wakes per record as with kEach, but JS is only told
// that records wait and drains them itself (Session::Read).
enum class Wakeup { kEach, kAdaptive, kPoll, kPull };

// SessionOptions.filters: what the driver drops before a record is made,
// changeable on a live session (Backend::SetFilters).
struct Filters {
  struct Network {
    struct Prefix {
      std::vector<uint8_t> addr;  // 4 (IPv4) or 16 (IPv6) bytes, network order, host bits zero
      uint32_t length = 0;        // prefix bits
    };
    bool drop_loopback = false;
    // Address prefixes and ports; the longest matching prefix decides.
    std::vector<Prefix> include;
    std::vector<Prefix> exclude;
    std::vector<uint16_t> ports;
    std::vector<uint16_t> exclude_ports;
  } network;

  // options.filters.process, resolved (cgroup paths and containers are ids
  // by now). Empty sets are off; a record passes every set that is on.
  struct Process {
    std::vector<uint32_t> pids;  // these processes (and, with `children`, their descendants)
    bool children = true;
    std::vector<uint32_t> uids;
    std::vector<uint64_t> cgroups;  // a cgroup matches itself and its descendants
    std::vector<std::string> comms;
  } process;

  struct File {
    bool failed = false;       // also record failed calls
    bool writes_only = false;  // open: only opens that may modify the file
    // Path prefixes, each absolute and ending in '/' ("/" for everything),
    // at most kPrefixMax bytes; the longest match decides.
    std::vector<std::string> include;
    std::vector<std::string> exclude;
  } file;
};

// SessionOptions from @kmon/core, already validated, flattened for C++.
struct BackendOptions {
  uint32_t kinds = 0;         // bit (1 << kmon_kind) per kind
  uint64_t ring_bytes = 0;
  uint32_t argv_bytes = 0;
  uint32_t self_tgid = 0;     // excludeSelf: our tgid; 0 keeps our own events
  bool threads = false;
  Wakeup wakeup = Wakeup::kAdaptive;
  uint64_t wakeup_bytes = 0;
  uint64_t max_latency_ms = 0;
  uint64_t poll_interval_ms = 0;
  bool synthetic = false;
  uint32_t synth_tgid = 0;
  uint32_t synth_payload = 0;
  bool exit_fallback = false;  // tests: use the exit detection of kernels without group_dead
  bool syscall_fallback = false;  // tests: attach syscall programs by the sys_exit dispatcher even with tracefs
  bool snapshot_fallback = false;  // tests: build the process snapshot from /proc, as without the task iterator
  uint64_t batch_bytes = 0;    // the staging buffer Drain fills (>= RecordMax())
  Filters filters;

  // Windows only (kmon.sys); ignored elsewhere.
  struct Windows {
    enum class Mechanism { kInvertedCall, kEventPull } mechanism = Mechanism::kInvertedCall;
    uint32_t pending_requests = 4;  // inverted call: KMON_IOCTL_WAITs in flight
    uint32_t queue_batches = 64;    // batches waiting for JS; a full queue drops (binding_dropped)
    bool synthetic = false;         // the driver's timer source (KMON_IOCTL_SYNTH_START)
    uint32_t synth_period_ms = 1;
    uint32_t synth_per_tick = 1;
    uint32_t synth_payload = 0;
    uint64_t synth_count = 0;       // records in all, 0: no limit
    std::string driver_path;        // UTF-8 kmon.sys to load if the device is missing; empty: never load
  } windows;
};

// A failure of the driver. `stage` names the step. On Linux `err` is a
// positive errno and `missing` (if set) names the kernel feature that is
// absent; on Windows `win32` is set, `winerror` is the Win32 error code and
// `code_name` its ERROR_* name. addon.cc passes them all on to JS, where
// src/index.ts (errno) or src/windows/errors.ts (winerror) picks a KmonError.
class BackendError : public std::runtime_error {
 public:
  BackendError(std::string stage, int err, const std::string& message, std::string missing = "")
      : std::runtime_error(message), stage(std::move(stage)), err(err), missing(std::move(missing)) {}
  struct Win32 {
    uint32_t code;
    std::string name;
  };
  BackendError(std::string stage, Win32 win, const std::string& message)
      : std::runtime_error(message),
        stage(std::move(stage)),
        err(0),
        win32(true),
        winerror(win.code),
        code_name(std::move(win.name)) {}
  const std::string stage;
  const int err;
  const std::string missing;
  const bool win32 = false;
  const uint32_t winerror = 0;
  const std::string code_name;
};

struct BackendStats {
  std::vector<kmon_cpu_stats> cpus;  // one per possible CPU (Linux) or one in all
  uint64_t binding_dropped = 0;      // records this layer had to discard
  uint64_t ring_used = 0;            // bytes written to the ring and not yet consumed
  uint64_t ring_size = 0;            // 0: the backend cannot tell how full its ring is
};

// How the driver's timestamps (ts_ns) relate to the wall clock, sampled once
// when the session attaches: ts_ns + realtime_offset_ns = ns since the epoch.
struct SessionClock {
  std::string boot_id;  // the boot ts_ns and pids belong to
  int64_t realtime_offset_ns = 0;
};

// The offset of `wall` from `kernel` (two clocks read in ns): reads kernel,
// wall, kernel a few times and keeps the pair that was read closest together,
// pairing the wall reading with the midpoint of its kernel readings.
template <typename KernelNs, typename WallNs>
int64_t ClockOffset(KernelNs kernel, WallNs wall) {
  int64_t best_gap = INT64_MAX, offset = 0;
  for (int i = 0; i < 8; ++i) {
    int64_t before = kernel(), real = wall(), after = kernel();
    if (after - before < best_gap) {
      best_gap = after - before;
      offset = real - (before + (after - before) / 2);
    }
  }
  return offset;
}

struct Drained {
  size_t bytes;  // whole records copied
  bool more;     // stopped for lack of room: records are still waiting
};

class Backend {
 public:
  // Called on the loop when records may be waiting. Must tolerate the
  // backend being closed and destroyed inside the call.
  using Notify = void (*)(void* ctx);

  virtual ~Backend() = default;
  // Starts calling `notify` per the wakeup mode. Throws BackendError.
  virtual void Start(uv_loop_t* loop, Notify notify, void* ctx) = 0;
  // Copies whole records into dst. Requires cap >= RecordMax(); stops once
  // fewer than RecordMax() bytes of room are left. Throws BackendError when
  // the driver failed after Start and nothing drainable is left before the
  // failure (Windows: the pump thread could not go on).
  virtual Drained Drain(uint8_t* dst, size_t cap) = 0;
  // Records wait that no driver wakeup will announce (the Linux process
  // snapshot): the caller drains once the loop runs.
  virtual bool Pending() { return false; }
  virtual BackendStats Stats() = 0;
  // The clock sampled when the session attached.
  virtual SessionClock Clock() = 0;
  // Replaces the live filters; the next event sees them. Throws BackendError.
  virtual void SetFilters(const Filters& filters) = 0;
  // Backpressure: stop calling `notify` until Resume, so records wait in the
  // driver (and are dropped and counted there once it is full). Resume also
  // wakes for what waits. addon.cc calls them only on a change.
  virtual void Pause() = 0;
  virtual void Resume() = 0;
  // Stops the driver producing records; what waits stays drainable. Idempotent.
  virtual void Detach() = 0;
  // Detaches from the kernel and releases every resource. Idempotent.
  virtual void Close() = 0;
};

// Loads and attaches the platform's driver. Throws BackendError.
std::unique_ptr<Backend> CreateBackend(const BackendOptions& options);

// Short name of the compiled-in backend, e.g. "linux-ebpf".
const char* BackendName();

// Largest record the compiled-in backend's driver writes (bytes).
size_t RecordMax();

}  // namespace kmon

#endif  // KMON_NATIVE_BACKEND_H
