// What the Windows backend needs from the machine, for `kmon doctor`. Whether
// kmon.sys is loaded (or loadable) and the prompt elevated is what opening a
// session checks, with its typed errors' hints (./errors.ts).
import { existsSync } from 'node:fs';
import type { Check } from '@kmon/core';
import { WINDOWS_ADDON_PATH, WINDOWS_BUILD_HINT } from './options.js';

export async function windowsChecks(): Promise<Check[]> {
  const built = existsSync(WINDOWS_ADDON_PATH);
  return [
    {
      name: 'kmon.node (Windows)',
      ok: built,
      detail: built ? `${WINDOWS_ADDON_PATH} present` : `${WINDOWS_ADDON_PATH} missing`,
      fix: WINDOWS_BUILD_HINT,
    },
  ];
}
