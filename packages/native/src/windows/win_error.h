// Win32 failures of the Windows backend. A WinError is the BackendError
// (backend.h) that names the step that failed (`stage`, e.g. "open",
// "install") and carries the Win32 error code (`winerror`) and its name;
// addon.cc turns it into a JS Error with { stage, winerror, code } and
// src/windows/errors.ts maps that to one of @kmon/core's typed errors.
#ifndef KMON_WIN_ERROR_H
#define KMON_WIN_ERROR_H

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <string>

#include "../backend.h"

namespace kmon {
namespace win {

// "ERROR_FILE_NOT_FOUND" for the codes kmon meets, else "WIN32_ERROR_<n>".
std::string ErrorName(DWORD code);

class WinError : public BackendError {
 public:
  WinError(std::string stage, DWORD code, const std::string& message)
      : BackendError(std::move(stage), Win32{code, ErrorName(code)}, message) {}
};

// The system's text for `code`, one line, without the trailing period.
std::string SystemMessage(DWORD code);

// Throws WinError(stage, code, "<what>: <system message> (<name>)").
[[noreturn]] void Fail(const char* stage, DWORD code, const std::string& what);

// Same, with GetLastError().
[[noreturn]] void FailLast(const char* stage, const std::string& what);

}  // namespace win
}  // namespace kmon

#endif  // KMON_WIN_ERROR_H
