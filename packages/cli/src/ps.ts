// `kmon ps`: the processes running now, from the snapshot every session
// starts with (the same records that seed a session's process table), with
// their keys, users and containers; as a list or a tree, for people or programs.
import { Option, type Command } from 'commander';
import { createKmon, safe, shellWord, type ContainerRef, type ContextMessage, type KmonConfig } from 'kmon';
import { FORMATS, type Format } from './format.js';
import type { Io } from './io.js';
import { dateTime } from './time.js';

export interface PsOptions {
  format: Format;
  /** Children under their parents. */
  tree: boolean;
  /** Start times in UTC rather than local time. */
  utc: boolean;
}

/** One process, as `kmon ps --format json` prints it. */
export interface PsRow {
  /** Process key: the same as on every event of this process. */
  key: string;
  pid: number;
  ppid: number;
  parentKey: string | undefined;
  uid: number;
  user: string | undefined;
  gid: number;
  group: string | undefined;
  container: ContainerRef | undefined;
  cgroupPath: string | undefined;
  /** Start time on the wall clock, ISO 8601 (UTC). */
  started: string;
  /** Start time, ns on the events' clock. */
  startTime: bigint;
  comm: string;
  exe: string;
  cwd: string;
  argv: string[];
  /** Read from /proc: start time at clock-tick resolution. */
  approximate: boolean;
  /** With --tree, in JSON: the processes it started. */
  children?: PsRow[];
}

type SnapshotEvent = Extract<ContextMessage, { kind: 'process' }>;

function rowOf(e: SnapshotEvent): PsRow {
  const startedNs = e.wallTimeNs - e.time + e.startTime;
  return {
    key: e.process.key!,
    pid: e.pid,
    ppid: e.ppid,
    parentKey: e.process.parentKey,
    uid: e.uid,
    user: e.process.user,
    gid: e.gid,
    group: e.process.group,
    container: e.process.container,
    cgroupPath: e.process.cgroupPath,
    started: new Date(Number(startedNs / 1_000_000n)).toISOString(),
    startTime: e.startTime,
    comm: e.comm,
    exe: e.exe,
    cwd: e.cwd,
    argv: e.argv,
    approximate: e.approximate,
  };
}

/** Reads the snapshot: a pull session asking only for it, drained until nothing more waits. */
export function snapshot(config: KmonConfig): PsRow[] {
  const kmon = createKmon({ kinds: ['process'], wakeup: 'pull' }, { ...config, graceMs: 0 });
  const attached = kmon.events$.subscribe();
  const rows: PsRow[] = [];
  try {
    for (let messages = kmon.read(); messages.length > 0; messages = kmon.read()) {
      for (const m of messages) if (m.kind === 'process') rows.push(rowOf(m));
    }
  } finally {
    attached.unsubscribe();
    kmon.stop();
  }
  return rows.sort((a, b) => a.pid - b.pid);
}

/** Rows in tree order (each parent before its children, children by pid), with their depth. */
function forest(rows: PsRow[]): Array<{ row: PsRow; depth: number }> {
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const children = new Map<string, PsRow[]>();
  const roots: PsRow[] = [];
  for (const row of rows) {
    const parent = row.parentKey !== undefined && byKey.has(row.parentKey) ? row.parentKey : undefined;
    if (parent === undefined) roots.push(row);
    else children.set(parent, [...(children.get(parent) ?? []), row]);
  }
  const out: Array<{ row: PsRow; depth: number }> = [];
  const visit = (row: PsRow, depth: number) => {
    out.push({ row, depth });
    for (const child of children.get(row.key) ?? []) visit(child, depth + 1);
  };
  roots.forEach((root) => visit(root, 0));
  return out;
}

/** The rows nested by parent, for JSON. */
function nested(rows: PsRow[]): PsRow[] {
  const copies = new Map(rows.map((r) => [r.key, { ...r, children: [] as PsRow[] }]));
  const roots: PsRow[] = [];
  for (const row of copies.values()) {
    const parent = row.parentKey === undefined ? undefined : copies.get(row.parentKey);
    (parent ? parent.children! : roots).push(row);
  }
  return roots;
}

const container = (c: ContainerRef | undefined) => (c ? `${c.runtime}:${c.id.slice(0, 12)}` : '-');
const command = (row: PsRow) => (row.argv.length > 0 ? safe`${row.argv.map(shellWord)}` : safe`[${row.comm}]`);

function text(rows: PsRow[], tree: boolean, utc: boolean): string {
  const lines = (tree ? forest(rows) : rows.map((row) => ({ row, depth: 0 }))).map(({ row, depth }) => [
    String(row.pid),
    String(row.ppid),
    safe`${row.user ?? row.uid}`.text,
    container(row.container),
    dateTime(BigInt(Date.parse(row.started)) * 1_000_000n, utc) + (row.approximate ? '~' : ''),
    `${'  '.repeat(depth)}${depth > 0 ? '\\_ ' : ''}${command(row).text}`,
    row.key,
  ]);
  const header = ['PID', 'PPID', 'USER', 'CONTAINER', 'STARTED', 'COMMAND', 'KEY'];
  const all = [header, ...lines];
  const widths = header.map((_, i) => Math.max(...all.map((cells) => cells[i]!.length)));
  // COMMAND varies most: KEY goes last, after a two-space gap, instead of padding every command.
  return all.map((cells) => cells.map((cell, i) => (i < 5 ? cell.padEnd(widths[i]!) : cell)).join('  ')).join('\n') + '\n';
}

const toJson = (value: unknown, indent?: number) =>
  JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), indent);

/** Prints the processes running now; 0 when the snapshot could be read. */
export function ps(options: PsOptions, io: Io, config: KmonConfig = {}): number {
  const rows = snapshot(config);
  switch (options.format) {
    case 'text':
      io.stdout.write(text(rows, options.tree, options.utc));
      break;
    case 'json':
      io.stdout.write(toJson(options.tree ? nested(rows) : rows, 2) + '\n');
      break;
    case 'jsonl':
      for (const { row, depth } of options.tree ? forest(rows) : rows.map((row) => ({ row, depth: 0 }))) {
        io.stdout.write(toJson(options.tree ? { ...row, depth } : row) + '\n');
      }
      break;
  }
  return 0;
}

/** `kmon ps [--format text|json|jsonl] [--tree] [--utc]`. */
export function psCommand(
  command: Command,
  { io, config, attempt }: { io: Io; config: KmonConfig; attempt: (work: () => Promise<void>) => Promise<void> },
): Command {
  return command
    .description('the processes running now (the snapshot every session starts with): keys, parents, users, containers')
    .addOption(new Option('-f, --format <format>', 'output format').choices(FORMATS).default('text'))
    .option('--tree', 'children under their parents (json: nested in `children`; jsonl: with `depth`)')
    .option('--utc', 'start times in UTC (default: local time with its offset, honouring TZ)')
    .action((flags: { format: Format; tree?: boolean; utc?: boolean }) =>
      attempt(async () => {
        ps({ format: flags.format, tree: flags.tree ?? false, utc: flags.utc ?? false }, io, config);
      }),
    );
}
