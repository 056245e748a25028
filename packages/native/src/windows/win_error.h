// Win32 failures of the Windows backend. A WinError names the step that
// failed (`stage`, e.g. "open", "install") and carries the Win32 error code;
// the N-API layer turns it into a JS Error with { stage, winerror, code } and
// @kmon/native maps that to one of @kmon/core's typed errors.
#ifndef KMON_WIN_ERROR_H
#define KMON_WIN_ERROR_H

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <stdexcept>
#include <string>

namespace kmon {
namespace win {

class WinError : public std::runtime_error {
 public:
  WinError(std::string stage, DWORD code, const std::string& message)
      : std::runtime_error(message), stage(std::move(stage)), code(code) {}
  const std::string stage;
  const DWORD code;
};

// "ERROR_FILE_NOT_FOUND" for the codes kmon meets, else "WIN32_ERROR_<n>".
std::string ErrorName(DWORD code);

// The system's text for `code`, one line, without the trailing period.
std::string SystemMessage(DWORD code);

// Throws WinError(stage, code, "<what>: <system message> (<name>)").
[[noreturn]] void Fail(const char* stage, DWORD code, const std::string& what);

// Same, with GetLastError().
[[noreturn]] void FailLast(const char* stage, const std::string& what);

}  // namespace win
}  // namespace kmon

#endif  // KMON_WIN_ERROR_H
