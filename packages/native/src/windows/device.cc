#include "device.h"

namespace kmon {
namespace win {

Device::Device() {
  handle_ = CreateFileW(KMON_USER_PATH, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr,
                        OPEN_EXISTING, FILE_FLAG_OVERLAPPED, nullptr);
  if (handle_ == INVALID_HANDLE_VALUE) FailLast("open", "cannot open \\\\.\\KMon");
}

Device::~Device() {
  if (handle_ != INVALID_HANDLE_VALUE) CloseHandle(handle_);
}

DWORD Device::Ioctl(const char* stage, DWORD code, const void* in, DWORD in_len, void* out, DWORD out_len,
                    HANDLE event) {
  HANDLE own = nullptr;
  if (!event) {
    own = event = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    if (!event) FailLast(stage, "CreateEvent");
  } else {
    ResetEvent(event);
  }
  OVERLAPPED ov{};
  // Low bit set: the completion is not posted to a completion port bound to the handle.
  ov.hEvent = reinterpret_cast<HANDLE>(reinterpret_cast<ULONG_PTR>(event) | 1);
  DWORD bytes = 0;
  BOOL ok = DeviceIoControl(handle_, code, const_cast<void*>(in), in_len, out, out_len, &bytes, &ov);
  DWORD error = ok ? ERROR_SUCCESS : GetLastError();
  if (!ok && error == ERROR_IO_PENDING) {
    WaitForSingleObject(event, INFINITE);
    ok = GetOverlappedResult(handle_, &ov, &bytes, FALSE);
    error = ok ? ERROR_SUCCESS : GetLastError();
  }
  if (own) CloseHandle(own);
  if (!ok) Fail(stage, error, "kmon.sys IOCTL failed");
  return bytes;
}

kmon_info Device::Info() {
  kmon_info info{};
  DWORD n = Ioctl("info", KMON_IOCTL_GET_INFO, nullptr, 0, &info, sizeof(info));
  if (n < sizeof(info)) Fail("info", ERROR_INVALID_DATA, "short KMON_IOCTL_GET_INFO reply");
  return info;
}

kmon_cpu_stats Device::Stats() {
  kmon_cpu_stats stats{};
  DWORD n = Ioctl("stats", KMON_IOCTL_GET_STATS, nullptr, 0, &stats, sizeof(stats));
  if (n < sizeof(stats)) Fail("stats", ERROR_INVALID_DATA, "short KMON_IOCTL_GET_STATS reply");
  return stats;
}

void Device::SynthStart(const kmon_synth_config& config) {
  Ioctl("synth", KMON_IOCTL_SYNTH_START, &config, sizeof(config), nullptr, 0);
}

void Device::SynthStop() { Ioctl("synth", KMON_IOCTL_SYNTH_STOP, nullptr, 0, nullptr, 0); }

DWORD Device::Pull(uint8_t* dst, DWORD cap, HANDLE event) {
  return Ioctl("pull", KMON_IOCTL_PULL, nullptr, 0, dst, cap, event);
}

void Device::CancelAll() { CancelIoEx(handle_, nullptr); }

}  // namespace win
}  // namespace kmon
