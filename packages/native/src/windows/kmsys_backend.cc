// Windows backend (backend.h) over kmon.sys. libuv cannot poll a device
// handle on Windows, so a pump thread (pump.h) waits on the driver and puts
// every batch into a bounded queue (batch_queue.h), which wakes the JS loop
// with uv_async_send; addon.cc then drains the queue on the loop like the
// Linux ring.
#include <uv.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "../backend.h"
#include "batch_queue.h"
#include "device.h"
#include "pump.h"
#include "record_filter.h"
#include "service.h"

namespace kmon {
namespace win {
namespace {

using Mechanism = BackendOptions::Windows::Mechanism;

std::wstring Widen(const std::string& utf8) {
  if (utf8.empty()) return {};
  int n = MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
  std::wstring out(n, L'\0');
  MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), out.data(), n);
  return out;
}

bool DeviceMissing(DWORD code) { return code == ERROR_FILE_NOT_FOUND || code == ERROR_PATH_NOT_FOUND; }

// Opens \\.\KMon; if kmon.sys is not loaded and a .sys path was given, loads it first.
std::unique_ptr<Device> OpenDevice(const std::wstring& driver_path, std::unique_ptr<DriverService>* loaded) {
  try {
    return std::make_unique<Device>();
  } catch (const WinError& e) {
    if (!DeviceMissing(e.winerror) || driver_path.empty()) throw;
  }
  *loaded = DriverService::Load(driver_path);
  for (int attempt = 0;; attempt++) {  // the device appears once DriverEntry has run
    try {
      return std::make_unique<Device>();
    } catch (const WinError& e) {
      if (!DeviceMissing(e.winerror) || attempt >= 40) throw;
      Sleep(50);
    }
  }
}

// kmon.sys stamps ts_ns with the interrupt time (KeQueryInterruptTimePrecise,
// 100 ns units); user mode reads the same clock with
// QueryInterruptTimePrecise (Windows 10+, resolved at run time as the driver
// resolves its own), else from KUSER_SHARED_DATA, which every Windows maps at
// 0x7ffe0000 and the kernel keeps current (Wine too, which lacks the call).
// The wall clock: GetSystemTimePreciseAsFileTime (100 ns units since 1601).
using InterruptTimeFn = VOID(WINAPI*)(PULONGLONG);

InterruptTimeFn ResolveInterruptTime() {
  HMODULE kernel32 = GetModuleHandleW(L"kernel32.dll");
  FARPROC fn = kernel32 ? GetProcAddress(kernel32, "QueryInterruptTimePrecise") : nullptr;
  return fn ? reinterpret_cast<InterruptTimeFn>(reinterpret_cast<void (*)()>(fn)) : nullptr;  // through the generic type
}

// KUSER_SHARED_DATA.InterruptTime (a KSYSTEM_TIME at offset 8): the high
// part is written twice around the low part, so equal copies mean a whole read.
uint64_t SharedInterruptTime() {
  const volatile uint32_t* t = reinterpret_cast<const volatile uint32_t*>(0x7ffe0008);
  for (;;) {
    uint32_t high = t[1], low = t[0];
    if (high == t[2]) return (static_cast<uint64_t>(high) << 32) | low;
  }
}

constexpr int64_t kFileTimeToUnix100ns = 116444736000000000;  // 1601-01-01 to 1970-01-01

int64_t WallNs() {
  FILETIME ft;
  GetSystemTimePreciseAsFileTime(&ft);
  int64_t t = (static_cast<int64_t>(ft.dwHighDateTime) << 32) | ft.dwLowDateTime;
  return (t - kFileTimeToUnix100ns) * 100;
}

std::wstring RegistryString(const wchar_t* key, const wchar_t* value) {
  wchar_t text[128];
  DWORD bytes = sizeof(text);
  if (RegGetValueW(HKEY_LOCAL_MACHINE, key, value, RRF_RT_REG_SZ, nullptr, text, &bytes) != ERROR_SUCCESS) return L"";
  return text;
}

DWORD RegistryDword(const wchar_t* key, const wchar_t* value) {
  DWORD n = 0, bytes = sizeof(n);
  RegGetValueW(HKEY_LOCAL_MACHINE, key, value, RRF_RT_REG_DWORD, nullptr, &n, &bytes);
  return n;
}

std::string Narrow(const std::wstring& wide) {
  std::string out;
  for (wchar_t c : wide) out += c < 0x80 ? static_cast<char>(c) : '?';  // a GUID is ASCII
  return out;
}

// Windows has no boot id: the machine's GUID and its boot counter (which
// the kernel increments once per boot) name this boot of this machine. When
// the counter is missing (Wine), the boot time in seconds (wall clock minus
// interrupt time) stands in for it.
std::string BootId(int64_t boot_epoch_ns) {
  std::string machine = Narrow(RegistryString(L"SOFTWARE\\Microsoft\\Cryptography", L"MachineGuid"));
  DWORD boots = RegistryDword(L"SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Memory Management\\PrefetchParameters",
                              L"BootId");
  std::string boot = boots != 0 ? std::to_string(boots) : "t" + std::to_string(boot_epoch_ns / 1000000000);
  return machine + "-" + boot;
}

SessionClock SampleClock() {
  static const InterruptTimeFn precise = ResolveInterruptTime();
  auto interrupt_ns = [] {
    ULONGLONG t = 0;
    if (precise)
      precise(&t);
    else
      t = SharedInterruptTime();
    return static_cast<int64_t>(t) * 100;
  };
  int64_t offset = ClockOffset(interrupt_ns, WallNs);
  return {BootId(offset), offset};
}

// The loop's end of the queue. Freed in its close callback, so the backend
// may be destroyed while the handle is closing.
struct Waker {
  uv_async_t async;
  Backend::Notify notify;
  void* ctx;
};

class KmsysBackend final : public Backend {
 public:
  explicit KmsysBackend(const BackendOptions& options) : opts_(options), win_(options.windows) {}
  ~KmsysBackend() override { Close(); }

