// Errors of the Windows kmon.node as @kmon/core's typed errors. The addon
// throws (or passes to onError) an Error with `stage` (the step that failed),
// `winerror` (the Win32 error code) and `code` (its ERROR_* name).
import { KmonDriverError, KmonPermissionError, KmonUnsupportedError, type KmonError } from '@kmon/core';

export interface WindowsNativeError extends Error {
  stage: string;
  winerror: number;
  code?: string;
}

export function isWindowsNativeError(error: unknown): error is WindowsNativeError {
  return typeof (error as WindowsNativeError | undefined)?.winerror === 'number';
}

const ERROR_FILE_NOT_FOUND = 2;
const ERROR_PATH_NOT_FOUND = 3;
const ERROR_ACCESS_DENIED = 5;
const ERROR_NOT_SUPPORTED = 50;
const ERROR_OPERATION_ABORTED = 995;
const ERROR_INVALID_IMAGE_HASH = 577;
const ERROR_DRIVER_BLOCKED = 1275;
const ERROR_REVISION_MISMATCH = 1306;
const ERROR_PRIVILEGE_NOT_HELD = 1314;

const STAGE_TEXT: Record<string, string> = {
  open: 'open \\\\.\\KMon',
  info: 'query kmon.sys',
  mechanism: 'use the requested notification mechanism',
  synth: 'start the synthetic source',
  event: "open kmon.sys's named event",
  wait: 'wait for records',
  pull: 'pull records',
  stats: 'read the driver counters',
  install: 'install the kmon driver service',
  start: 'start the kmon driver service',
};

/** Steps where access denied means missing privileges (afterwards the handle is already ours). */
const OPENING_STAGES = new Set(['open', 'event', 'install', 'start']);

const GONE_HINT = 'kmon.sys was stopped or unloaded while the session was open: start it again (`kmonctl start`) and resubscribe';
const LOAD_HINT =
  'kmon.sys is not loaded: run `kmonctl install` then `kmonctl start` as Administrator ' +
  '(or `sc create kmon type= kernel binPath= C:\\path\\to\\kmon.sys` and `sc start kmon`), ' +
  'or set KMON_SYS to the path of kmon.sys to have kmon load it for the session';
const ADMIN_HINT =
  'run from an elevated prompt (Run as administrator): kmon.sys admits only SYSTEM and Administrators, ' +
  'and loading a driver needs SeLoadDriverPrivilege';

/** Maps an error of the Windows kmon.node to the KmonError that says what to do about it. */
export function windowsKmonError(native: WindowsNativeError): KmonError {
  const what = `kmon could not ${STAGE_TEXT[native.stage] ?? native.stage} (${native.code ?? native.winerror})`;
  const details = { cause: native };
  switch (native.winerror) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
      if (native.stage === 'open') {
        return new KmonDriverError(`${what}: kmon.sys is not loaded (there is no \\\\.\\KMon device)`, {
          hint: LOAD_HINT,
          ...details,
        });
      }
      break;
    case ERROR_ACCESS_DENIED:
    case ERROR_PRIVILEGE_NOT_HELD:
      if (OPENING_STAGES.has(native.stage)) {
        return new KmonPermissionError(`${what}: access denied`, { hint: ADMIN_HINT, ...details });
      }
      // Refused on a handle that was opened fine: the driver went away under the session.
      return new KmonDriverError(`${what}: kmon.sys refused a request of an open session (was it stopped?)`, {
        hint: GONE_HINT,
        ...details,
      });
    case ERROR_OPERATION_ABORTED:
      return new KmonDriverError(`${what}: ${native.message}`, { hint: GONE_HINT, ...details });
    case ERROR_NOT_SUPPORTED:
      return new KmonUnsupportedError(`${what}: ${native.message}`, {
        hint:
          native.stage === 'mechanism'
            ? "this kmon.sys build does not offer it: use windows.mechanism 'inverted-call' (always available)"
            : 'rebuild kmon.sys from the same checkout as @kmon/native',
        ...details,
      });
    case ERROR_REVISION_MISMATCH:
      return new KmonDriverError(`${what}: ${native.message}`, {
        hint: 'rebuild kmon.sys and @kmon/native from the same checkout, then restart the kmon service',
        ...details,
      });
    case ERROR_INVALID_IMAGE_HASH:
    case ERROR_DRIVER_BLOCKED:
      return new KmonDriverError(`${what}: Windows refused to load kmon.sys`, {
        hint: 'kmon.sys is test-signed: enable test signing (`bcdedit /set testsigning on`, reboot) or sign it',
        ...details,
      });
  }
  return new KmonDriverError(`${what}: ${native.message}`, {
    hint: 'check that kmon.sys runs (`sc query kmon`) and see the Windows event log (System) for driver errors',
    ...details,
  });
}
