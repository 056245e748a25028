// File events on the real kernel: paths the kernel resolved, filters in the
// kernel, and what a session attaches. Each test works in a tmpfs mounted for
// it, and judges only its own processes' events and its own session's counters.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeBatch,
  parseFilters,
  parseSessionOptions,
  type FiltersInput,
  type KernelSession,
  type KmonEvent,
} from '@kmon/core';
import { bindingInfo, toNativeConfig, toNativeFilters, type NativeConfig, type NativeFilters } from '../src/index.js';
import { heldKernelObjects } from '../src/testing.js';

type FileKind = 'open' | 'unlink' | 'rename' | 'mkdir' | 'chmod' | 'chown' | 'link';
type FileEvent = Extract<KmonEvent, { kind: FileKind }>;
const FILE_KINDS: FileKind[] = ['open', 'unlink', 'rename', 'mkdir', 'chmod', 'chown', 'link'];

interface RawSession extends Omit<KernelSession, 'setFilters'> {
  setFilters(filters: NativeFilters): void;
}

/** A poll-mode session of kmon.node (raw, for syscallFallback), its batches decoded. */
class FileSession {
  readonly events: KmonEvent[] = [];
  readonly faults: unknown[] = [];
  readonly session: RawSession;

  constructor(kinds: KmonEvent['kind'][], file: FiltersInput['file'] = {}, extra: Partial<NativeConfig> = {}) {
    const { Session } = createRequire(import.meta.url)(bindingInfo().addonPath) as {
      Session: new (config: NativeConfig, onBatch: (batch: Uint8Array) => void) => RawSession;
    };
    const options = parseSessionOptions({ kinds, wakeup: 'poll', pollIntervalMs: 5, filters: { file } });
    this.session = new Session({ ...toNativeConfig(options), ...extra }, (batch) => {
      const decoded = decodeBatch(batch);
      this.events.push(...decoded.events);
      this.faults.push(...decoded.faults);
    });
  }

  /** Every file event of process `pid`, once the ring has been drained past them. */
  async of(pid: number): Promise<FileEvent[]> {
    await new Promise((resolve) => setTimeout(resolve, 250)); // poll mode drains every 5 ms; a loaded machine is slower
    expect(this.faults).toEqual([]);
    return this.events.filter((e): e is FileEvent => e.pid === pid && (FILE_KINDS as string[]).includes(e.kind));
  }

  setFilters(file: FiltersInput['file']): void {
    this.session.setFilters(toNativeFilters(parseFilters({ file })));
  }

  attempted(): number {
    return this.session.stats().cpus.reduce((n, cpu) => n + cpu.attempted, 0);
  }

  close(): void {
    this.session.close();
  }
}

/** The paths of an event, as one string. */
const pathsOf = (e: FileEvent) =>
  e.kind === 'rename' ? `${e.oldPath} -> ${e.newPath}` : e.kind === 'link' ? `${e.target} -> ${e.path}` : e.path;

/** Runs a Node script (fs calls: one process does them all) in `cwd`; returns its pid. */
function runNode(cwd: string, script: string, user?: number): number {
  const prefix = user === undefined ? [] : ['setpriv', `--reuid=${user}`, `--regid=${user}`, '--clear-groups'];
  const argv = [...prefix, process.execPath, '-e', `console.log(process.pid); ${script}`];
  const out = spawnSync(argv[0]!, argv.slice(1), { cwd, encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`script failed: ${out.stderr}`);
  return Number(out.stdout.split('\n')[0]);
}

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'kmon-file-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0755', 'kmon-test', root]);
});

afterAll(() => {
  execFileSync('umount', [root]);
  rmSync(root, { recursive: true });
});

/** A fresh directory in the tmpfs. */
function workdir(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  return dir;
}

