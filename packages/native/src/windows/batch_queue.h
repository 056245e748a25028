// The hand-off from the pump thread to the JS loop: at most `capacity`
// batches wait here. The pump never blocks on it: a batch that finds the
// queue full is discarded and its records are counted as binding drops
// (BackendStats.binding_dropped), so a slow consumer costs records, not
// driver stalls or memory. Every push wakes the loop (uv_async_send, which
// coalesces); the loop takes whole batches out with Take.
#ifndef KMON_WIN_BATCH_QUEUE_H
#define KMON_WIN_BATCH_QUEUE_H

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "../backend.h"
#include "pump.h"
#include "record_filter.h"

namespace kmon {
namespace win {

class BatchQueue final : public BatchSink {
 public:
  BatchQueue(size_t capacity, RecordFilter filter) : capacity_(capacity), filter_(filter) {}

  // JS thread, before the pump starts: the handle each push wakes.
  void Wake(uv_async_t* async) { async_ = async; }

  // Pump thread: keeps and renumbers the session's records (filter), queues them or counts them dropped.
  void Deliver(const uint8_t* data, size_t len) override;
  // Pump thread: reported by Take once the batches queued before it are taken.
  void Fail(const WinError& error) override;

  // JS thread: copies whole queued batches into dst while they fit; `more`
  // when a batch is left. Throws the pump's failure (once) when nothing is
  // left ahead of it.
  Drained Take(uint8_t* dst, size_t cap);

  // Records discarded because the queue was full (or memory ran out).
  uint64_t dropped() const { return dropped_.load(); }

 private:
  void Notify() {
    if (async_) uv_async_send(async_);
  }

  const size_t capacity_;
  RecordFilter filter_;  // pump thread only
  uv_async_t* async_ = nullptr;
  std::atomic<uint64_t> dropped_{0};
  std::mutex lock_;
  std::deque<std::vector<uint8_t>> batches_;  // guarded by lock_
  std::unique_ptr<WinError> failure_;         // guarded by lock_
  bool failure_told_ = false;                 // JS thread only
};

}  // namespace win
}  // namespace kmon

#endif  // KMON_WIN_BATCH_QUEUE_H
