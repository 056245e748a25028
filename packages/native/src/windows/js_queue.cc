#include "js_queue.h"

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

namespace kmon {
namespace win {

struct JsQueue::Item {
  uint8_t* data = nullptr;  // malloc'd, handed to JS as an external ArrayBuffer
  size_t len = 0;
  bool is_error = false;
  std::string stage, message;
  DWORD code = 0;
  ~Item() { std::free(data); }
};

struct JsQueue::Shared {
  std::atomic<bool> closed{false};
  std::atomic<uint64_t> dropped{0};
  napi_ref on_error = nullptr;
  std::mutex lock;
  Item* pending_error = nullptr;  // a failure that found the queue full
};

namespace {

void FreeExternal(napi_env, void* data, void*) { std::free(data); }

napi_value MakeError(napi_env env, const std::string& stage, DWORD code, const std::string& message) {
  napi_value msg, error, value;
  napi_create_string_utf8(env, message.c_str(), message.size(), &msg);
  napi_create_error(env, nullptr, msg, &error);
  napi_create_string_utf8(env, stage.c_str(), stage.size(), &value);
  napi_set_named_property(env, error, "stage", value);
  napi_create_uint32(env, code, &value);
  napi_set_named_property(env, error, "winerror", value);
  std::string name = ErrorName(code);
  napi_create_string_utf8(env, name.c_str(), name.size(), &value);
  napi_set_named_property(env, error, "code", value);
  return error;
}

}  // namespace

JsQueue::JsQueue(napi_env env, napi_value on_batch, napi_value on_error, size_t max_batches, RecordFilter filter)
    : shared_(new Shared()), filter_(filter) {
  napi_valuetype type = napi_undefined;
  if (on_error) napi_typeof(env, on_error, &type);
  if (type == napi_function) napi_create_reference(env, on_error, 1, &shared_->on_error);
  napi_value name;
  napi_create_string_utf8(env, "kmon:batch", NAPI_AUTO_LENGTH, &name);
  napi_status status = napi_create_threadsafe_function(env, on_batch, nullptr, name, max_batches, 1, shared_, Finalize,
                                                       shared_, CallJs, &tsfn_);
  if (status != napi_ok) {
    if (shared_->on_error) napi_delete_reference(env, shared_->on_error);
    delete shared_;
    throw std::runtime_error("napi_create_threadsafe_function failed");
  }
}

JsQueue::~JsQueue() { Close(); }

bool JsQueue::Push(Item* item) {
  if (shared_->closed.load()) return false;
  return napi_call_threadsafe_function(tsfn_, item, napi_tsfn_nonblocking) == napi_ok;
}

void JsQueue::Deliver(const uint8_t* data, size_t len) {
  Item* item = new Item();
  item->data = static_cast<uint8_t*>(std::malloc(len ? len : 1));
  uint32_t records = 0;
  if (!item->data) {
    shared_->dropped += RecordFilter::Count(data, len);
    delete item;
    return;
  }
  item->len = filter_.Apply(data, len, item->data, &records);
  if (item->len == 0) {
    delete item;
    return;
  }
  if (!Push(item)) {  // napi_queue_full (or closing): count, never wait
    shared_->dropped += records;
    delete item;
  }
}

void JsQueue::Fail(const WinError& error) {
  Item* item = new Item();
  item->is_error = true;
  item->stage = error.stage;
  item->code = error.code;
  item->message = error.what();
  if (Push(item)) return;
  // Full: the batches ahead of it will run CallJs, which reports it after them.
  std::lock_guard<std::mutex> hold(shared_->lock);
  delete shared_->pending_error;
  shared_->pending_error = item;
}

uint64_t JsQueue::dropped() const { return shared_->dropped.load(); }

void JsQueue::Close() {
  if (!tsfn_) return;
  shared_->closed = true;
  napi_release_threadsafe_function(tsfn_, napi_tsfn_release);
  tsfn_ = nullptr;
}

void JsQueue::CallJs(napi_env env, napi_value js_cb, void* context, void* data) {
  auto* shared = static_cast<Shared*>(context);
  Item* item = static_cast<Item*>(data);
  if (!env || !js_cb || shared->closed.load()) {
    delete item;
    return;
  }
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  if (item->is_error) {
    napi_value error = MakeError(env, item->stage, item->code, item->message);
    delete item;
    napi_value on_error = nullptr;
    if (shared->on_error) napi_get_reference_value(env, shared->on_error, &on_error);
    if (on_error)
      napi_call_function(env, undefined, on_error, 1, &error, nullptr);
    else
      napi_throw(env, error);
    return;
  }
  napi_value buffer, batch;
  if (napi_create_external_arraybuffer(env, item->data, item->len, FreeExternal, nullptr, &buffer) == napi_ok) {
    item->data = nullptr;  // JS owns it now
  } else {
    void* copy = nullptr;
    napi_create_arraybuffer(env, item->len, &copy, &buffer);
    std::memcpy(copy, item->data, item->len);
  }
  size_t len = item->len;
  delete item;
  napi_create_typedarray(env, napi_uint8_array, len, buffer, 0, &batch);
  napi_call_function(env, undefined, js_cb, 1, &batch, nullptr);
  // A failure that found the queue full goes out after the batches that filled it.
  Item* late = nullptr;
  {
    std::lock_guard<std::mutex> hold(shared->lock);
    std::swap(late, shared->pending_error);
  }
  if (late) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending && !shared->closed.load()) {
      CallJs(env, js_cb, context, late);
    } else {
      delete late;
    }
  }
}

void JsQueue::Finalize(napi_env env, void* data, void*) {
  auto* shared = static_cast<Shared*>(data);
  if (shared->on_error && env) napi_delete_reference(env, shared->on_error);
  delete shared->pending_error;
  delete shared;
}

}  // namespace win
}  // namespace kmon
