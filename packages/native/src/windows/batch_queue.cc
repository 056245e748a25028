#include "batch_queue.h"

#include <cstring>
#include <new>

namespace kmon {
namespace win {

void BatchQueue::Deliver(const uint8_t* data, size_t len) {
  std::vector<uint8_t> batch;
  uint32_t records = 0;
  try {
    batch.resize(len);
  } catch (const std::bad_alloc&) {
    filter_.Apply(data, len, nullptr, &records);  // they take their numbers: the gap they leave is counted here
    dropped_ += records;
    return;
  }
  batch.resize(filter_.Apply(data, len, batch.data(), &records));
  if (batch.empty()) return;
  {
    std::lock_guard<std::mutex> hold(lock_);
    if (batches_.size() >= capacity_) {  // full: count, never wait, never grow
      dropped_ += records;
      return;
    }
    batches_.push_back(std::move(batch));
  }
  Notify();
}

void BatchQueue::Fail(const WinError& error) {
  {
    std::lock_guard<std::mutex> hold(lock_);
    if (!failure_) failure_ = std::make_unique<WinError>(error);
  }
  Notify();
}

Drained BatchQueue::Take(uint8_t* dst, size_t cap) {
  size_t used = 0;
  std::lock_guard<std::mutex> hold(lock_);
  // The pump's buffers are never larger than dst (batchBytes): only a bug gets here. Count, never spin.
  while (!batches_.empty() && batches_.front().size() > cap) {
    dropped_ += CountRecords(batches_.front().data(), batches_.front().size());
    batches_.pop_front();
  }
  while (!batches_.empty() && batches_.front().size() <= cap - used) {
    const std::vector<uint8_t>& batch = batches_.front();
    std::memcpy(dst + used, batch.data(), batch.size());
    used += batch.size();
    batches_.pop_front();
  }
  if (used == 0 && batches_.empty() && failure_ && !failure_told_) {
    failure_told_ = true;
    throw WinError(*failure_);
  }
  return {used, !batches_.empty()};
}

}  // namespace win
}  // namespace kmon
