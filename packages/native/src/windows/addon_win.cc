// N-API surface of @kmon/native on Windows: the same `new Session(config,
// onBatch, onError?)` with read/stats/close, and the same exports, as
// src/addon.cc on Linux, over kmon.sys. Unlike Linux nothing here runs on
// the libuv loop: a pump thread waits on the driver (pump.h) and batches
// reach JS through a bounded thread-safe function (js_queue.h).
#include <napi.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "device.h"
#include "js_queue.h"
#include "pump.h"
#include "record_filter.h"
#include "service.h"

namespace kmon {
namespace win {
namespace {

constexpr double kMaxSafeInteger = 9007199254740991.0;

double Number(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("config.") + key + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= kMaxSafeInteger) || d != std::floor(d))
    throw Napi::RangeError::New(o.Env(), std::string("config.") + key + " is out of range");
  return d;
}

uint32_t U32(const Napi::Object& o, const char* key, uint32_t min, uint32_t max) {
  double d = Number(o, key);
  if (d < min || d > max) throw Napi::RangeError::New(o.Env(), std::string("config.") + key + " is out of range");
  return static_cast<uint32_t>(d);
}

enum class Mechanism { kInvertedCall, kEventPull };

struct Config {
  RecordFilter filter;
  uint32_t batch_bytes = 0;
  Mechanism mechanism = Mechanism::kInvertedCall;
  uint32_t pending_requests = 4;
  uint32_t queue_batches = 64;
  bool synthetic = false;
  kmon_synth_config synth{};
  std::wstring driver_path;  // kmon.sys to load when the device is missing; empty: never load
};

std::wstring Widen(const std::string& utf8) {
  if (utf8.empty()) return {};
  int n = MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
  std::wstring out(n, L'\0');
  MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), out.data(), n);
  return out;
}

Config ParseConfig(const Napi::Object& c) {
  Napi::Env env = c.Env();
  Config o;
  o.filter.kinds = U32(c, "kinds", 0, 0xffffffffu);
  o.filter.self_tgid = U32(c, "selfTgid", 0, 0xffffffffu);
  o.batch_bytes = U32(c, "batchBytes", KMON_BATCH_MIN, 64u << 20);
  std::string mechanism = c.Get("mechanism").ToString();
  if (mechanism == "inverted-call")
    o.mechanism = Mechanism::kInvertedCall;
  else if (mechanism == "event-pull")
    o.mechanism = Mechanism::kEventPull;
  else
    throw Napi::TypeError::New(env, "config.mechanism must be 'inverted-call' or 'event-pull'");
  o.pending_requests = U32(c, "pendingRequests", 1, 64);
  o.queue_batches = U32(c, "queueBatches", 1, 1024);
  Napi::Value synth = c.Get("synthetic");
  if (synth.IsObject()) {
    Napi::Object s = synth.As<Napi::Object>();
    o.synthetic = true;
    o.synth.period_ms = U32(s, "periodMs", 1, KMON_SYNTH_PERIOD_MAX_MS);
    o.synth.records_per_tick = U32(s, "perTick", 1, KMON_SYNTH_BURST_MAX);
    o.synth.payload_len = U32(s, "payloadBytes", 0, KMON_PAYLOAD_MAX);
    o.synth.count = static_cast<uint64_t>(Number(s, "count"));
  }
  Napi::Value path = c.Get("driverPath");
  if (path.IsString()) o.driver_path = Widen(path.As<Napi::String>().Utf8Value());
  return o;
}

Napi::Error ToJsError(Napi::Env env, const WinError& e) {
  Napi::Error error = Napi::Error::New(env, e.what());
  Napi::Object fields = error.Value();
  fields.Set("stage", e.stage);
  fields.Set("winerror", static_cast<double>(e.code));
  fields.Set("code", ErrorName(e.code));
  return error;
}

Napi::Error ClosedError(Napi::Env env) {
  Napi::Error error = Napi::Error::New(env, "the kmon session is closed");
  error.Value().Set("code", "KMON_CLOSED");
  return error;
}

