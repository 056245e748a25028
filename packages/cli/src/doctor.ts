// `kmon doctor`: shows what the binding says it needs from this machine (each
// backend knows its own prerequisites) and how to fix what is missing, then
// opens a session, so a green run means `kmon watch` will work.
import { createKmon, isKmonError, nativeBinding, type Check, type KmonConfig } from 'kmon';
import { firstValueFrom, race, timer } from 'rxjs';

export type { Check };

async function attachCheck(config: KmonConfig): Promise<Check> {
  const binding = config.binding ?? nativeBinding;
  const name = 'driver attach';
  try {
    const kmon = createKmon({}, config);
    const attached = race(kmon.batches$, timer(300));
    await firstValueFrom(attached, { defaultValue: undefined });
    kmon.stop();
    return { name, ok: true, detail: `${binding.name}: a session opened, attached and closed` };
  } catch (error) {
    const detail = isKmonError(error) ? error.message : String(error);
    const fix = isKmonError(error) ? error.hint : undefined;
    return { name, ok: false, detail, ...(fix ? { fix } : {}) };
  }
}

export async function runChecks(config: KmonConfig = {}): Promise<Check[]> {
  const prerequisites = (await (config.binding ?? nativeBinding).checks?.()) ?? [];
  return [...prerequisites, await attachCheck(config)];
}

export function formatChecks(checks: Check[]): string {
  return checks
    .map((c) => `${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}${!c.ok && c.fix ? `\n    fix: ${c.fix}` : ''}`)
    .join('\n');
}
