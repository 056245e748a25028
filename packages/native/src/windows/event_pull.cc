// Event pull: kmon.sys signals its named event after each
// burst; the pump wakes and pulls batches until the ring is empty. The event
// is auto-reset and set after records are in the ring, so emptying the ring
// after every wake never strands a record.
#include <atomic>
#include <thread>
#include <vector>

#include "pump.h"

namespace kmon {
namespace win {
namespace {

// A wakeup lost anyway (it cannot be, but the cost of a check is nothing).
constexpr DWORD kSafetyPollMs = 1000;

class EventPullPump final : public Pump {
 public:
  EventPullPump(Device& device, BatchSink& sink, DWORD buffer_bytes) : device_(device), sink_(sink), buf_(buffer_bytes) {
    records_ = OpenEventW(SYNCHRONIZE, FALSE, KMON_EVENT_USER_NAME);
    if (!records_) FailLast("event", "cannot open kmon.sys's event Global\\KMonRecords");
    stop_ = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    io_ = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    if (!stop_ || !io_) {
      DWORD error = GetLastError();
      Close();
      Fail("event", error, "CreateEvent");
    }
  }

  ~EventPullPump() override {
    Stop();
    Close();
  }

  void Start() override { thread_ = std::thread([this] { Run(); }); }

  void Detach() override { detached_ = true; }

  void Stop() override {
    if (!thread_.joinable()) return;
    SetEvent(stop_);
    thread_.join();
  }

 private:
  void Close() {
    for (HANDLE h : {records_, stop_, io_})
      if (h) CloseHandle(h);
    records_ = stop_ = io_ = nullptr;
  }

  bool Stopping() { return WaitForSingleObject(stop_, 0) == WAIT_OBJECT_0; }

  void Run() {
    HANDLE waits[2] = {stop_, records_};
    for (;;) {
      try {
        for (DWORD n; !Stopping() && !detached_ && (n = device_.Pull(buf_.data(), static_cast<DWORD>(buf_.size()), io_)) != 0;)
          sink_.Deliver(buf_.data(), n);
      } catch (const WinError& e) {
        sink_.Fail(e);
        return;
      }
      DWORD w = WaitForMultipleObjects(2, waits, FALSE, kSafetyPollMs);
      if (w == WAIT_OBJECT_0) return;
      if (w == WAIT_FAILED) {
        sink_.Fail(WinError("event", GetLastError(), "waiting on Global\\KMonRecords failed: " +
                                                         SystemMessage(GetLastError())));
        return;
      }
    }
  }

  Device& device_;
  BatchSink& sink_;
  std::vector<uint8_t> buf_;
  HANDLE records_ = nullptr;
  HANDLE stop_ = nullptr;
  HANDLE io_ = nullptr;
  std::thread thread_;
  std::atomic<bool> detached_{false};
};

}  // namespace

std::unique_ptr<Pump> MakeEventPullPump(Device& device, BatchSink& sink, DWORD buffer_bytes) {
  return std::make_unique<EventPullPump>(device, sink, buffer_bytes);
}

}  // namespace win
}  // namespace kmon
