// Runs in Windows node.exe under Wine (see wine-e2e.sh): @kmon/rx's
// synthetic checks (packages/kmon/test/synthetic.checks.ts, transpiled) over
// the Windows @kmon/native and kmon.sys. One JSON line per check on stdout.
import { execFileSync } from 'node:child_process';
import { createKmon } from '../../rx/dist/index.js';
import { bindingInfo, nativeBinding } from '../dist/index.js';
import { syntheticChecks } from './build/checks/synthetic.checks.js';

const mechanism = process.env.KMON_MECHANISM ?? 'inverted-call';
const print = (line) => console.log(JSON.stringify(line));

function sc(...args) {
  try {
    return execFileSync('sc.exe', args, { encoding: 'utf8', timeout: 30_000 });
  } catch (error) {
    return `${error.stdout ?? ''}${error.message}`;
  }
}

const STATES = { 1: 'STOPPED', 2: 'START_PENDING', 3: 'STOP_PENDING', 4: 'RUNNING' };
const state = () => STATES[/STATE\s*:\s*(\d+)/.exec(sc('query', 'kmon'))?.[1]] ?? 'UNKNOWN';

async function waitFor(want, ms = 10_000) {
  const until = Date.now() + ms;
  for (let now = state(); ; now = state()) {
    if (now === want) return;
    if (Date.now() > until) throw new Error(`kmon service is ${now}, expected ${want}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const env = {
  createKmon,
  binding: nativeBinding,
  options: { windows: { mechanism } },
  // Wine's ntoskrnl answers KeQueryInterruptTime with its own count, not the
  // interrupt time user mode reads: record times do not follow the session clock here.
  exactClock: false,
  async source(count, payloadBytes) {
    // kmon.sys's own timer: 50 records per 1 ms tick until `count`, started by the session's open.
    return { options: { count, payloadBytes, periodMs: 1, perTick: 50 }, async start() {}, async dispose() {} };
  },
  async assertDetached() {
    // Unloading runs kmon.sys's unload routine: it must find no handle, request or mapping of ours.
    sc('stop', 'kmon');
    await waitFor('STOPPED');
    sc('start', 'kmon');
    await waitFor('RUNNING');
    return 'kmon.sys stopped (unloaded) and started again';
  },
};

const info = bindingInfo();
print({ info: { ...info, mechanism, node: process.version, platform: process.platform } });
for (const check of syntheticChecks) {
  const started = Date.now();
  try {
    const detail = await check.run(env);
    print({ check: check.name, ok: true, ms: Date.now() - started, detail });
  } catch (error) {
    print({ check: check.name, ok: false, ms: Date.now() - started, error: String(error?.stack ?? error) });
  }
}
print({ done: true });
// No process.exit(): a session left open (it holds the loop) shows up as a hang the harness reports.
