// N-API surface of @kmon/native, on Linux and Windows alike. JS constructs
// `new Session(config, onBatch, onError?, onReadable?)`; the platform backend
// (backend.h) wakes the session on the JS thread's loop, and the session
// drains whole records into one batch per JS call.
#include <napi.h>
#include <uv.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "backend.h"
#ifdef _WIN32
#include "kmon_ioctl.h"
#endif

namespace kmon {
namespace {

constexpr double kMaxSafeInteger = 9007199254740991.0;
constexpr uint64_t kU32Max = 0xffffffffu;

// Config parsing. @kmon/core has validated the options already: anything
// here that is not what it should be is a bug above, so it is rejected
// (TypeError, RangeError), never truncated or clamped.
Napi::RangeError OutOfRange(const Napi::Object& config, const char* key) {
  return Napi::RangeError::New(config.Env(), std::string("config.") + key + " is out of range");
}

double Number(const Napi::Object& config, const char* key, double min, double max) {
  Napi::Value v = config.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(config.Env(), std::string("config.") + key + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= min && d <= max)) throw OutOfRange(config, key);  // NaN too
  return d;
}

// A whole number in [min, max] (max at most 2^53 - 1).
uint64_t Integer(const Napi::Object& config, const char* key, uint64_t min, uint64_t max) {
  double d = Number(config, key, static_cast<double>(min), std::min(static_cast<double>(max), kMaxSafeInteger));
  if (d != std::floor(d)) throw Napi::RangeError::New(config.Env(), std::string("config.") + key + " must be an integer");
  return static_cast<uint64_t>(d);
}

uint32_t U32(const Napi::Object& config, const char* key, uint32_t min = 0, uint32_t max = kU32Max) {
  return static_cast<uint32_t>(Integer(config, key, min, max));
}

// A positive number of milliseconds, at most `max`. uv timers count whole
// milliseconds: round up so a deadline is never early.
[[maybe_unused]] uint64_t Millis(const Napi::Object& config, const char* key, double max) {
  double d = Number(config, key, 0, max);
  if (d == 0) throw OutOfRange(config, key);
  return static_cast<uint64_t>(std::ceil(d));
}

[[maybe_unused]] bool Bool(const Napi::Object& config, const char* key, bool optional = false) {
  Napi::Value v = config.Get(key);
  if (optional && v.IsUndefined()) return false;
  if (!v.IsBoolean()) throw Napi::TypeError::New(config.Env(), std::string("config.") + key + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::string String(const Napi::Object& config, const char* key) {
  Napi::Value v = config.Get(key);
  if (!v.IsString()) throw Napi::TypeError::New(config.Env(), std::string("config.") + key + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

Wakeup ParseWakeup(const Napi::Object& config) {
  std::string mode = String(config, "wakeup");
  if (mode == "each") return Wakeup::kEach;
  if (mode == "adaptive") return Wakeup::kAdaptive;
  if (mode == "poll") return Wakeup::kPoll;
  if (mode == "pull") return Wakeup::kPull;
  throw Napi::TypeError::New(config.Env(), "config.wakeup must be 'each', 'adaptive', 'poll' or 'pull'");
}

Napi::Array Array(const Napi::Object& object, const char* key) {
  Napi::Value v = object.Get(key);
  if (!v.IsArray()) throw Napi::TypeError::New(object.Env(), std::string("filters.") + key + " must be an array");
  return v.As<Napi::Array>();
}

std::vector<Filters::Network::Prefix> Prefixes(const Napi::Object& network, const char* key) {
  std::vector<Filters::Network::Prefix> out;
  Napi::Array array = Array(network, key);
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value item = array.Get(i);
    if (!item.IsObject()) throw Napi::TypeError::New(network.Env(), std::string("filters.") + key + " must hold prefixes");
    Napi::Object prefix = item.As<Napi::Object>();
    Napi::Array bytes = Array(prefix, "bytes");
    if (bytes.Length() != 4 && bytes.Length() != 16) throw OutOfRange(prefix, "bytes");
    Filters::Network::Prefix p;
    for (uint32_t b = 0; b < bytes.Length(); ++b) p.addr.push_back(static_cast<uint8_t>(U32(bytes, std::to_string(b).c_str(), 0, 255)));
    p.length = U32(prefix, "prefixLength", 0, bytes.Length() * 8);
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<std::string> Strings(const Napi::Object& object, const char* key) {
  std::vector<std::string> out;
  Napi::Array array = Array(object, key);
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value item = array.Get(i);
    if (!item.IsString()) throw Napi::TypeError::New(object.Env(), std::string("filters.") + key + " must hold strings");
    out.push_back(item.As<Napi::String>().Utf8Value());
  }
  return out;
}

std::vector<uint16_t> Ports(const Napi::Object& network, const char* key) {
  std::vector<uint16_t> out;
  Napi::Array array = Array(network, key);
  for (uint32_t i = 0; i < array.Length(); ++i) out.push_back(static_cast<uint16_t>(U32(array, std::to_string(i).c_str(), 0, 65535)));
  return out;
}

std::vector<uint32_t> U32List(const Napi::Object& object, const char* key) {
  std::vector<uint32_t> out;
  Napi::Array array = Array(object, key);
  for (uint32_t i = 0; i < array.Length(); ++i) out.push_back(U32(array, std::to_string(i).c_str()));
  return out;
}

// filters.process (toNativeFilters in src/index.ts): cgroup ids arrive as bigints.
Filters::Process ParseProcessFilter(const Napi::Object& filter) {
  Filters::Process f;
  f.pids = U32List(filter, "pids");
  f.children = Bool(filter, "children");
  f.uids = U32List(filter, "uids");
  Napi::Array cgroups = Array(filter, "cgroups");
  Napi::Array comms = Array(filter, "comms");
  for (uint32_t i = 0; i < cgroups.Length(); ++i) {
    Napi::Value id = cgroups.Get(i);
    bool lossless = false;
    if (!id.IsBigInt()) throw Napi::TypeError::New(filter.Env(), "filters.process.cgroups must hold bigints");
    f.cgroups.push_back(id.As<Napi::BigInt>().Uint64Value(&lossless));
    if (!lossless) throw Napi::RangeError::New(filter.Env(), "filters.process.cgroups: a cgroup id is out of range");
  }
  for (uint32_t i = 0; i < comms.Length(); ++i) {
    Napi::Value comm = comms.Get(i);
    if (!comm.IsString()) throw Napi::TypeError::New(filter.Env(), "filters.process.comms must hold strings");
    f.comms.push_back(comm.As<Napi::String>().Utf8Value());
  }
  return f;
}

// toNativeFilters in src/index.ts: prefixes already parsed by @kmon/core.
// toNativeFilters in src/index.ts: prefixes already parsed and normalised by @kmon/core.
Filters ParseFilters(const Napi::Value& value) {
  if (!value.IsObject()) throw Napi::TypeError::New(value.Env(), "filters must be an object");
  Napi::Value network = value.As<Napi::Object>().Get("network");
  if (!network.IsObject()) throw Napi::TypeError::New(value.Env(), "filters.network must be an object");
  Napi::Object n = network.As<Napi::Object>();
  Filters out;
  out.network.drop_loopback = !Bool(n, "loopback");
  out.network.include = Prefixes(n, "include");
  out.network.exclude = Prefixes(n, "exclude");
  out.network.ports = Ports(n, "ports");
  out.network.exclude_ports = Ports(n, "excludePorts");
  Napi::Value process = value.As<Napi::Object>().Get("process");
  if (!process.IsUndefined()) {
    if (!process.IsObject()) throw Napi::TypeError::New(value.Env(), "filters.process must be an object");
    out.process = ParseProcessFilter(process.As<Napi::Object>());
  }
  Napi::Value file = value.As<Napi::Object>().Get("file");
  if (!file.IsObject()) throw Napi::TypeError::New(value.Env(), "filters.file must be an object");
  Napi::Object f = file.As<Napi::Object>();
  out.file.failed = Bool(f, "failed");
  out.file.writes_only = Bool(f, "writesOnly");
  out.file.include = Strings(f, "include");
  out.file.exclude = Strings(f, "exclude");
  return out;
}

#ifdef _WIN32
// src/windows/options.ts: what kmon.sys needs. The wakeup mode only matters
// to addon.cc there ('pull' or not): the pump thread wakes the loop per batch
// it queues.
void ParsePlatform(const Napi::Object& config, BackendOptions* o) {
  using Mechanism = BackendOptions::Windows::Mechanism;
  BackendOptions::Windows& w = o->windows;
  std::string mechanism = String(config, "mechanism");
  if (mechanism == "inverted-call")
    w.mechanism = Mechanism::kInvertedCall;
  else if (mechanism == "event-pull")
    w.mechanism = Mechanism::kEventPull;
  else
    throw Napi::TypeError::New(config.Env(), "config.mechanism must be 'inverted-call' or 'event-pull'");
  w.pending_requests = U32(config, "pendingRequests", 1, 64);
  w.queue_batches = U32(config, "queueBatches", 1, 1024);
  Napi::Value synth = config.Get("synthetic");
  if (!synth.IsNull()) {
    if (!synth.IsObject()) throw Napi::TypeError::New(config.Env(), "config.synthetic must be an object or null");
    Napi::Object s = synth.As<Napi::Object>();
    w.synthetic = true;
    w.synth_period_ms = U32(s, "periodMs", 1, KMON_SYNTH_PERIOD_MAX_MS);
    w.synth_per_tick = U32(s, "perTick", 1, KMON_SYNTH_BURST_MAX);
    w.synth_payload = U32(s, "payloadBytes", 0, KMON_PAYLOAD_MAX);
    w.synth_count = Integer(s, "count", 0, UINT64_MAX);
    o->synthetic = true;
  }
  w.driver_path = String(config, "driverPath");
}
#else
// toNativeConfig in src/index.ts: the eBPF programs' configuration.
void ParsePlatform(const Napi::Object& config, BackendOptions* o) {
  o->ring_bytes = Integer(config, "ringBytes", 0, kU32Max);  // 0 reaches the kernel, which refuses it (tests)
  o->argv_bytes = U32(config, "argvBytes", 0, KMON_ARGV_MAX);
  o->threads = Bool(config, "threads");
  o->wakeup_bytes = Integer(config, "wakeupBytes", 1, UINT64_MAX);
  o->max_latency_ms = Millis(config, "maxLatencyMs", 10000);
  o->poll_interval_ms = Millis(config, "pollIntervalMs", 10000);
  o->synth_tgid = U32(config, "synthTgid");
  o->synthetic = o->synth_tgid != 0;
  o->synth_payload = U32(config, "synthPayload", 0, KMON_PAYLOAD_MAX);
  o->exit_fallback = Bool(config, "exitFallback", true);
  o->syscall_fallback = Bool(config, "syscallFallback", true);
  o->snapshot_fallback = Bool(config, "snapshotFallback", true);
  if (!config.Get("filters").IsUndefined()) o->filters = ParseFilters(config.Get("filters"));  // else none
}
#endif

BackendOptions ParseOptions(const Napi::Object& config) {
  BackendOptions o;
  o.kinds = U32(config, "kinds");
  o.self_tgid = U32(config, "selfTgid");
  o.batch_bytes = Integer(config, "batchBytes", RecordMax(), 64u << 20);
  o.wakeup = ParseWakeup(config);
  ParsePlatform(config, &o);
  return o;
}

std::string ErrnoName(int err) {
  if (err == 524) return "ENOTSUPP";  // kernel-internal, unknown to libuv
  char name[64];
  uv_err_name_r(-err, name, sizeof(name));
  return name;
}

// Carries what the TS layer needs to pick a KmonError: stage, then errno,
// code and missing (Linux) or winerror and code (Windows).
Napi::Error ToJsError(Napi::Env env, const BackendError& e) {
  Napi::Error error = Napi::Error::New(env, e.what());
  Napi::Object fields = error.Value();
  fields.Set("stage", e.stage);
  if (e.win32) {
    fields.Set("winerror", static_cast<double>(e.winerror));
    fields.Set("code", e.code_name);
    return error;
  }
  fields.Set("errno", e.err);
  fields.Set("code", ErrnoName(e.err));
  if (!e.missing.empty()) fields.Set("missing", e.missing);
  return error;
}

Napi::Error ClosedError(Napi::Env env) {
  Napi::Error error = Napi::Error::New(env, "the kmon session is closed");
  error.Value().Set("code", "KMON_CLOSED");
  return error;
}

class Session : public Napi::ObjectWrap<Session> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Session",
                       {InstanceMethod<&Session::Read>("read"), InstanceMethod<&Session::Stats>("stats"),
                        InstanceMethod<&Session::Clock>("clock"),
                        InstanceMethod<&Session::SetFilters>("setFilters"),
                        InstanceMethod<&Session::Pause>("pause"), InstanceMethod<&Session::Resume>("resume"),
                        InstanceMethod<&Session::Detach>("detach"), InstanceMethod<&Session::Close>("close")});
  }

  // new Session(config, onBatch, onError?, onReadable?): loads, attaches and
  // starts waiting. onError gets a failure of the driver after open (the
  // Windows pump thread's; Linux reports none); onReadable is required in
  // pull mode, where batches are only ever handed out by read().
  explicit Session(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Session>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction())
      throw Napi::TypeError::New(env, "new Session(config, onBatch, onError?, onReadable?)");
    Napi::Object config = info[0].As<Napi::Object>();
    BackendOptions options = ParseOptions(config);
    if (options.wakeup == Wakeup::kPull) {
      if (info.Length() < 4 || !info[3].IsFunction())
        throw Napi::TypeError::New(env, "pull mode needs onReadable: new Session(config, onBatch, onError, onReadable)");
      on_readable_ = Napi::Persistent(info[3].As<Napi::Function>());
    }
    if (info.Length() >= 3 && info[2].IsFunction()) on_error_ = Napi::Persistent(info[2].As<Napi::Function>());
    staging_.resize(options.batch_bytes);
    uv_loop_t* loop = nullptr;
    NAPI_THROW_IF_FAILED_VOID(env, napi_get_uv_event_loop(env, &loop));
    try {
      backend_ = CreateBackend(options);
      backend_->Start(loop, OnReady, this);
      StartResume(loop);
      if (backend_->Pending()) uv_async_send(resume_);  // handed over as the session's first batch(es)
    } catch (const BackendError& e) {
      backend_.reset();
      on_error_.Reset();
      on_readable_.Reset();
      throw ToJsError(env, e);
    }
    on_batch_ = Napi::Persistent(info[1].As<Napi::Function>());
    async_ = std::make_unique<Napi::AsyncContext>(env, "kmon:batch", info.This().As<Napi::Object>());
    NAPI_THROW_IF_FAILED_VOID(env, napi_add_env_cleanup_hook(env, OnEnvExit, this));
    hooked_ = true;
    Ref();  // an open session stays alive, like a socket, until close()
    referenced_ = true;
  }

  // Reached only once JS can no longer see the session: closed, or at
  // environment teardown after OnEnvExit. Releases native state only (no
  // N-API reference calls, which could throw here).
  ~Session() override { ReleaseNative(); }

 private:
  // Pull model: one batch of whatever waits now (empty if nothing does).
  Napi::Value Read(const Napi::CallbackInfo& info) {
    if (!backend_) throw ClosedError(info.Env());
    readable_told_ = false;  // the next kernel wakeup is news again
    try {
      return CopyBatch(info.Env(), backend_->Drain(staging_.data(), staging_.size()).bytes);
    } catch (const BackendError& e) {
      throw ToJsError(info.Env(), e);
    }
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!backend_) throw ClosedError(env);
    BackendStats stats;
    try {
      stats = backend_->Stats();
    } catch (const BackendError& e) {
      throw ToJsError(env, e);
    }
    Napi::Array cpus = Napi::Array::New(env, stats.cpus.size());
    for (size_t i = 0; i < stats.cpus.size(); ++i) cpus.Set(i, CpuObject(env, stats.cpus[i]));
    Napi::Object out = Napi::Object::New(env);
    out.Set("cpus", cpus);
    out.Set("bindingDropped", static_cast<double>(stats.binding_dropped));
    if (stats.ring_size > 0) {
      Napi::Object ring = Napi::Object::New(env);
      ring.Set("usedBytes", static_cast<double>(stats.ring_used));
      ring.Set("sizeBytes", static_cast<double>(stats.ring_size));
      out.Set("ring", ring);
    }
    return out;
  }

