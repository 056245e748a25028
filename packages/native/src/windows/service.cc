#include "service.h"

#include "kmon_service.h"

namespace kmon {
namespace win {

std::unique_ptr<DriverService> DriverService::Load(const std::wstring& sys_path) {
  int created = 0;
  if (DWORD error = kmon_service_install(sys_path.c_str(), &created))
    Fail("install", error, "cannot install the kmon driver service");
  std::unique_ptr<DriverService> loaded(new DriverService(created != 0));
  int was_running = 0;
  if (DWORD error = kmon_service_start(&was_running)) {
    loaded->Unload();
    Fail("start", error, "cannot start the kmon driver service");
  }
  if (was_running) {
    loaded->loaded_ = false;  // someone else runs it: not ours to stop
    return nullptr;
  }
  return loaded;
}

void DriverService::Unload() {
  if (!loaded_) return;
  loaded_ = false;
  kmon_service_stop();
  if (created_) kmon_service_remove();
}

}  // namespace win
}  // namespace kmon
