// `pnpm kmon watch --format jsonl` on the real kernel, as a user runs it from
// the repository root: it must print valid JSON lines for real processes and
// end cleanly on Ctrl-C with its summary on stderr.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
/** pnpm alone takes seconds to start on a loaded machine: these tests wait for what they need, bounded by this. */
const SPAWN_TIMEOUT_MS = 60_000;

/** Resolves when `text()` satisfies `ready`, checking on every chunk. */
function waitFor(stream: NodeJS.ReadableStream, text: () => string, ready: (s: string) => boolean) {
  return new Promise<void>((resolve) => {
    const check = () => ready(text()) && (stream.off('data', check), resolve());
    stream.on('data', check);
    check();
  });
}

/** `pnpm kmon watch <args>` in its own process group (a job in a terminal), once it says it is watching. */
async function startWatch(args: string[]) {
  const watcher = spawn('pnpm', ['--silent', 'kmon', 'watch', ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const seen = { out: '', err: '' };
  watcher.stdout.setEncoding('utf8').on('data', (s: string) => (seen.out += s));
  watcher.stderr.setEncoding('utf8').on('data', (s: string) => (seen.err += s));
  await waitFor(watcher.stderr, () => seen.err, (s) => s.includes('watching'));
  return { watcher, seen };
}

describe('pnpm kmon watch (real kernel)', { timeout: SPAWN_TIMEOUT_MS }, () => {
  it('--format jsonl prints valid JSON lines for real processes; Ctrl-C (SIGINT to the group) ends it with status 0', async () => {
    const { watcher, seen } = await startWatch(['--format', 'jsonl', '--kinds', 'exec,exit']);

    const marker = `kmon-jsonl-${process.pid}`;
    spawnSync('/bin/echo', [marker, 'ünïcode "quoted"']);
    await waitFor(watcher.stdout, () => seen.out, (s) => s.includes(marker) && s.includes('"kind":"exit"'));
    // pnpm runs node as a child: signal the whole group as a terminal's Ctrl-C does,
    // and wait for 'close' (kmon holds the pipes): pnpm may end before kmon has summarised.
    process.kill(-watcher.pid!, 'SIGINT');
    const [code, signal] = (await once(watcher, 'close')) as [number | null, NodeJS.Signals | null];

    const { out, err } = seen;
    const lines = out.trimEnd().split('\n');
    const events = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const exec = events.find((e) => e.kind === 'exec' && (e.argv as string[])[1] === marker);
    expect(exec).toMatchObject({ filename: '/bin/echo', argv: ['/bin/echo', marker, 'ünïcode "quoted"'] });
    expect(typeof exec!.time).toBe('string');
    expect(BigInt(exec!.time as string)).toBeGreaterThan(0n);
    // kmon stops cleanly and summarises; pnpm (which passes its own SIGINT on) ends with kmon's status.
    expect(err).toMatch(/kmon watch: \d+ events, 0 lost\n$/);
    expect(err).not.toMatch(/error|ELIFECYCLE/i);
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  });

  it('text output shows hostile argv, paths and comm escaped: no raw ESC, CR or LF besides line ends', async () => {
    const { watcher, seen } = await startWatch(['--kinds', 'exec,exit']);
    const marker = `kmon-inject-${process.pid}`;
    const dir = mkdtempSync(join(tmpdir(), 'kmon-inject-'));
    const evil = join(dir, 'x\x1b[31mEVIL\x1b[0m');
    const forged = join(dir, 'fake\nline');
    symlinkSync('/bin/true', evil);
    symlinkSync('/bin/true', forged);
    spawnSync('/bin/true', [marker, '\x1b[2J\x1b[H', 'a\nb', 'x\rOVERWRITE']);
    spawnSync(evil, [marker]);
    spawnSync(forged, [marker]);
    await waitFor(watcher.stdout, () => seen.out, (s) => s.split(marker).length > 3 && / exit +\d+ +fake\\nline /.test(s));
    process.kill(-watcher.pid!, 'SIGINT');
    await once(watcher, 'close');

    expect(seen.out).not.toMatch(/[\x1b\r]/);
    // Every line is one of kmon's own: the header, then timestamped events or loss notices, none forged by a LF.
    const [header, ...rows] = seen.out.trimEnd().split('\n');
    expect(header).toMatch(/^TIME +EVENT +PID +COMM +DETAIL$/);
    // The time of day carries its zone: local (+hh:mm, honouring TZ) or Z with --utc.
    for (const line of rows) expect(line).toMatch(/^(\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d) (exec|exit) +\d+ |\s+lost )/);
    expect(seen.out).toContain(`/bin/true ${marker} $'\\e[2J\\e[H' $'a\\nb' $'x\\rOVERWRITE'`);
    expect(seen.out).toContain(`${dir}/x\\e[31mEVIL\\e[0m`);
    expect(seen.out).toContain(`${dir}/fake\\nline`);
    expect(seen.out).toMatch(/ exit +\d+ +x\\e\[31mEVIL\\e\[0m +code=0 /);
  });

  it('watch -- <command> exits with its exit code and shows only its process tree', () => {
    const script = '/bin/echo kmon-watch-marker >&2; sh -c "/bin/true; true"; exit 4';
    const run = spawnSync('pnpm', ['--silent', 'kmon', 'watch', '-q', '--format', 'jsonl', '--', 'sh', '-c', script], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    expect(run.status, run.stderr).toBe(4);
    expect(run.stderr).toContain('kmon-watch-marker'); // the command's output goes to stderr
    const events = run.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const execs = events.filter((e) => e.kind === 'exec').map((e) => (e.argv as string[]).join(' '));
    expect(execs).toEqual([`sh -c ${script}`, '/bin/echo kmon-watch-marker', 'sh -c /bin/true; true', '/bin/true']);
    // Every event comes from the tree: the command, the processes it forked, and kmon's fork of it.
    const forks = events.filter((e) => e.kind === 'fork');
    const kmonPid = forks[0]!.pid;
    const tree = new Set([kmonPid, ...forks.map((e) => e.childPid)]);
    expect(events.filter((e) => !tree.has(e.pid as number))).toEqual([]);
    expect(events.filter((e) => e.pid === kmonPid).map((e) => e.kind)).toEqual(['fork']);
    expect(events.at(-1)).toMatchObject({ kind: 'exit', pid: forks[0]!.childPid, exitCode: 4 });
    expect(run.stderr).toMatch(/kmon watch: \d+ events, 0 lost\n$/);
  });

  // pnpm passes SIGTERM on to kmon (its child: the script execs node) and ends with kmon's status;
  // SIGHUP kills pnpm outright, and kmon stops because its launcher is gone.
  it.each([
    ['SIGTERM', { code: 0, signal: null }],
    ['SIGHUP', { code: null, signal: 'SIGHUP' }],
  ] as const)('%s to pnpm (not its group) ends kmon too: no kmon program stays attached', async (signal, pnpmEnd) => {
    const { watcher, seen } = await startWatch(['--kinds', 'exec']);
    const pnpmEnded = once(watcher, 'exit');
    const kmon = kmonNodeUnder(watcher.pid!);
    const programs = bpfProgramsOf(kmon);
    expect(programs.length).toBeGreaterThan(0);
    process.kill(watcher.pid!, signal);
    const [code, pnpmSignal] = (await pnpmEnded) as [number | null, NodeJS.Signals | null];
    expect({ code, signal: pnpmSignal }).toEqual(pnpmEnd);
    await vi.waitFor(() => expect(ended(kmon)).toBe(true), { timeout: 30_000, interval: 50 });
    const attached = programs.filter((id) => spawnSync('bpftool', ['prog', 'show', 'id', String(id)]).status === 0);
    expect(attached).toEqual([]);
    await vi.waitFor(() => expect(seen.err).toMatch(/kmon watch: \d+ events, 0 lost\n$/), { timeout: 5000, interval: 50 });
  });
});

/** Whether process `pid` has ended (gone, or a zombie its new parent has not reaped yet: its files, BPF programs included, are closed). */
function ended(pid: number): boolean {
  try {
    return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}

/** The children of `pid`. */
function childPids(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
    readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
  );
}

/** The process under `pid` (pnpm) that holds kmon's BPF programs. */
function kmonNodeUnder(pid: number): number {
  const below = childPids(pid);
  return below.find((child) => bpfProgramsOf(child).length > 0) ?? kmonNodeUnder(below[0]!);
}

/** Ids of the BPF programs process `pid` holds. */
function bpfProgramsOf(pid: number): number[] {
  return readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
    try {
      if (!readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('anon_inode:bpf-prog')) return [];
      const id = /^prog_id:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      return id ? [Number(id[1])] : [];
    } catch {
      return [];
    }
  });
}
