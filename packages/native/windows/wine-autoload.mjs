// Runs in Windows node.exe under Wine (see wine-e2e.sh), with kmon.sys NOT
// loaded and KMON_SYS naming it: the session must install and start the
// driver service itself, deliver records, and at close stop the driver and
// remove the service it created (the WDK 'event' sample's behaviour, seed 003).
import { execFileSync } from 'node:child_process';
import { createKmon } from '../../rx/dist/index.js';
import { nativeBinding } from '../dist/index.js';

const print = (line) => console.log(JSON.stringify(line));
/** sc's report on the kmon service; Wine's sc prints nothing (exit 1) for a service that does not exist. */
const query = () => {
  try {
    return execFileSync('sc.exe', ['query', 'kmon'], { encoding: 'utf8', timeout: 30_000 });
  } catch (error) {
    return `${error.stdout ?? ''}${error.message}`;
  }
};
const name = 'a session loads a missing kmon.sys from KMON_SYS and removes the service it created at close';
const started = Date.now();
try {
  const before = query();
  if (/STATE/.test(before)) throw new Error(`the kmon service should not exist yet:\n${before}`);
  const kmon = createKmon({ kinds: ['synth'], synthetic: { count: 500, perTick: 50 } }, { binding: nativeBinding, graceMs: 0 });
  let during = '';
  let seen = 0;
  await new Promise((resolve, reject) => {
    let subscription;
    subscription = kmon.events$.subscribe({
      next: (m) => {
        if (m.kind !== 'synth') return;
        if (++seen === 1) during = query();
        if (seen === 500) {
          subscription?.unsubscribe();
          resolve();
        }
      },
      error: reject,
    });
  });
  await new Promise((resolve) => setTimeout(resolve, 50)); // 0 ms grace, then close()
  if (!/RUNNING/.test(during)) throw new Error(`kmon should run while the session is open:\n${during}`);
  const after = query();
  if (/STATE/.test(after)) throw new Error(`the service should be gone after close:\n${after}`);
  print({ check: name, ok: true, ms: Date.now() - started, detail: `${seen} records; service RUNNING while open, gone after close` });
} catch (error) {
  print({ check: name, ok: false, ms: Date.now() - started, error: String(error?.stack ?? error) });
}
print({ done: true });
