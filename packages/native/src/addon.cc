// N-API surface of @kmon/native. JS constructs `new Session(config, onBatch)`;
// the platform backend (backend.h) wakes the session on the JS thread's loop,
// and the session drains whole records into one batch per JS call.
#include <napi.h>
#include <uv.h>

#include <cmath>
#include <cstring>
#include <string>

#include "backend.h"

namespace kmon {
namespace {

constexpr double kMaxSafeInteger = 9007199254740991.0;

double Number(const Napi::Object& config, const char* key) {
  Napi::Value v = config.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(config.Env(), std::string("config.") + key + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= kMaxSafeInteger))
    throw Napi::RangeError::New(config.Env(), std::string("config.") + key + " is out of range");
  return d;
}

uint64_t Integer(const Napi::Object& config, const char* key) {
  return static_cast<uint64_t>(Number(config, key));
}

// uv timers count whole milliseconds: round up so a deadline is never early.
uint64_t Millis(const Napi::Object& config, const char* key) {
  return std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(Number(config, key))));
}

Wakeup ParseWakeup(const Napi::Object& config) {
  std::string mode = config.Get("wakeup").ToString();
  if (mode == "each") return Wakeup::kEach;
  if (mode == "adaptive") return Wakeup::kAdaptive;
  if (mode == "poll") return Wakeup::kPoll;
  if (mode == "pull") return Wakeup::kPull;
  throw Napi::TypeError::New(config.Env(), "config.wakeup must be 'each', 'adaptive', 'poll' or 'pull'");
}

BackendOptions ParseOptions(const Napi::Object& config) {
  BackendOptions o;
  o.kinds = static_cast<uint32_t>(Integer(config, "kinds"));
  o.ring_bytes = Integer(config, "ringBytes");
  o.argv_bytes = static_cast<uint32_t>(std::min<uint64_t>(Integer(config, "argvBytes"), KMON_ARGV_MAX));
  o.self_tgid = static_cast<uint32_t>(Integer(config, "selfTgid"));
  o.threads = config.Get("threads").ToBoolean();
  o.wakeup = ParseWakeup(config);
  o.wakeup_bytes = Integer(config, "wakeupBytes");
  o.max_latency_ms = Millis(config, "maxLatencyMs");
  o.poll_interval_ms = Millis(config, "pollIntervalMs");
  o.synth_tgid = static_cast<uint32_t>(Integer(config, "synthTgid"));
  o.synthetic = o.synth_tgid != 0;
  o.synth_payload = static_cast<uint32_t>(std::min<uint64_t>(Integer(config, "synthPayload"), KMON_PAYLOAD_MAX));
  o.exit_fallback = config.Get("exitFallback").ToBoolean();
  return o;
}

std::string ErrnoName(int err) {
  if (err == 524) return "ENOTSUPP";  // kernel-internal, unknown to libuv
  char name[64];
  uv_err_name_r(-err, name, sizeof(name));
  return name;
}

// Carries what the TS layer needs to pick a KmonError: stage, errno, code, missing.
Napi::Error ToJsError(Napi::Env env, const BackendError& e) {
  Napi::Error error = Napi::Error::New(env, e.what());
  Napi::Object fields = error.Value();
  fields.Set("stage", e.stage);
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
                        InstanceMethod<&Session::Detach>("detach"), InstanceMethod<&Session::Close>("close")});
  }

  // new Session(config, onBatch, onError?, onReadable?): loads, attaches and
  // starts waiting. onError is the Windows backend's; onReadable is required
  // in pull mode, where batches are only ever handed out by read().
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
    uint64_t batch_bytes = Integer(config, "batchBytes");
    if (batch_bytes < KMON_RECORD_MAX) throw Napi::RangeError::New(env, "config.batchBytes is below KMON_RECORD_MAX");
    staging_.resize(batch_bytes);
    uv_loop_t* loop = nullptr;
    NAPI_THROW_IF_FAILED_VOID(env, napi_get_uv_event_loop(env, &loop));
    try {
      backend_ = CreateBackend(options);
      backend_->Start(loop, OnReady, this);
    } catch (const BackendError& e) {
      backend_.reset();
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
    return CopyBatch(info.Env(), backend_->Drain(staging_.data(), staging_.size()).bytes);
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

  void Detach(const Napi::CallbackInfo&) {
    if (backend_) backend_->Detach();
  }

  void Close(const Napi::CallbackInfo&) { Shutdown(); }

  // The backend says records may wait: hand them to JS, one call per batch,
  // until the ring is empty or the session was closed by the callback.
  static void OnReady(void* ctx) {
    auto* self = static_cast<Session*>(ctx);
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    Napi::Object keep_alive = self->Value();  // close() in the callback drops our own reference
    if (!self->on_readable_.IsEmpty()) return self->TellReadable(env, keep_alive);
    bool more = true;
    while (more && self->backend_) {
      Drained drained = self->backend_->Drain(self->staging_.data(), self->staging_.size());
      more = drained.more;
      if (drained.bytes != 0) self->Deliver(env, keep_alive, drained.bytes);
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

  Napi::Uint8Array CopyBatch(Napi::Env env, size_t bytes) {
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, bytes);
    if (bytes != 0) std::memcpy(buffer.Data(), staging_.data(), bytes);
    return Napi::Uint8Array::New(env, bytes, buffer, 0);
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
    on_readable_.Reset();
    if (referenced_) Unref();
    referenced_ = false;
  }

  void ReleaseNative() noexcept {
    if (backend_) backend_->Close();
    backend_.reset();
    if (hooked_) napi_remove_env_cleanup_hook(Env(), OnEnvExit, this);
    hooked_ = false;
  }

  std::unique_ptr<Backend> backend_;
  std::vector<uint8_t> staging_;  // Drain target, copied out per batch
  Napi::FunctionReference on_batch_;
  Napi::FunctionReference on_readable_;  // pull mode only
  bool readable_told_ = false;
  std::unique_ptr<Napi::AsyncContext> async_;
  bool hooked_ = false;
  bool referenced_ = false;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Session", Session::Define(env));
  exports.Set("backend", BackendName());
  exports.Set("abiVersion", KMON_ABI_VERSION);
  exports.Set("recordMax", static_cast<double>(KMON_RECORD_MAX));
  return exports;
}

}  // namespace
}  // namespace kmon

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return kmon::Init(env, exports); }

NODE_API_MODULE(kmon, InitModule)