bool DeviceMissing(DWORD code) { return code == ERROR_FILE_NOT_FOUND || code == ERROR_PATH_NOT_FOUND; }

// Opens \\.\KMon; if kmon.sys is not loaded and a .sys path was given, loads it first.
std::unique_ptr<Device> OpenDevice(const Config& config, std::unique_ptr<DriverService>* loaded) {
  try {
    return std::make_unique<Device>();
  } catch (const WinError& e) {
    if (!DeviceMissing(e.code) || config.driver_path.empty()) throw;
  }
  *loaded = DriverService::Load(config.driver_path);
  for (int attempt = 0;; attempt++) {  // the device appears once DriverEntry has run
    try {
      return std::make_unique<Device>();
    } catch (const WinError& e) {
      if (!DeviceMissing(e.code) || attempt >= 40) throw;
      Sleep(50);
    }
  }
}

class Session : public Napi::ObjectWrap<Session> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Session",
                       {InstanceMethod<&Session::Read>("read"), InstanceMethod<&Session::Stats>("stats"),
                        InstanceMethod<&Session::Close>("close")});
  }

  // new Session(config, onBatch, onError?): opens kmon.sys, starts the pump, then the synthetic source.
  explicit Session(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Session>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction())
      throw Napi::TypeError::New(env, "new Session(config, onBatch, onError?)");
    Config config = ParseConfig(info[0].As<Napi::Object>());
    filter_ = config.filter;
    staging_.resize(config.batch_bytes);
    try {
      device_ = OpenDevice(config, &service_);
      CheckDriver(config);
      // A session sees what happens from its open on: records left in the ring are not its own.
      while (device_->Pull(staging_.data(), static_cast<DWORD>(staging_.size())) != 0) {
      }
      // kmon.sys counts from its load; a session reports from its open, as a fresh Linux session does.
      base_ = device_->Stats();
      queue_ = std::make_unique<JsQueue>(env, info[1], info.Length() > 2 ? info[2] : env.Undefined(),
                                         config.queue_batches, filter_);
      DWORD buffer = std::min<DWORD>(config.batch_bytes, std::max<DWORD>(KMON_BATCH_MIN, ring_size_));
      pump_ = config.mechanism == Mechanism::kInvertedCall
                  ? MakeInvertedCallPump(*device_, *queue_, config.pending_requests, buffer)
                  : MakeEventPullPump(*device_, *queue_, buffer);
      pump_->Start();
      if (config.synthetic) {
        device_->SynthStart(config.synth);
        synth_started_ = true;
      }
    } catch (const WinError& e) {
      Shutdown();
      throw ToJsError(env, e);
    } catch (const std::runtime_error& e) {
      Shutdown();
      throw Napi::Error::New(env, e.what());
    }
    // After the tsfn exists: hooks run in reverse, so ours stops the pump before the tsfn is torn down.
    NAPI_THROW_IF_FAILED_VOID(env, napi_add_env_cleanup_hook(env, OnEnvExit, this));
    hooked_ = true;
    Ref();  // an open session stays alive, like a socket, until close()
    referenced_ = true;
  }

  ~Session() override { Shutdown(); }

 private:
  void CheckDriver(const Config& config) {
    kmon_info info = device_->Info();
    if (info.abi_version != KMON_ABI_VERSION || info.ioctl_version != KMON_IOCTL_VERSION)
      throw WinError("info", ERROR_REVISION_MISMATCH,
                     "kmon.sys speaks record ABI " + std::to_string(info.abi_version) + " / IOCTL " +
                         std::to_string(info.ioctl_version) + ", this addon " + std::to_string(KMON_ABI_VERSION) +
                         " / " + std::to_string(KMON_IOCTL_VERSION));
    uint32_t need = config.mechanism == Mechanism::kInvertedCall ? KMON_MECH_PENDING : KMON_MECH_NAMED_EVENT;
    if (!(info.mechanisms & need))
      throw WinError("mechanism", ERROR_NOT_SUPPORTED,
                     std::string("this kmon.sys does not offer the ") +
                         (config.mechanism == Mechanism::kInvertedCall ? "inverted-call" : "event-pull") +
                         " mechanism");
    if (config.synthetic && !(info.sources & KMON_SRC_SYNTH))
      throw WinError("synth", ERROR_NOT_SUPPORTED, "this kmon.sys has no synthetic source");
    ring_size_ = info.ring_size;
  }

  // Pull model: one batch of whatever waits now (empty if nothing does).
  Napi::Value Read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!device_) throw ClosedError(env);
    DWORD n = 0;
    try {
      n = device_->Pull(staging_.data(), static_cast<DWORD>(staging_.size()));
    } catch (const WinError& e) {
      throw ToJsError(env, e);
    }
    uint32_t records = 0;
    std::vector<uint8_t> kept(n);
    size_t len = filter_.Apply(staging_.data(), n, kept.data(), &records);
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, len);
    if (len) std::memcpy(buffer.Data(), kept.data(), len);
    return Napi::Uint8Array::New(env, len, buffer, 0);
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!device_) throw ClosedError(env);
    kmon_cpu_stats c;
    try {
      c = device_->Stats();
    } catch (const WinError& e) {
      throw ToJsError(env, e);
    }
    auto since_open = [](uint64_t now, uint64_t base) { return static_cast<double>(now >= base ? now - base : now); };
    Napi::Array dropped = Napi::Array::New(env, KMON_KIND_COUNT);
    for (uint32_t k = 0; k < KMON_KIND_COUNT; ++k) dropped.Set(k, since_open(c.dropped[k], base_.dropped[k]));
    Napi::Object cpu = Napi::Object::New(env);
    cpu.Set("attempted", since_open(c.attempted, base_.attempted));
    cpu.Set("dropped", dropped);
    cpu.Set("truncated", since_open(c.truncated, base_.truncated));
    Napi::Array cpus = Napi::Array::New(env, 1);
    cpus.Set(0u, cpu);
    Napi::Object out = Napi::Object::New(env);
    out.Set("cpus", cpus);
    out.Set("bindingDropped", static_cast<double>(queue_ ? queue_->dropped() : 0));
    return out;
  }

  void Close(const Napi::CallbackInfo&) { Shutdown(); }

  static void OnEnvExit(void* ctx) {
    auto* self = static_cast<Session*>(ctx);
    self->hooked_ = false;  // the hook is being run: nothing to remove
    self->Shutdown();
  }

  // Stop the source, cancel and join the pump, close the handle, release the
  // tsfn, unload the driver if this session loaded it. Never throws.
  void Shutdown() {
    if (synth_started_) {
      try {
        device_->SynthStop();
      } catch (const WinError&) {
      }
      synth_started_ = false;
    }
    if (pump_) pump_->Stop();
    pump_.reset();
    device_.reset();
    if (queue_) queue_->Close();
    queue_.reset();
    if (service_) service_->Unload();
    service_.reset();
    if (hooked_) napi_remove_env_cleanup_hook(Env(), OnEnvExit, this);
    hooked_ = false;
    if (referenced_) Unref();
    referenced_ = false;
  }

  RecordFilter filter_;
  std::vector<uint8_t> staging_;  // read() target
  uint32_t ring_size_ = 0;
  kmon_cpu_stats base_{};  // the driver's counters when this session opened
  std::unique_ptr<DriverService> service_;
  std::unique_ptr<Device> device_;
  std::unique_ptr<JsQueue> queue_;
  std::unique_ptr<Pump> pump_;
  bool synth_started_ = false;
  bool hooked_ = false;
  bool referenced_ = false;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Session", Session::Define(env));
  exports.Set("backend", "windows-kmon.sys");
  exports.Set("abiVersion", KMON_ABI_VERSION);
  exports.Set("recordMax", static_cast<double>(KMON_WIN_RECORD_MAX));
  return exports;
}

}  // namespace
}  // namespace win
}  // namespace kmon

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return kmon::win::Init(env, exports); }

NODE_API_MODULE(kmon, InitModule)
