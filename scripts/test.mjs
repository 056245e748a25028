#!/usr/bin/env node
// Runs every package's tests through turbo, then prints the one summary line
// CI reads: "N passed, N failed, N skipped". Each package's vitest writes
// .test-results.json; a package whose tests ran but left no report (a crash
// before the reporter ran) counts as one failure, so nothing fails quietly.
// The Windows driver's cross-build and Wine checks are part of the run: their
// system packages are installed here, not by the Linux setup.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const workspace = JSON.parse(
  spawnSync('pnpm', ['-r', 'ls', '--json', '--depth', '-1'], { cwd: root, encoding: 'utf8' }).stdout,
);
const packages = workspace.filter((p) => p.path !== root.replace(/\/$/, '') && hasTestScript(p.path));

function hasTestScript(dir) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  return Boolean(manifest.scripts?.test);
}

const windowsSetup = spawnSync('bash', [join(root, 'scripts/setup.sh'), 'windows'], { stdio: 'inherit' });
if (windowsSetup.status !== 0) console.error('test: the Windows toolchain could not be installed; its checks will fail');

const report = (dir) => join(dir, '.test-results.json');
for (const p of packages) rmSync(report(p.path), { force: true });

const turbo = spawnSync('pnpm', ['exec', 'turbo', 'run', 'test', '--continue', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});

let passed = 0;
let failed = 0;
let skipped = 0;
for (const p of packages) {
  if (!existsSync(report(p.path))) {
    console.error(`${p.name}: no test report (its build or test run crashed)`);
    failed++;
    continue;
  }
  const r = JSON.parse(readFileSync(report(p.path), 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + r.numTodoTests;
  // Files that failed to load have no tests in the counts: count each once.
  failed += r.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length;
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = failed > 0 || turbo.status !== 0 ? 1 : 0;
