// The hand-off from the pump thread to JS: a thread-safe function whose queue
// holds at most `max_batches` batches. The pump never blocks on it: a batch
// that finds the queue full is discarded and its records are counted as
// binding drops (RawKernelStats.bindingDropped), so a slow consumer costs
// records, not driver stalls or memory.
#ifndef KMON_WIN_JS_QUEUE_H
#define KMON_WIN_JS_QUEUE_H

#include <node_api.h>

#include <atomic>
#include <cstdint>
#include <mutex>

#include "pump.h"
#include "record_filter.h"

namespace kmon {
namespace win {

class JsQueue final : public BatchSink {
 public:
  // on_error may be undefined: a pump failure then surfaces as an uncaught exception.
  // Throws std::runtime_error if the thread-safe function cannot be made.
  JsQueue(napi_env env, napi_value on_batch, napi_value on_error, size_t max_batches, RecordFilter filter);
  ~JsQueue() override;

  // Pump thread.
  void Deliver(const uint8_t* data, size_t len) override;
  void Fail(const WinError& error) override;

  // Records discarded because the queue was full.
  uint64_t dropped() const;

  // JS thread, after the pump has stopped: no more JS calls; queued batches
  // are freed unseen. Idempotent.
  void Close();

 private:
  struct Item;
  struct Shared;
  static void CallJs(napi_env env, napi_value js_cb, void* context, void* data);
  static void Finalize(napi_env env, void* data, void* hint);
  bool Push(Item* item);

  napi_threadsafe_function tsfn_ = nullptr;
  Shared* shared_;  // freed by the tsfn's finalizer
  RecordFilter filter_;
};

}  // namespace win
}  // namespace kmon

#endif  // KMON_WIN_JS_QUEUE_H
