#include "service.h"

namespace kmon {
namespace win {
namespace {

// Waits until the service reaches `state` (or leaves the pending one); false on timeout.
bool WaitForState(SC_HANDLE service, DWORD state, DWORD timeout_ms) {
  for (DWORD waited = 0;; waited += 50) {
    SERVICE_STATUS status{};
    if (!QueryServiceStatus(service, &status)) return false;
    if (status.dwCurrentState == state) return true;
    if (waited >= timeout_ms) return false;
    Sleep(50);
  }
}

}  // namespace

std::unique_ptr<DriverService> DriverService::Load(const std::wstring& sys_path) {
  SC_HANDLE scm = OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT | SC_MANAGER_CREATE_SERVICE);
  if (!scm) FailLast("install", "cannot open the service control manager");
  bool created = false;
  SC_HANDLE service = CreateServiceW(scm, kServiceName, L"kmon kernel monitor", SERVICE_ALL_ACCESS,
                                     SERVICE_KERNEL_DRIVER, SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL,
                                     sys_path.c_str(), nullptr, nullptr, nullptr, nullptr, nullptr);
  if (service) {
    created = true;
  } else if (GetLastError() == ERROR_SERVICE_EXISTS) {
    service = OpenServiceW(scm, kServiceName, SERVICE_ALL_ACCESS);
  }
  if (!service) {
    DWORD error = GetLastError();
    CloseServiceHandle(scm);
    Fail("install", error, "cannot install the kmon driver service");
  }
  std::unique_ptr<DriverService> loaded(new DriverService(scm, service, created));
  if (!StartServiceW(service, 0, nullptr)) {
    DWORD error = GetLastError();
    if (error == ERROR_SERVICE_ALREADY_RUNNING) {
      // Someone else runs it: not ours to stop. Forget it without undoing.
      loaded->created_ = false;
      CloseServiceHandle(loaded->service_);
      loaded->service_ = nullptr;
      return nullptr;
    }
    loaded->Unload();
    Fail("start", error, "cannot start the kmon driver service");
  }
  WaitForState(service, SERVICE_RUNNING, 10000);
  return loaded;
}

void DriverService::Unload() {
  if (service_) {
    SERVICE_STATUS status{};
    if (ControlService(service_, SERVICE_CONTROL_STOP, &status) || GetLastError() == ERROR_SERVICE_NOT_ACTIVE)
      WaitForState(service_, SERVICE_STOPPED, 10000);
    if (created_) DeleteService(service_);
    CloseServiceHandle(service_);
    service_ = nullptr;
  }
  if (scm_) CloseServiceHandle(scm_);
  scm_ = nullptr;
}

DriverService::~DriverService() { Unload(); }

}  // namespace win
}  // namespace kmon
