// The processes a session knows about: seeded from the snapshot the driver
// takes at attach (kind `process`), then kept current from exec, fork and
// exit events, so that any event can be resolved to its process (argv, exe,
// parent, user...) without the driver copying all of it into every record.
// Bounded: least recently used processes are forgotten past `capacity`, and
// exited ones stay only `lingerMs` (event time) so late events still resolve.
import type { EventOfKind, ExecEvent, ExitEvent, ForkEvent, KmonEvent } from '../events.js';
import { processKey } from './key.js';

/** What the table takes from a `process` snapshot record (kind 22). */
export type ProcessSnapshot = Pick<
  EventOfKind<'process'>,
  'pid' | 'cgroupId' | 'startTime' | 'parentStartTime' | 'ppid' | 'uid' | 'gid' | 'comm' | 'exe' | 'cwd' | 'argv' | 'approximate'
>;

/** How a process ended. */
export interface ProcessExit {
  /** Exit status when it exited by itself. */
  code: number;
  /** Terminating signal, 0 when it exited by itself. */
  signal: number;
  coreDumped: boolean;
  /** When it exited (event time, CLOCK_MONOTONIC ns). */
  time: bigint;
}

/** One process as the table knows it. Unknown values are undefined (a process forked by one the table never saw). */
export interface ProcessEntry {
  /** processKey(bootId, pid, startTime): the same on every event of this process. */
  readonly key: string;
  readonly pid: number;
  /** Kernel start time, ns (the events' clock). */
  readonly startTime: bigint;
  /** Parent pid. */
  readonly ppid: number | undefined;
  /** The parent's key. */
  readonly parentKey: string | undefined;
  /** Process name (at most 15 bytes). */
  readonly comm: string;
  /** Executable, absolute path resolved by the kernel. */
  readonly exe: string | undefined;
  /** Arguments of its last exec (inherited across fork), argv[0] first. */
  readonly argv: readonly string[] | undefined;
  /** Working directory at its last exec or at the snapshot. */
  readonly cwd: string | undefined;
  /** Real user id. */
  readonly uid: number | undefined;
  /** Real group id. */
  readonly gid: number | undefined;
  /** cgroup v2 id when last seen. */
  readonly cgroupId: bigint;
  /** Seeded from /proc: its start time (and so its key) is approximate. */
  readonly approximate: boolean;
  /** Set once it exited; it stays in the table `lingerMs` more. */
  readonly exit: ProcessExit | undefined;
}

export interface ProcessTableOptions {
  /** Most processes kept; beyond it the least recently used are forgotten. Default 16384. */
  capacity?: number;
  /** How long (ms of event time) an exited process still resolves, for events that arrive after its exit. Default 5000. */
  lingerMs?: number;
}

export const DEFAULT_PROCESS_CAPACITY = 16_384;
export const DEFAULT_EXIT_LINGER_MS = 5_000;
/** An approximate start time (/proc: 10 ms ticks) matches exact ones this close. */
const APPROXIMATE_WITHIN_NS = 20_000_000n;

export class ProcessTable {
  readonly capacity: number;
  readonly #lingerNs: bigint;
  /** By key, least recently used first (Map keeps insertion order; a use re-inserts). */
  readonly #byKey = new Map<string, ProcessEntry>();
  /** pid -> the newest process with that pid (the entry #byKey holds under its key). */
  readonly #byPid = new Map<number, ProcessEntry>();
  /** The most recently used entry (last in #byKey): using it again moves nothing. */
  #mostRecent: ProcessEntry | undefined;
  /** The last lookup's question and answer. */
  #lastLookup: { pid: number; startTime: bigint | undefined; found: ProcessEntry | undefined } = { pid: -1, startTime: undefined, found: undefined };
  /** Exited processes in exit order, with when they may go. */
  readonly #lingering: Array<{ key: string; until: bigint }> = [];

