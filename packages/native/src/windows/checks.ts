// What the Windows backend needs from the machine, for `kmon doctor`. Whether
// kmon.sys is loaded (or loadable) and the prompt elevated is what opening a
// session checks, with its typed errors' hints (./errors.ts).
import type { Check, KmonError } from '@kmon/core';
import { loadAddonFile } from '../load.js';

export async function windowsChecks(): Promise<Check[]> {
  const name = 'kmon.node (Windows)';
  try {
    const { path } = loadAddonFile();
    return [{ name, ok: true, detail: `${path} loads` }];
  } catch (error) {
    const { message, hint } = error as KmonError;
    return [{ name, ok: false, detail: message, ...(hint ? { fix: hint } : {}) }];
  }
}
