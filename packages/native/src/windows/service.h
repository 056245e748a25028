// Loads kmon.sys for a session that found it missing, after the WDK 'event'
// sample (seed 003): install the kernel service from a .sys path if there is
// none, start it, and on close stop it again and remove what this session
// created. A driver someone else loaded is never touched.
#ifndef KMON_WIN_SERVICE_H
#define KMON_WIN_SERVICE_H

#include "win_error.h"

#include <memory>
#include <string>

namespace kmon {
namespace win {

constexpr const wchar_t* kServiceName = L"kmon";

class DriverService {
 public:
  // Installs (if absent) and starts the "kmon" kernel service from `sys_path`.
  // Throws WinError with stage "install" or "start".
  static std::unique_ptr<DriverService> Load(const std::wstring& sys_path);
  ~DriverService();
  DriverService(const DriverService&) = delete;
  DriverService& operator=(const DriverService&) = delete;

  // Stops the service (this session started it) and deletes it if this
  // session created it. Idempotent; best effort (close never throws).
  void Unload();

  bool created() const { return created_; }

 private:
  DriverService(SC_HANDLE scm, SC_HANDLE service, bool created) : scm_(scm), service_(service), created_(created) {}
  SC_HANDLE scm_;
  SC_HANDLE service_;
  bool created_;
};

}  // namespace win
}  // namespace kmon

#endif  // KMON_WIN_SERVICE_H
