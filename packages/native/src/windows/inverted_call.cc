// Inverted call: the driver completes the oldest pending KMON_IOCTL_WAIT
// with as many whole records as fit. Requests are ticketed in issue order
// and delivered in ticket order, so batches reach JS in ring order however
// the port reports completions.
#include <atomic>
#include <thread>
#include <vector>

#include "pump.h"

namespace kmon {
namespace win {
namespace {

constexpr ULONG_PTR kIoKey = 1;
constexpr ULONG_PTR kStopKey = 2;
// After close() cancels, how long completions of cancelled requests may take.
constexpr DWORD kCancelGraceMs = 5000;

struct Slot {
  OVERLAPPED ov{};  // first member: a completion's OVERLAPPED* is the slot
  std::vector<uint8_t> buf;
  uint64_t ticket = 0;
  enum class State { kIdle, kInFlight, kDone } state = State::kIdle;
  DWORD bytes = 0;
  DWORD error = ERROR_SUCCESS;
};

class InvertedCallPump final : public Pump {
 public:
  InvertedCallPump(Device& device, BatchSink& sink, unsigned requests, DWORD buffer_bytes)
      : device_(device), sink_(sink) {
    port_ = CreateIoCompletionPort(device.handle(), nullptr, kIoKey, 1);
    if (!port_) FailLast("wait", "cannot bind \\\\.\\KMon to a completion port");
    for (unsigned i = 0; i < requests; i++) {
      slots_.push_back(new Slot());
      slots_.back()->buf.resize(buffer_bytes);
    }
  }

  ~InvertedCallPump() override {
    Stop();
    // Requests the driver never completed still own their slots: leak them rather than free memory it may write.
    if (!abandoned_)
      for (Slot* s : slots_) delete s;
    CloseHandle(port_);
  }

  void Start() override { thread_ = std::thread([this] { Run(); }); }

  void Detach() override { detached_ = true; }

  void Stop() override {
    if (!thread_.joinable()) return;
    PostQueuedCompletionStatus(port_, 0, kStopKey, nullptr);
    thread_.join();
  }

 private:
  bool Issue(Slot* s) {
    s->ov = OVERLAPPED{};
    s->ticket = next_issue_++;
    s->state = Slot::State::kInFlight;
    DWORD ignored = 0;
    if (DeviceIoControl(device_.handle(), KMON_IOCTL_WAIT, nullptr, 0, s->buf.data(), static_cast<DWORD>(s->buf.size()),
                        &ignored, &s->ov) ||
        GetLastError() == ERROR_IO_PENDING) {
      in_flight_++;  // a completion packet follows either way (no skip-on-success mode)
      return true;
    }
    s->state = Slot::State::kIdle;
    Abort(WinError("wait", GetLastError(), "KMON_IOCTL_WAIT failed: " + SystemMessage(GetLastError()) + " (" +
                                                ErrorName(GetLastError()) + ")"));
    return false;
  }

  // A fatal error: report it once, cancel the rest, let the loop wind down.
  void Abort(const WinError& error) {
    if (!stopping_) sink_.Fail(error);
    BeginStop();
  }

  void BeginStop() {
    if (stopping_) return;
    stopping_ = true;
    device_.CancelAll();
    deadline_ = GetTickCount64() + kCancelGraceMs;
  }

  Slot* NextInOrder() {
    for (Slot* s : slots_)
      if (s->state == Slot::State::kDone && s->ticket == next_deliver_) return s;
    return nullptr;
  }

  void Run() {
    for (Slot* s : slots_)
      if (!Issue(s)) break;
    while (!(stopping_ && in_flight_ == 0)) {
      DWORD timeout = INFINITE;
      if (stopping_) {
        ULONGLONG now = GetTickCount64();
        timeout = now >= deadline_ ? 0 : static_cast<DWORD>(deadline_ - now);
      }
      DWORD bytes = 0;
      ULONG_PTR key = 0;
      OVERLAPPED* ov = nullptr;
      BOOL ok = GetQueuedCompletionStatus(port_, &bytes, &key, &ov, timeout);
      if (!ov) {
        if (ok && key == kStopKey) {
          BeginStop();
          continue;
        }
        if (stopping_) {  // timed out waiting for cancelled requests
          abandoned_ = true;
          break;
        }
        Abort(WinError("wait", GetLastError(), "GetQueuedCompletionStatus failed: " + SystemMessage(GetLastError())));
        continue;
      }
      Slot* done = reinterpret_cast<Slot*>(ov);
      done->state = Slot::State::kDone;
      done->bytes = bytes;
      done->error = ok ? ERROR_SUCCESS : GetLastError();
      in_flight_--;
      for (Slot* s = NextInOrder(); s; s = NextInOrder()) {
        s->state = Slot::State::kIdle;
        next_deliver_++;
        if (s->error == ERROR_SUCCESS) {
          if (s->bytes) sink_.Deliver(s->buf.data(), s->bytes);
        } else if (!stopping_) {
          const char* why = s->error == ERROR_OPERATION_ABORTED ? "kmon.sys cancelled KMON_IOCTL_WAIT (is the driver stopping?)"
                                                                : "KMON_IOCTL_WAIT failed";
          Abort(WinError("wait", s->error, std::string(why) + ": " + SystemMessage(s->error) + " (" +
                                               ErrorName(s->error) + ")"));
        }
        if (!stopping_ && !detached_ && !Issue(s)) break;
      }
    }
  }

  Device& device_;
  BatchSink& sink_;
  HANDLE port_ = nullptr;
  std::vector<Slot*> slots_;
  std::thread thread_;
  std::atomic<bool> detached_{false};
  // Pump thread only, after Start.
  uint64_t next_issue_ = 0;
  uint64_t next_deliver_ = 0;
  unsigned in_flight_ = 0;
  bool stopping_ = false;
  bool abandoned_ = false;
  ULONGLONG deadline_ = 0;
};

}  // namespace

std::unique_ptr<Pump> MakeInvertedCallPump(Device& device, BatchSink& sink, unsigned requests, DWORD buffer_bytes) {
  return std::make_unique<InvertedCallPump>(device, sink, requests, buffer_bytes);
}

}  // namespace win
}  // namespace kmon