  // Open (or load) the device, check the driver, forget what waits in its
  // ring, snapshot its counters, make the pump (not yet running).
  void Init() {
    device_ = OpenDevice(Widen(win_.driver_path), &service_);
    CheckDriver();
    DWORD buffer = static_cast<DWORD>(
        std::min<uint64_t>(opts_.batch_bytes, std::max<uint64_t>(KMON_BATCH_MIN, ring_size_)));
    // A session sees what happens from its open on: records left in the ring are not its own.
    std::vector<uint8_t> discard(buffer);
    while (device_->Pull(discard.data(), buffer) != 0) {
    }
    // kmon.sys counts from its load; a session reports from its open, as a fresh Linux session does.
    base_ = device_->Stats();
    clock_ = SampleClock();
    queue_ = std::make_unique<BatchQueue>(win_.queue_batches, RecordFilter(opts_.kinds, opts_.self_tgid));
    pump_ = win_.mechanism == Mechanism::kInvertedCall
                ? MakeInvertedCallPump(*device_, *queue_, win_.pending_requests, buffer)
                : MakeEventPullPump(*device_, *queue_, buffer);
  }

  void Start(uv_loop_t* loop, Notify notify, void* ctx) override {
    waker_ = new Waker{{}, notify, ctx};
    waker_->async.data = waker_;
    if (int err = uv_async_init(loop, &waker_->async, OnAsync); err != 0) {
      delete waker_;  // a failed init leaves the handle outside the loop
      waker_ = nullptr;
      throw WinError("wait", ERROR_GEN_FAILURE, std::string("starting the wait: ") + uv_strerror(err));
    }
    queue_->Wake(&waker_->async);
    pump_->Start();
    if (opts_.synthetic) {
      kmon_synth_config synth{};
      synth.period_ms = win_.synth_period_ms;
      synth.records_per_tick = win_.synth_per_tick;
      synth.payload_len = win_.synth_payload;
      synth.count = win_.synth_count;
      device_->SynthStart(synth);
      synth_started_ = true;
    }
  }

  Drained Drain(uint8_t* dst, size_t cap) override {
    if (!queue_) return {0, false};
    return queue_->Take(dst, cap);
  }

  BackendStats Stats() override {
    BackendStats stats;
    if (!device_) return stats;
    kmon_cpu_stats now = device_->Stats();
    auto since_open = [](uint64_t n, uint64_t base) { return n >= base ? n - base : n; };
    kmon_cpu_stats c{};
    c.attempted = since_open(now.attempted, base_.attempted);
    // Drops of kinds the session did not ask for are not its losses (and leave no gap in its numbers).
    for (uint32_t k = 0; k < KMON_KIND_COUNT; ++k)
      if (opts_.kinds & (1u << k)) c.dropped[k] = since_open(now.dropped[k], base_.dropped[k]);
    c.truncated = since_open(now.truncated, base_.truncated);
    stats.cpus.push_back(c);  // kmon.sys counts per driver, not per CPU
    stats.binding_dropped = queue_->dropped();
    return stats;
  }

