// `kmon doctor`: shows what the binding says it needs from this machine (each
// backend knows its own prerequisites) and how to fix what is missing, then
// opens, attaches and closes one session per event family the binding
// offers (process, file, network): what the kernel really allows, not what
// the capability bits suggest, so a green run means `kmon watch` will work.
import { createKmon, isKmonError, nativeBinding, type Check, type EventKind, type KmonConfig } from 'kmon';
import { firstValueFrom, race, timer } from 'rxjs';
import { KIND_GROUPS } from './kinds.js';

export type { Check };

export const CHECK_FORMATS = ['text', 'json'] as const;
export type CheckFormat = (typeof CHECK_FORMATS)[number];

/** How long a session stays open once attached: long enough to see a batch on a busy machine, short for a quiet one. */
const ATTACHED_MS = 300;

/** Opens a session for `kinds`, waits until it is attached (or fails), closes it. */
async function attachCheck(family: string, kinds: readonly EventKind[], config: KmonConfig): Promise<Check> {
  const binding = config.binding ?? nativeBinding;
  const name = `attach ${family}`;
  try {
    const kmon = createKmon({ kinds: [...kinds] }, { ...config, followProcesses: false }); // this family's programs alone
    await firstValueFrom(race(kmon.batches$, timer(ATTACHED_MS)), { defaultValue: undefined });
    kmon.stop();
    return { name, ok: true, detail: `${binding.name}: a session for ${kinds.join(', ')} opened, attached and closed` };
  } catch (error) {
    const detail = isKmonError(error) ? error.message : String(error);
    const fix = isKmonError(error) ? error.hint : undefined;
    return { name, ok: false, detail, ...(fix ? { fix } : {}) };
  }
}

/** Every prerequisite check, then an attach check per family the binding offers kinds of. */
export async function runChecks(config: KmonConfig = {}): Promise<Check[]> {
  const binding = config.binding ?? nativeBinding;
  const prerequisites = (await binding.checks?.()) ?? [];
  const attaches: Check[] = [];
  for (const [family, kinds] of Object.entries(KIND_GROUPS)) {
    const offered = kinds.filter((kind) => binding.capabilities.kinds.includes(kind));
    if (offered.length > 0) attaches.push(await attachCheck(family, offered, config));
  }
  return [...prerequisites, ...attaches];
}

export function formatChecks(checks: Check[], format: CheckFormat = 'text'): string {
  if (format === 'json') return JSON.stringify(checks, null, 2);
  return checks
    .map((c) => `${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}${!c.ok && c.fix ? `\n    fix: ${c.fix}` : ''}`)
    .join('\n');
}
