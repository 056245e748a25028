// A handle on \\.\KMon (kmon.sys) and its synchronous IOCTLs. The handle is
// opened for overlapped I/O so the inverted-call pump can keep WAIT requests
// in flight on it; the synchronous calls here still block their caller (and
// never post to a completion port the handle may be bound to).
#ifndef KMON_WIN_DEVICE_H
#define KMON_WIN_DEVICE_H

#include "win_error.h"

#include <cstdint>

#include "kmon_ioctl.h"

namespace kmon {
namespace win {

class Device {
 public:
  // Throws WinError with stage "open" (ERROR_FILE_NOT_FOUND: kmon.sys is not loaded).
  Device();
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  HANDLE handle() const { return handle_; }

  // One IOCTL, waited for; returns the bytes the driver wrote. `event`: a
  // manual-reset event the caller owns, or nullptr for a fresh one.
  DWORD Ioctl(const char* stage, DWORD code, const void* in, DWORD in_len, void* out, DWORD out_len,
              HANDLE event = nullptr);

  kmon_info Info();
  kmon_cpu_stats Stats();
  void SynthStart(const kmon_synth_config& config);
  void SynthStop();
  // Whole records waiting now, at most cap bytes (cap >= KMON_BATCH_MIN); 0 when none.
  DWORD Pull(uint8_t* dst, DWORD cap, HANDLE event = nullptr);

  // Cancels every request of this process in flight on the handle.
  void CancelAll();

 private:
  HANDLE handle_ = INVALID_HANDLE_VALUE;
};

}  // namespace win
}  // namespace kmon

#endif  // KMON_WIN_DEVICE_H