  constructor(
    /** The session's boot id (SessionClock.bootId), part of every key. */
    readonly bootId: string,
    options: ProcessTableOptions = {},
  ) {
    this.capacity = options.capacity ?? DEFAULT_PROCESS_CAPACITY;
    if (!Number.isInteger(this.capacity) || this.capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.#lingerNs = BigInt(Math.round((options.lingerMs ?? DEFAULT_EXIT_LINGER_MS) * 1e6));
  }

  /** Processes held now. */
  get size(): number {
    return this.#byKey.size;
  }

  keyOf(pid: number, startTime: bigint): string {
    return processKey(this.bootId, pid, startTime);
  }

  /** Adds a process that existed when the session attached. */
  seed(record: ProcessSnapshot): ProcessEntry {
    return this.#put({
      key: this.keyOf(record.pid, record.startTime),
      pid: record.pid,
      startTime: record.startTime,
      ppid: record.ppid,
      parentKey: record.ppid === 0 ? undefined : this.keyOf(record.ppid, record.parentStartTime),
      comm: record.comm,
      exe: record.exe,
      argv: record.argv,
      cwd: record.cwd,
      uid: record.uid,
      gid: record.gid,
      cgroupId: record.cgroupId,
      approximate: record.approximate,
      exit: undefined,
    });
  }

  /** Keeps the table current: exec, fork and exit change it; every event's time lets exited processes go. */
  observe(event: KmonEvent): void {
    this.#expire(event.time);
    if (event.kind === 'process') this.seed(event);
    else if (event.kind === 'exec') this.#exec(event);
    else if (event.kind === 'fork' && !event.thread) this.#fork(event);
    else if (event.kind === 'exit') this.#exit(event);
  }

  /**
   * The process (pid, startTime), or without a start time the newest process
   * with that pid. Counts as a use (it becomes the most recently used).
   */
  lookup(pid: number, startTime?: bigint): ProcessEntry | undefined {
    // Events come in runs of one process: the last question again, while its answer is still the most
    // recently used entry (nothing added, moved or removed since), has the same answer, without the Map
    // lookup per event that showed in live profiles.
    const last = this.#lastLookup;
    if (last.found !== undefined && last.found === this.#mostRecent && last.pid === pid && last.startTime === startTime) return last.found;
    const entry = startTime === undefined ? this.#newest(pid) : this.#exact(pid, startTime);
    if (entry) this.#touch(entry);
    this.#lastLookup = { pid, startTime, found: entry };
    return entry;
  }

  /** The process with this key, without counting a use. */
  get(key: string): ProcessEntry | undefined {
    return this.#byKey.get(key);
  }

  /** Its parent, grandparent... as far as the table knows them (nearest first). */
  ancestry(entry: ProcessEntry): ProcessEntry[] {
    const chain: ProcessEntry[] = [];
    const seen = new Set([entry.key]);
    for (let key = entry.parentKey; key !== undefined && !seen.has(key); ) {
      const parent = this.#byKey.get(key);
      if (!parent) break;
      chain.push(parent);
      seen.add(key);
      key = parent.parentKey;
    }
    return chain;
  }

  /** Every process held, least recently used first. */
  entries(): IterableIterator<ProcessEntry> {
    return this.#byKey.values();
  }

  #exact(pid: number, startTime: bigint): ProcessEntry | undefined {
    const newest = this.#newest(pid);
    // The common case, found without building the key (a string per event costs more than the rest of a lookup).
    if (newest?.startTime === startTime) return newest;
    const exact = this.#byKey.get(this.keyOf(pid, startTime));
    if (exact) return exact;
    const near = newest?.approximate && abs(newest.startTime - startTime) <= APPROXIMATE_WITHIN_NS;
    return near ? newest : undefined;
  }

  #newest(pid: number): ProcessEntry | undefined {
    return this.#byPid.get(pid);
  }

  #exec(e: ExecEvent): void {
    const known = this.#exact(e.pid, e.startTime);
    if (known && known.key !== this.keyOf(e.pid, e.startTime)) this.#remove(known.key); // exact identity replaces the approximate one
    this.#put({
      key: this.keyOf(e.pid, e.startTime),
      pid: e.pid,
      startTime: e.startTime,
      ppid: e.ppid,
      parentKey: e.ppid === 0 ? undefined : this.keyOf(e.ppid, e.parentStartTime),
      comm: e.comm,
      exe: e.exe || e.filename,
      argv: e.argv,
      cwd: e.cwd || undefined,
      uid: e.uid,
      gid: e.gid,
      cgroupId: e.cgroupId,
      approximate: false,
      exit: undefined,
    });
  }

  #fork(e: ForkEvent): void {
    const parent = this.lookup(e.pid, e.parentStartTime);
    this.#put({
      key: this.keyOf(e.childPid, e.childStartTime),
      pid: e.childPid,
      startTime: e.childStartTime,
      ppid: e.pid,
      parentKey: parent?.key ?? this.keyOf(e.pid, e.parentStartTime),
      comm: e.comm,
      // A child runs its parent's image, as its parent's user, until it execs.
      exe: parent?.exe,
      argv: parent?.argv,
      cwd: parent?.cwd,
      uid: parent?.uid,
      gid: parent?.gid,
      cgroupId: e.cgroupId,
      approximate: false,
      exit: undefined,
    });
  }

  #exit(e: ExitEvent): void {
    const entry = this.#exact(e.pid, e.startTime);
    if (!entry) return;
    const exit = { code: e.exitCode, signal: e.signal, coreDumped: e.coreDumped, time: e.time };
    this.#put({ ...entry, comm: e.comm, exit });
    this.#lingering.push({ key: entry.key, until: e.time + this.#lingerNs });
    // More exits within one linger than the table can hold: the oldest go now, so this list stays bounded too.
    if (this.#lingering.length > this.capacity) this.#forgetOldestExited();
  }

  #expire(now: bigint): void {
    while (this.#lingering.length > 0 && this.#lingering[0]!.until <= now) this.#forgetOldestExited();
  }

  #forgetOldestExited(): void {
    const { key } = this.#lingering.shift()!;
    if (this.#byKey.get(key)?.exit) this.#remove(key);
  }

  #put(entry: ProcessEntry): ProcessEntry {
    this.#byKey.delete(entry.key);
    this.#byKey.set(entry.key, entry);
    this.#mostRecent = entry;
    this.#byPid.set(entry.pid, entry);
    if (this.#byKey.size > this.capacity) this.#remove(this.#byKey.keys().next().value!);
    return entry;
  }

  #touch(entry: ProcessEntry): void {
    if (entry === this.#mostRecent) return; // events come in runs of one process: most uses move nothing
    this.#byKey.delete(entry.key);
    this.#byKey.set(entry.key, entry);
    this.#mostRecent = entry;
  }

  #remove(key: string): void {
    const entry = this.#byKey.get(key);
    if (!entry) return;
    this.#byKey.delete(key);
    if (this.#byPid.get(entry.pid) === entry) this.#byPid.delete(entry.pid);
    if (this.#mostRecent === entry) this.#mostRecent = undefined;
  }
}

const abs = (n: bigint) => (n < 0n ? -n : n);
