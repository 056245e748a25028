// The boundary between the N-API layer (addon.cc) and a platform's kernel
// driver. One implementation per OS (src/linux/ebpf_backend.cc; Windows
// later), chosen at build time by binding.gyp. Everything here runs on the
// JS thread's libuv loop: no locks, no threads.
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
};

// A failure to bring the driver up. `stage` names the step, `err` is a
// positive errno, `missing` (if set) names the kernel feature that is absent.
class BackendError : public std::runtime_error {
 public:
  BackendError(std::string stage, int err, const std::string& message, std::string missing = "")
      : std::runtime_error(message), stage(std::move(stage)), err(err), missing(std::move(missing)) {}
  const std::string stage;
  const int err;
  const std::string missing;
};

struct BackendStats {
  std::vector<kmon_cpu_stats> cpus;  // one per possible CPU (Linux) or one in all
  uint64_t binding_dropped = 0;      // records this layer had to discard
};

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
  // Starts calling `notify` per the wakeup mode.
  virtual void Start(uv_loop_t* loop, Notify notify, void* ctx) = 0;
  // Copies whole records into dst. Requires cap >= KMON_RECORD_MAX; stops
  // once fewer than KMON_RECORD_MAX bytes of room are left.
  virtual Drained Drain(uint8_t* dst, size_t cap) = 0;
  virtual BackendStats Stats() = 0;
  // Stops the driver producing records; what waits stays drainable. Idempotent.
  virtual void Detach() = 0;
  // Detaches from the kernel and releases every resource. Idempotent.
  virtual void Close() = 0;
};

// Loads and attaches the platform's driver. Throws BackendError.
std::unique_ptr<Backend> CreateBackend(const BackendOptions& options);

// Short name of the compiled-in backend, e.g. "linux-ebpf".
const char* BackendName();

}  // namespace kmon

#endif  // KMON_NATIVE_BACKEND_H