describe.each([
  ['per-syscall tracepoints', { syscallFallback: false }],
  ['the sys_exit tail-call dispatcher', { syscallFallback: true }],
])('file events through %s', (_how, extra) => {
  it('carry absolute, normalised paths the kernel resolved, the created flag, the new mode and the process', async () => {
    const dir = workdir(`life-${extra.syscallFallback ? 'tail' : 'tp'}`);
    const session = new FileSession(FILE_KINDS, {}, extra);
    try {
      const pid = runNode(
        dir,
        `const fs = require('fs');
         fs.mkdirSync('a'); fs.mkdirSync('b');
         fs.writeFileSync('b/f', 'x');
         fs.readFileSync('./a/../b/f');
         fs.symlinkSync('b/f', 'l');
         fs.readFileSync('l');
         fs.renameSync('b/f', 'b/g');
         fs.chmodSync('b/g', 0o640);
         fs.unlinkSync('b/g');`,
      );
      const events = (await session.of(pid)).filter((e) => e.kind !== 'open' || e.path.startsWith(dir));
      const summary = events.map((e) => [
        e.kind,
        pathsOf(e),
        'mode' in e ? e.mode : undefined,
        e.kind === 'open' ? e.created : e.kind === 'link' ? e.symlink : undefined,
      ]);
      expect(summary).toEqual([
        ['mkdir', `${dir}/a`, 0o777, undefined],
        ['mkdir', `${dir}/b`, 0o777, undefined],
        ['open', `${dir}/b/f`, 0o666, true],
        ['open', `${dir}/b/f`, 0, false],
        ['link', `b/f -> ${dir}/l`, undefined, true],
        ['open', `${dir}/b/f`, 0, false],
        ['rename', `${dir}/b/f -> ${dir}/b/g`, undefined, undefined],
        ['chmod', `${dir}/b/g`, 0o640, undefined],
        ['unlink', `${dir}/b/g`, undefined, undefined],
      ]);
      expect(new Set(events.map((e) => e.startTime)).size).toBe(1);
      expect(events[0]!.startTime).toBeGreaterThan(0n);
      expect(events.every((e) => e.result >= 0 && e.tid === pid)).toBe(true);
    } finally {
      session.close();
    }
  });
});

describe('failed calls', () => {
  const script = (dir: string) => `try { require('fs').readFileSync('${dir}/missing') } catch {}`;

  it.each([
    [true, [['open', -2, true]]],
    [false, []],
  ])('failed: %s reports a failed open (ENOENT) with its errno, or not at all', async (failed, expected) => {
    const dir = workdir(`enoent-${failed}`);
    const session = new FileSession(FILE_KINDS, { failed });
    try {
      const pid = runNode(dir, script(dir));
      const mine = (await session.of(pid)).filter((e) => pathsOf(e).startsWith(dir));
      expect(mine.map((e) => [e.kind, e.result, e.unresolved])).toEqual(expected);
    } finally {
      session.close();
    }
  });

  it('reports an unlink an unprivileged user may not do (EACCES) when failed calls are asked for', async () => {
    const dir = workdir('eacces');
    execFileSync('touch', [join(dir, 'kept')]);
    const session = new FileSession(['unlink'], { failed: true });
    try {
      const pid = runNode(dir, `try { require('fs').unlinkSync('kept') } catch (e) { if (e.code !== 'EACCES') throw e }`, 65534);
      expect((await session.of(pid)).map((e) => [e.kind, e.result, pathsOf(e)])).toEqual([['unlink', -13, `${dir}/kept`]]);
    } finally {
      session.close();
    }
  });
});

describe('path prefix filters', () => {
  const touch = (dir: string, ...names: string[]) =>
    runNode(dir, names.map((n) => `require('fs').writeFileSync('${n}', '')`).join(';'));

  it('lets only paths under the prefix leave the kernel, and a live change applies to the next event', async () => {
    const dir = workdir('prefix');
    mkdirSync(join(dir, 'in'));
    mkdirSync(join(dir, 'out'));
    const include = (p: string) => ({ include: [p] });
    const session = new FileSession(['open'], include(join(dir, 'in')));
    try {
      const before = session.attempted();
      const pid = touch(dir, 'in/a', 'out/b', 'in/c');
      expect((await session.of(pid)).map(pathsOf)).toEqual([`${dir}/in/a`, `${dir}/in/c`]);
      // Nothing else on the machine opens under this tmpfs: the counter is ours alone.
      expect(session.attempted() - before).toBe(2);

      session.setFilters(include(join(dir, 'out')));
      const next = touch(dir, 'in/d', 'out/e');
      expect((await session.of(next)).map(pathsOf)).toEqual([`${dir}/out/e`]);
    } finally {
      session.close();
    }
  });

  it('excludes by the longest matching prefix, and never drops a path with .. it did not resolve', async () => {
    const dir = workdir('exclude');
    mkdirSync(join(dir, 'x/y'), { recursive: true });
    const session = new FileSession(['open', 'unlink'], { include: [dir], exclude: [`${dir}/x`] });
    try {
      const pid = runNode(
        dir,
        `const fs = require('fs'); fs.writeFileSync('a', ''); fs.writeFileSync('x/y/b', '');
         fs.unlinkSync('x/y/b'); process.chdir('x'); fs.unlinkSync('../a');`,
      );
      expect((await session.of(pid)).map((e) => [e.kind, pathsOf(e)])).toEqual([
        ['open', `${dir}/a`],
        ['unlink', `${dir}/a`], // the kernel saw x/../a: the filter could not know it is outside x
      ]);
    } finally {
      session.close();
    }
  });
});

