// The process tree the page builds from the rows' process context (key and
// parent key, as the session's process table names them), seeded with the
// processes running when the session attached (`process` rows) and kept
// current by exec, fork and exit; file and network rows are attached to the
// process that did them. Bounded: the oldest exited processes go first past
// MAX_PROCESSES.
import type { Row } from '../protocol.js';

export interface Proc {
  key: string;
  pid: number;
  ppid?: number | undefined;
  parentKey?: string | undefined;
  comm?: string | undefined;
  argv?: string[] | undefined;
  exe?: string | undefined;
  container?: string | undefined;
  startMs?: number | undefined;
  endMs?: number | undefined;
  exit?: { code: number; signal: number } | undefined;
  /** Its file and network rows (the latest MAX_PROC_EVENTS). */
  events: Row[];
}

const MAX_PROCESSES = 20_000;
const MAX_PROC_EVENTS = 500;
const PROCESS_KINDS = new Set(['exec', 'fork', 'exit', 'process', 'exec-failed', 'synth']);

/** What every row says about its own process (a fork's: about the parent). */
function learn(proc: Proc, row: Row) {
  if (row.comm) proc.comm = row.comm;
  if (row.startMs !== undefined) proc.startMs = row.startMs;
  if (row.container) proc.container = row.container;
  if (row.ppid !== undefined) proc.ppid = row.ppid;
  if (row.parentKey) proc.parentKey = row.parentKey;
}

export class ProcessTree {
  readonly procs = new Map<string, Proc>();
  private readonly byPid = new Map<number, string>();

  private ensure(key: string, pid: number): Proc {
    let proc = this.procs.get(key);
    if (!proc) {
      proc = { key, pid, events: [] };
      this.procs.set(key, proc);
      this.byPid.set(pid, key);
      if (this.procs.size > MAX_PROCESSES) this.evict();
    }
    return proc;
  }

  /** The process a row belongs to: by key, else the latest process with its pid. */
  processOf(row: Row): Proc | undefined {
    const key = row.key ?? (row.pid === undefined ? undefined : this.byPid.get(row.pid));
    return key === undefined ? undefined : this.procs.get(key);
  }

  add(row: Row): void {
    if (row.kind === 'lost') return;
    const proc = row.key !== undefined && row.pid !== undefined ? this.ensure(row.key, row.pid) : this.processOf(row);
    if (!proc) return;
    learn(proc, row);
    if (!PROCESS_KINDS.has(row.kind)) return this.attach(proc, row);
    if (row.kind === 'fork' && row.child) {
      const child = this.ensure(row.child.key, row.child.pid);
      child.startMs = row.child.startMs;
      child.ppid = row.pid;
      child.parentKey = proc.key;
      child.comm ??= proc.comm;
      child.argv ??= proc.argv;
      child.container ??= proc.container;
    } else if (row.kind === 'exit') {
      proc.endMs = row.timeMs;
      proc.exit = row.exit;
    } else if (row.kind === 'exec' || row.kind === 'process') {
      proc.argv = row.argv;
      proc.exe = row.exe;
    }
  }

  private attach(proc: Proc, row: Row) {
    proc.events.push(row);
    if (proc.events.length > MAX_PROC_EVENTS) proc.events.splice(0, proc.events.length - MAX_PROC_EVENTS);
  }

  /** Forgets the oldest tenth of exited processes. */
  private evict() {
    const exited = [...this.procs.values()].filter((p) => p.endMs !== undefined).sort((a, b) => a.endMs! - b.endMs!);
    for (const proc of exited.slice(0, Math.max(1, exited.length / 10))) {
      this.procs.delete(proc.key);
      if (this.byPid.get(proc.pid) === proc.key) this.byPid.delete(proc.pid);
    }
  }

  /** Parent first: the process and its known ancestors. */
  ancestry(key: string): Proc[] {
    const chain: Proc[] = [];
    for (let proc = this.procs.get(key); proc && chain.length < 64; proc = proc.parentKey ? this.procs.get(proc.parentKey) : undefined) {
      chain.push(proc);
    }
    return chain;
  }

  /** Each known process's children, oldest first; '' holds the processes with no known parent. */
  children(): Map<string, Proc[]> {
    const byParent = new Map<string, Proc[]>();
    const sorted = [...this.procs.values()].sort((a, b) => (a.startMs ?? 0) - (b.startMs ?? 0));
    for (const proc of sorted) {
      const parent = proc.parentKey && this.procs.has(proc.parentKey) ? proc.parentKey : '';
      const list = byParent.get(parent) ?? [];
      list.push(proc);
      byParent.set(parent, list);
    }
    return byParent;
  }

  /**
   * What the tree shows for a search: the processes whose pid is `query`, or
   * whose name or arguments contain it, with their ancestors and descendants;
   * undefined (everything) for an empty query.
   */
  matching(query: string): Set<string> | undefined {
    const wanted = query.trim();
    if (wanted === '') return undefined;
    const pid = /^\d+$/u.test(wanted) ? Number(wanted) : undefined;
    const hit = (p: Proc) => (pid !== undefined ? p.pid === pid : (p.comm ?? '').includes(wanted) || (p.argv ?? []).some((a) => a.includes(wanted)));
    const children = this.children();
    const shown = new Set<string>();
    const down = (proc: Proc) => {
      shown.add(proc.key);
      children.get(proc.key)?.forEach(down);
    };
    for (const proc of this.procs.values()) {
      if (!hit(proc)) continue;
      down(proc);
      this.ancestry(proc.key).forEach((p) => shown.add(p.key));
    }
    return shown;
  }

  /** The keys of the processes with `pid` and all their known descendants. */
  subtreeOfPid(pid: number): Set<string> {
    const children = this.children();
    const keys = new Set<string>();
    const visit = (proc: Proc) => {
      if (keys.has(proc.key)) return;
      keys.add(proc.key);
      children.get(proc.key)?.forEach(visit);
    };
    for (const proc of this.procs.values()) if (proc.pid === pid) visit(proc);
    return keys;
  }
}