  SessionClock Clock() override { return clock_; }

  // kmon.sys has no file or network events, hence nothing to filter (the TS layer refuses first).
  void SetFilters(const Filters&) override {
    throw BackendError("filters", EOPNOTSUPP, "kmon.sys has no live filters");
  }

  // The pump thread never blocks on the queue (batch_queue.h): while the
  // session is paused (addon.cc ignores the queue's wakeups), records wait in
  // the queue, bounded, and past it are dropped and counted as binding drops.
  // Resume has addon.cc drain the queue.
  void Pause() override {}
  void Resume() override {}

  // kmon.sys records every process whatever we do: stop the synthetic
  // source and stop asking for more. What the queue holds stays drainable.
  void Detach() override {
    StopSynth();
    if (pump_) pump_->Detach();
  }

  // Stop the source, cancel (CancelIoEx) and join the pump, close the async
  // handle, close the device, unload the driver if this session loaded it.
  void Close() override {
    StopSynth();
    if (pump_) pump_->Stop();
    pump_.reset();
    if (waker_) uv_close(reinterpret_cast<uv_handle_t*>(&waker_->async), OnClosed);
    waker_ = nullptr;
    device_.reset();
    queue_.reset();  // queued batches are freed unseen
    if (service_) service_->Unload();
    service_.reset();
  }

 private:
  void CheckDriver() {
    kmon_info info = device_->Info();
    if (info.abi_version != KMON_ABI_VERSION || info.ioctl_version != KMON_IOCTL_VERSION)
      throw WinError("info", ERROR_REVISION_MISMATCH,
                     "kmon.sys speaks record ABI " + std::to_string(info.abi_version) + " / IOCTL " +
                         std::to_string(info.ioctl_version) + ", this addon " + std::to_string(KMON_ABI_VERSION) +
                         " / " + std::to_string(KMON_IOCTL_VERSION));
    bool inverted = win_.mechanism == Mechanism::kInvertedCall;
    if (!(info.mechanisms & (inverted ? KMON_MECH_PENDING : KMON_MECH_NAMED_EVENT)))
      throw WinError("mechanism", ERROR_NOT_SUPPORTED,
                     std::string("this kmon.sys does not offer the ") + (inverted ? "inverted-call" : "event-pull") +
                         " mechanism");
    if (opts_.synthetic && !(info.sources & KMON_SRC_SYNTH))
      throw WinError("synth", ERROR_NOT_SUPPORTED, "this kmon.sys has no synthetic source");
    ring_size_ = info.ring_size;
  }

  void StopSynth() noexcept {
    if (!synth_started_) return;
    synth_started_ = false;
    try {
      device_->SynthStop();
    } catch (const WinError&) {  // the driver is gone: nothing left to stop
    }
  }

  static void OnAsync(uv_async_t* async) {
    auto* w = static_cast<Waker*>(async->data);
    w->notify(w->ctx);
  }

  static void OnClosed(uv_handle_t* handle) { delete static_cast<Waker*>(handle->data); }

  BackendOptions opts_;
  BackendOptions::Windows win_;
  uint32_t ring_size_ = 0;
  kmon_cpu_stats base_{};  // the driver's counters when this session opened
  SessionClock clock_;
  // Destroyed in Close in this order: pump (uses device and queue), device, queue, service.
  std::unique_ptr<DriverService> service_;
  std::unique_ptr<Device> device_;
  std::unique_ptr<BatchQueue> queue_;
  std::unique_ptr<Pump> pump_;
  Waker* waker_ = nullptr;
  bool synth_started_ = false;
};

}  // namespace
}  // namespace win

std::unique_ptr<Backend> CreateBackend(const BackendOptions& options) {
  auto backend = std::make_unique<win::KmsysBackend>(options);
  backend->Init();  // on throw, the unique_ptr's destructor releases what was acquired
  return backend;
}

const char* BackendName() { return "windows-kmon.sys"; }

size_t RecordMax() { return KMON_WIN_RECORD_MAX; }

}  // namespace kmon
