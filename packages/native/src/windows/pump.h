// A pump is the one native thread of a Windows session: it waits on kmon.sys
// (libuv cannot poll a device handle on Windows) and hands every batch it
// reads to a BatchSink (the session's BatchQueue), on its own thread.
#ifndef KMON_WIN_PUMP_H
#define KMON_WIN_PUMP_H

#include <cstddef>
#include <cstdint>
#include <memory>

#include "device.h"

namespace kmon {
namespace win {

class BatchSink {
 public:
  virtual ~BatchSink() = default;
  // Whole records as the driver wrote them; the sink copies what it keeps.
  virtual void Deliver(const uint8_t* data, size_t len) = 0;
  // The pump cannot go on; called at most once, then the thread ends.
  virtual void Fail(const WinError& error) = 0;
};

class Pump {
 public:
  virtual ~Pump() = default;
  virtual void Start() = 0;
  // Asks for no more records (Backend::Detach); requests in flight may still
  // complete and are delivered. Any thread. Idempotent.
  virtual void Detach() = 0;
  // Cancels what is in flight and joins the thread. Idempotent.
  virtual void Stop() = 0;
};

// Inverted call: `requests` overlapped KMON_IOCTL_WAIT in flight, waited for
// on a completion port, delivered in the order they were issued, each
// re-issued once its batch is handed on.
std::unique_ptr<Pump> MakeInvertedCallPump(Device& device, BatchSink& sink, unsigned requests, DWORD buffer_bytes);

// Event pull: wait on the driver's named event (KMON_EVENT_USER_NAME), then
// KMON_IOCTL_PULL until the ring is empty. Throws WinError (stage "event").
std::unique_ptr<Pump> MakeEventPullPump(Device& device, BatchSink& sink, DWORD buffer_bytes);

}  // namespace win
}  // namespace kmon

#endif  // KMON_WIN_PUMP_H
