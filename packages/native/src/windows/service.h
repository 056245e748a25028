// Loads kmon.sys for a session that found it missing: install the kernel
// service from a .sys path if there is none, start it, and on close stop it
// again and remove what this session created. A driver someone else loaded
// is never touched. The service calls themselves are kmonctl's
// (packages/driver/windows/client/service.c): one install path for both.
#ifndef KMON_WIN_SERVICE_H
#define KMON_WIN_SERVICE_H

#include "win_error.h"

#include <memory>
#include <string>

namespace kmon {
namespace win {

class DriverService {
 public:
  // Installs (if absent) and starts the kmon kernel service from `sys_path`;
  // nullptr if it ran already (someone else's). Throws WinError with stage
  // "install" or "start".
  static std::unique_ptr<DriverService> Load(const std::wstring& sys_path);
  ~DriverService() { Unload(); }
  DriverService(const DriverService&) = delete;
  DriverService& operator=(const DriverService&) = delete;

  // Stops the service (this session started it) and removes it if this
  // session created it. Idempotent; best effort (close never throws).
  void Unload();

 private:
  explicit DriverService(bool created) : created_(created) {}
  bool created_;
  bool loaded_ = true;
};

}  // namespace win
}  // namespace kmon

#endif  // KMON_WIN_SERVICE_H