  Napi::Value Clock(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!backend_) throw ClosedError(env);
    SessionClock clock = backend_->Clock();
    Napi::Object out = Napi::Object::New(env);
    out.Set("bootId", clock.boot_id);
    out.Set("realtimeOffsetNs", Napi::BigInt::New(env, clock.realtime_offset_ns));
    return out;
  }

  static Napi::Object CpuObject(Napi::Env env, const kmon_cpu_stats& c) {
    Napi::Array dropped = Napi::Array::New(env, KMON_KIND_COUNT);
    for (uint32_t k = 0; k < KMON_KIND_COUNT; ++k) dropped.Set(k, static_cast<double>(c.dropped[k]));
    Napi::Object cpu = Napi::Object::New(env);
    cpu.Set("attempted", static_cast<double>(c.attempted));
    cpu.Set("dropped", dropped);
    cpu.Set("truncated", static_cast<double>(c.truncated));
    return cpu;
  }

  void SetFilters(const Napi::CallbackInfo& info) {
    if (!backend_) throw ClosedError(info.Env());
    Filters filters = ParseFilters(info[0]);
    try {
      backend_->SetFilters(filters);
    } catch (const BackendError& e) {
      throw ToJsError(info.Env(), e);
    }
  }

  // Backpressure: no batch (nor readable notice) is handed to JS while
  // paused; the backend stops waking us, records wait in the driver.
  void Pause(const Napi::CallbackInfo& info) {
    if (!backend_ || paused_) return;
    paused_ = true;
    try {
      backend_->Pause();
    } catch (const BackendError& e) {
      throw ToJsError(info.Env(), e);
    }
  }

  // The driver will not necessarily wake us for what waited (a full ring
  // takes no more records, so it sends no wakeups): drain from the loop now.
  void Resume(const Napi::CallbackInfo& info) {
    if (!backend_ || !paused_) return;
    paused_ = false;
    try {
      backend_->Resume();
    } catch (const BackendError& e) {
      throw ToJsError(info.Env(), e);
    }
    if (resume_) uv_async_send(resume_);
  }

  void Detach(const Napi::CallbackInfo&) {
    if (backend_) backend_->Detach();
  }

  void Close(const Napi::CallbackInfo&) { Shutdown(); }

  // The backend says records may wait: hand them to JS, one call per batch,
  // until the ring is empty or the session was closed by the callback.
  //
  // At most kBatchesPerTurn batches per call: a ring that never empties must
  // not starve the loop (timers, I/O, signals such as Ctrl-C). When records
  // are left we resume from the loop's next poll phase, after its timers (an
  // async handle: a zero-delay timer re-armed in its own callback would run
  // again in the same timer phase); the kernel may not wake us again for them.
  static constexpr int kBatchesPerTurn = 8;

  static void OnReady(void* ctx) {
    auto* self = static_cast<Session*>(ctx);
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    Napi::Object keep_alive = self->Value();  // close() in the callback drops our own reference
    if (self->paused_) return;  // a wakeup (or resume) queued before pause(): Resume drains
    if (!self->on_readable_.IsEmpty()) return self->TellReadable(env, keep_alive);
    // pause() in a batch's callback ends the drain after that batch.
    for (int turn = 0; turn < kBatchesPerTurn && self->backend_ && !self->paused_; ++turn) {
      Drained drained{0, false};
      try {
        drained = self->backend_->Drain(self->staging_.data(), self->staging_.size());
      } catch (const BackendError& e) {
        return self->Fail(env, keep_alive, ToJsError(env, e));
      }
      if (drained.bytes != 0) {
        Napi::HandleScope batch_scope(env);  // a delivered batch must not outlive its turn
        self->Deliver(env, keep_alive, drained.bytes);
      }
      if (!drained.more) return;
    }
    if (self->resume_ && !self->paused_) uv_async_send(self->resume_);
  }

  static void OnResume(uv_async_t* async) {
    if (async->data) OnReady(async->data);
  }

  // Unreferenced: the backend's own handles are what keep the loop alive.
  void StartResume(uv_loop_t* loop) {
    resume_ = new uv_async_t;
    if (int err = uv_async_init(loop, resume_, OnResume); err != 0) {
      delete resume_;
      resume_ = nullptr;
      throw BackendError("wait", -err, std::string("starting the drain: ") + uv_strerror(err));
    }
    resume_->data = this;
    uv_unref(reinterpret_cast<uv_handle_t*>(resume_));
  }

  // The driver failed after open: onError decides (the TS layer closes the
  // session and errors the sink). Without onError the failure is an
  // 'uncaughtException'. Either way, said once: later wakeups find nothing.
  void Fail(Napi::Env env, Napi::Object recv, Napi::Error error) {
    if (on_error_.IsEmpty()) {
      napi_fatal_exception(env, error.Value());
      return;
    }
    try {
      on_error_.MakeCallback(recv, {error.Value()}, *async_);
    } catch (const Napi::Error& e) {
      napi_fatal_exception(env, e.Value());
    }
  }

  // We are called from the loop, not from JS: no caller could catch a throw,
  // and a C++ exception leaving a uv callback would abort the process. The
  // TS layer's onBatch never throws (it routes a sink's exception to
  // sink.onError and closes the session); if it throws anyway, the error
  // becomes an 'uncaughtException', as for any callback Node calls from its
  // loop: never swallowed, never a crash of the addon, and the session goes on.
  void Deliver(Napi::Env env, Napi::Object recv, size_t bytes) {
    try {
      on_batch_.MakeCallback(recv, {CopyBatch(env, bytes)}, *async_);
    } catch (const Napi::Error& e) {
      napi_fatal_exception(env, e.Value());
    }
  }

  // Pull mode: one notice per read() at most, however many wakeups come between.
  void TellReadable(Napi::Env env, Napi::Object recv) {
    if (readable_told_) return;
    readable_told_ = true;
    try {
      on_readable_.MakeCallback(recv, {}, *async_);
    } catch (const Napi::Error& e) {
      napi_fatal_exception(env, e.Value());
    }
  }

  // A Buffer copied from the staging area: ArrayBuffer::New zero-fills what
  // the copy then overwrites (a memset of every batch showed in profiles).
  Napi::Buffer<uint8_t> CopyBatch(Napi::Env env, size_t bytes) {
    return Napi::Buffer<uint8_t>::Copy(env, staging_.data(), bytes);
  }

  // Process exit or worker termination with the session still open.
  static void OnEnvExit(void* ctx) {
    auto* self = static_cast<Session*>(ctx);
    self->hooked_ = false;  // the hook is being run: nothing to remove
    self->Shutdown();
  }

  void Shutdown() {
    if (!backend_) return;
    ReleaseNative();
    on_batch_.Reset();
    on_error_.Reset();
    on_readable_.Reset();
    if (referenced_) Unref();
    referenced_ = false;
  }

  void ReleaseNative() noexcept {
    if (resume_) {
      resume_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(resume_), [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
      resume_ = nullptr;
    }
    if (backend_) backend_->Close();
    backend_.reset();
    if (hooked_) napi_remove_env_cleanup_hook(Env(), OnEnvExit, this);
    hooked_ = false;
  }

  std::unique_ptr<Backend> backend_;
  uv_async_t* resume_ = nullptr;  // resumes a drain cut short by kBatchesPerTurn
  std::vector<uint8_t> staging_;  // Drain target, copied out per batch
  Napi::FunctionReference on_batch_;
  Napi::FunctionReference on_error_;     // optional
  Napi::FunctionReference on_readable_;  // pull mode only
  bool readable_told_ = false;
  bool paused_ = false;
  std::unique_ptr<Napi::AsyncContext> async_;
  bool hooked_ = false;
  bool referenced_ = false;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Session", Session::Define(env));
  exports.Set("backend", BackendName());
  exports.Set("abiVersion", KMON_ABI_VERSION);
  exports.Set("recordMax", static_cast<double>(RecordMax()));
  return exports;
}

}  // namespace
}  // namespace kmon

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return kmon::Init(env, exports); }

NODE_API_MODULE(kmon, InitModule)
