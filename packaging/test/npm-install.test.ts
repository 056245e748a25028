// kmon as a user gets it: the published packages are packed (pnpm pack turns
// workspace: ranges into versions), installed with plain npm into fresh
// projects outside the workspace (real directories, no links), and used:
// a TypeScript program is type-checked against the published .d.ts and run
// on the real kernel (root or CAP_BPF+CAP_PERFMON, as in CI). The native
// addon installs from its prebuild without compiling, and from source when
// the prebuild is gone.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshProject, type NpmProject, type Run } from '../src/npm.js';
import { ROOT, pack, publishedPackages, tarballFiles, tarballManifest, type Published } from '../src/workspace.js';

const SLOW = 900_000;
const published = publishedPackages();
const packs = mkdtempSync(join(tmpdir(), 'kmon-packs-'));
const tarballs = new Map<string, string>();
const projects: NpmProject[] = [];
// An rxjs other than the workspace's 7.8.2: the app's copy must be the one kmon uses.
const APP_DEPS = ['rxjs@7.8.1', '@types/node@20.19.43'];

beforeAll(() => {
  for (const p of published) tarballs.set(p.manifest.name, pack(p, packs));
}, SLOW);

afterAll(() => {
  rmSync(packs, { recursive: true, force: true });
  for (const project of projects) rmSync(project.dir, { recursive: true, force: true });
}, SLOW);

function project(name: string): NpmProject {
  const p = freshProject(name);
  projects.push(p);
  return p;
}

const ok = (r: Run) => expect(r.status, `${r.stdout}\n${r.stderr}`.slice(-4000)).toBe(0);
const tarball = (name: string) => tarballs.get(name)!;

describe.each(published.map((p): [string, Published] => [p.manifest.name, p]))('%s as packed', (name) => {
  it('has the fields a registry package needs, and its dependencies resolve outside the workspace', () => {
    const m = tarballManifest(tarball(name));
    expect(m.license).toBe('MIT');
    expect(m.repository?.directory).toMatch(/^packages\//);
    expect(m.engines?.node).toBe('>=20');
    expect(m.exports?.['./package.json']).toBe('./package.json');
    const ranges = { ...m.dependencies, ...m.peerDependencies };
    expect(Object.values(ranges).filter((r) => r.startsWith('workspace:'))).toEqual([]);
    for (const dep of Object.keys(ranges).filter((d) => d.startsWith('@kmon/') || d === 'kmon')) {
      expect(tarballs.has(dep), `${dep} is published too`).toBe(true);
    }
  });

  it('ships no tests, a README and the licence', () => {
    const files = tarballFiles(tarball(name));
    expect(files.filter((f) => /(^|\/)test\/|\.test\.|\.test-results/.test(f))).toEqual([]);
    expect(files).toContain('README.md');
    expect(files).toContain('LICENSE');
  });
});

describe.each(['@kmon/rx', 'kmon'])('%s', (name) => {
  it('takes rxjs from the application (a peer), not a copy of its own', () => {
    const m = tarballManifest(tarball(name));
    expect(m.peerDependencies?.rxjs).toBe('^7.8');
    expect(m.dependencies?.rxjs).toBeUndefined();
  });
});

describe('a TypeScript project that installs kmon with npm', () => {
  let app: NpmProject;

  beforeAll(() => {
    app = project('app');
    cpSync(join(ROOT, 'packaging/client'), app.dir, { recursive: true });
    ok(app.install([...published.map((p) => tarball(p.manifest.name)), ...APP_DEPS]));
  }, SLOW);

  it('gets real directories (no workspace links), one rxjs, and runs no compiler (the prebuilt addon matches)', () => {
    for (const p of published) {
      expect(lstatSync(join(app.dir, 'node_modules', p.manifest.name)).isDirectory()).toBe(true);
    }
    for (const name of ['@kmon/rx', 'kmon']) expect(existsSync(join(app.dir, 'node_modules', name, 'node_modules/rxjs'))).toBe(false);
    expect(app.toolsRun()).toEqual([]);
    expect(existsSync(join(app.dir, 'node_modules/@kmon/native/build'))).toBe(false);
  });

  it('type-checks against the published declarations, which reject a misspelt field', () => {
    const tsc = app.run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.'], { timeoutMs: SLOW });
    const errors = tsc.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^src\/typo\.ts\(\d+,\d+\): error TS2551: Property 'exitCod' does not exist .* Did you mean 'exitCode'\?/);
  }, SLOW);

  it('runs on the real kernel and prints the events it asked for', () => {
    const run = app.run('sh', ['-c', 'EVENTS=3 node dist/client.js & sleep 1; for i in 1 2 3; do /bin/true; done; wait $!']);
    ok(run);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).toMatch(/^(exec|exit) \d+ \S+|^lost \d+/);
  }, 60_000);
});

describe('@kmon/native without its prebuild', () => {
  it('builds kmon.node from source at install (no BPF toolchain, no private package) and loads it', () => {
    const native = tarball('@kmon/native');
    const work = mkdtempSync(join(tmpdir(), 'kmon-repack-'));
    execFileSync('tar', ['xzf', native, '-C', work]);
    rmSync(join(work, 'package/prebuilds'), { recursive: true });
    const stripped = join(work, 'kmon-native-without-prebuilds.tgz');
    execFileSync('tar', ['czf', stripped, '-C', work, 'package']);

    const app = project('source-build');
    ok(app.install([tarball('@kmon/core'), stripped]));
    expect(app.toolsRun().some((line) => /^(c\+\+|g\+\+) /.test(line)), app.toolsRun().join('\n')).toBe(true);
    expect(readdirSync(join(app.dir, 'node_modules/@kmon/native/build/Release'))).toContain('kmon.node');

    const opened = app.run(process.execPath, [
      '--input-type=module',
      '-e',
      `import { bindingInfo, nativeBinding } from '@kmon/native';
       import { parseSessionOptions } from '@kmon/core';
       const session = nativeBinding.open(parseSessionOptions({ kinds: ['exec'] }), { onBatch() {}, onError() {} });
       session.close();
       console.log(bindingInfo().addonPath);`,
    ]);
    ok(opened);
    expect(opened.stdout.trim()).toMatch(/node_modules\/@kmon\/native\/build\/Release\/kmon\.node$/);
    rmSync(work, { recursive: true, force: true });
  }, SLOW);
});