describe('walk limits', () => {
  it('cuts a path deeper than the walk limit and flags it: the end stays, without a leading /', async () => {
    const dir = workdir('deep');
    const deep = join(dir, ...Array<string>(140).fill('d'));
    mkdirSync(deep, { recursive: true });
    const session = new FileSession(['open']);
    try {
      const pid = runNode(deep, `require('fs').writeFileSync('f', '')`);
      const [event] = (await session.of(pid)).filter((e) => pathsOf(e).endsWith('/d/f'));
      expect(event).toMatchObject({ kind: 'open', truncated: { path: true } });
      expect(pathsOf(event!).startsWith('/')).toBe(false);
      expect(pathsOf(event!).split('/').length).toBeLessThan(141);
    } finally {
      session.close();
    }
  });
});

describe('what a session attaches', () => {
  const programsOf = (objects: string[]) =>
    objects
      .filter((o) => o.startsWith('prog '))
      .map((o) => JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show', 'id', o.slice(5)], { encoding: 'utf8' })) as { name: string; type: string });

  /** The syscall programs this process holds beyond `held`. */
  const syscallPrograms = (held: string[]) =>
    programsOf(heldKernelObjects().filter((o) => !held.includes(o)))
      .map((p) => p.name)
      .filter((name) => /^(sys_exit_|tail_|kmon_sys_exit)/.test(name))
      .sort();

  it('a process-only session loads no syscall program; a file session does; closing leaves nothing', () => {
    const held = heldKernelObjects();
    const processOnly = new FileSession(['exec', 'exit', 'fork']);
    const processPrograms = syscallPrograms(held);
    processOnly.close();
    expect(processPrograms).toEqual([]);

    const file = new FileSession(['unlink']);
    const filePrograms = syscallPrograms(held);
    file.close();
    expect(filePrograms).toEqual(['sys_exit_rmdir', 'sys_exit_unlink', 'sys_exit_unlinkat']);
    expect(heldKernelObjects()).toEqual(held);
  });

  it('a network session attaches its calls as a file session does: their own tracepoints, or the dispatcher', () => {
    const held = heldKernelObjects();
    const attached = (extra: Partial<NativeConfig>) => {
      const session = new FileSession(['accept'], {}, extra);
      const programs = syscallPrograms(held);
      session.close();
      return programs;
    };
    expect(attached({ syscallFallback: false })).toEqual(['sys_exit_accept', 'sys_exit_accept4']);
    expect(attached({ syscallFallback: true })).toEqual(['kmon_sys_exit', 'tail_accept', 'tail_accept4']);
    expect(heldKernelObjects()).toEqual(held);
  });
});

describe.each([
  ['per-syscall tracepoints', { syscallFallback: false }],
  ['the sys_exit tail-call dispatcher', { syscallFallback: true }],
])('network calls through %s', (_how, extra) => {
  it('report a connect with its destination', async () => {
    const session = new FileSession(['connect'], {}, extra);
    try {
      // Port 9 (discard): refused or accepted, the connect is reported either way.
      const pid = runNode(root, `require('net').connect(9, '127.0.0.1').on('error', () => {});`);
      await session.of(pid);
      const connects = session.events.filter((e) => e.kind === 'connect' && e.pid === pid);
      expect(connects).toMatchObject([{ remote: { address: '127.0.0.1', port: 9 } }]);
    } finally {
      session.close();
    }
  });
});
