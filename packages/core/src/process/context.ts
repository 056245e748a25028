// The context every event gains above the binding: which process did it
// (resolved through the session's process table), as whom, in which
// container, and when on the wall clock. Host facts (user names, cgroup
// paths) come from HostLookups, injected by whoever knows the host (the
// `kmon` package on Linux); without them those fields are undefined, so
// replays and browsers work unchanged.
import type { SessionClock } from '../binding.js';
import { containerOfCgroupPath, type ContainerRef } from '../container.js';
import type { KmonEvent, LostNotice } from '../events.js';
import { processIdentity, processKey } from './key.js';
import type { ProcessEntry, ProcessTable } from './table.js';

/** Facts about the host an event's ids refer to. Each may be absent or answer undefined. */
export interface HostLookups {
  /** The user name of a uid (/etc/passwd). */
  userName?(uid: number): string | undefined;
  /** The group name of a gid (/etc/group). */
  groupName?(gid: number): string | undefined;
  /** The cgroup v2 path (below the cgroup root, starting with '/') of a cgroup id. */
  cgroupPath?(cgroupId: bigint): string | undefined;
}

/** Who did what an event reports. Values the session cannot know are undefined. */
export interface ProcessContext {
  /** Stable process key, `<bootId>:<pid>:<startTime>`: the same on every event of the process (undefined when neither the event nor the table gives a start time). */
  readonly key: string | undefined;
  /** Process start time, ns (the events' clock). */
  readonly startTime: bigint | undefined;
  /** Parent pid. */
  readonly ppid: number | undefined;
  /** The parent's process key; `Kmon.ancestry(event)` walks the whole chain. */
  readonly parentKey: string | undefined;
  /** Process name (at most 15 bytes). */
  readonly comm: string | undefined;
  /** Executable, absolute path resolved by the kernel. */
  readonly exe: string | undefined;
  /** Arguments of the process's last exec (those of its parent's, when it forked and did not exec since). */
  readonly argv: readonly string[] | undefined;
  /** Working directory at its last exec (or when the session attached). */
  readonly cwd: string | undefined;
  /** Real user id. */
  readonly uid: number | undefined;
  /** Real group id. */
  readonly gid: number | undefined;
  /** The uid's user name on this host. */
  readonly user: string | undefined;
  /** The gid's group name on this host. */
  readonly group: string | undefined;
  /** The event's cgroup v2 path, e.g. `/system.slice/docker-<id>.scope`. */
  readonly cgroupPath: string | undefined;
  /** The container the cgroup belongs to (docker, containerd, cri-o, podman). */
  readonly container: ContainerRef | undefined;
  /** The process was seeded from /proc: its start time and key are approximate. */
  readonly approximate: boolean;
}

/** What every event carries on top of its kind's fields. */
export interface EventContext {
  /** The process that did it, resolved through the session's process table. */
  readonly process: ProcessContext;
  /**
   * `time` on the wall clock (ms precision; `wallTimeNs` has it exactly).
   * Events of one millisecond share one Date, so it is read-only: its
   * setters throw (copy it, `new Date(e.wallTime)`, to change it).
   */
  readonly wallTime: Date;
  /** `time` as ns since the Unix epoch (UTC), exact: `time + realtimeOffsetNs`. */
  readonly wallTimeNs: bigint;
  /**
   * The host that recorded the event, when a fleet delivers it (its
   * exporter's `--host` name, as in `kmon watch --from nats://...`);
   * undefined for a session's own events. Process keys, wall times and
   * ancestry are that host's.
   */
  readonly host: string | undefined;
}

/**
 * EventContext's properties. A session decodes events with them present
 * (undefined) and the resolver fills them in place: the event is then
 * allocated at its final size with its final shape, where four stores that
 * added properties measured ~17 ns an event (a new hidden class per store and
 * an out-of-object property array).
 */
export const EVENT_CONTEXT_KEYS = ['process', 'wallTime', 'wallTimeNs', 'host'] as const satisfies ReadonlyArray<keyof EventContext>;

/** An event as kmon sessions deliver it: its kind's fields and its context. */
export type ContextEvent = KmonEvent & EventContext;
/** What kmon session streams carry: events with context, and loss notices in their place. */
export type ContextMessage = ContextEvent | LostNotice;

/** Ns since the Unix epoch -> Date (ms, rounded down). */
export const dateOfEpochNs = (ns: bigint): Date => new Date(Number(ns / 1_000_000n));

const SHARED_DATE_SETTER = 'an event\'s wallTime is shared by the events of its millisecond: copy it (new Date(e.wallTime)) to change it';

/** A Date whose setters throw: what EventContext.wallTime is, one per millisecond shared by its events. */
class SharedDate extends Date {}
for (const name of Object.getOwnPropertyNames(Date.prototype).filter((n) => n.startsWith('set'))) {
  Object.defineProperty(SharedDate.prototype, name, {
    value() {
      throw new TypeError(SHARED_DATE_SETTER);
    },
  });
}

/**
 * wallTime of epoch ns: the Date of the millisecond the last event fell in
 * when this one falls in it too (a Date per event was the costliest part of
 * an event's context).
 */
function wallTimes(): (ns: bigint) => Date {
  let from = 0n;
  let to = 0n;
  let date = new SharedDate(0);
  return (ns) => {
    if (ns >= from && ns < to) return date;
    const ms = ns / 1_000_000n;
    from = ms * 1_000_000n;
    to = from + 1_000_000n;
    date = new SharedDate(Number(ms));
    return date;
  };
}

/**
 * Resolves events to their context, keeping `table` current as it goes.
 * Events must be given in the order the session delivers them. `hostName`
 * names the fleet host that recorded them (undefined for a local session);
 * `clock` and `table` are that host's.
 */
export function contextResolver(clock: SessionClock, table: ProcessTable, host: HostLookups = {}, hostName?: string) {
  const wallTimeOf = wallTimes();
  /** Context objects are shared by the events of one process while nothing about it changes. */
  const cache = new WeakMap<ProcessEntry, { context: ProcessContext; cgroupId: bigint }>();
  /** The last context given, and what it was made of: consecutive events of one process reuse it with no lookup. */
  let last: { entry: ProcessEntry | undefined; pid: number; startTime: bigint | undefined; comm: string | undefined; cgroupId: bigint; context: ProcessContext } | undefined;
  const cgroup = (cgroupId: bigint) => {
    const cgroupPath = cgroupId === 0n ? undefined : host.cgroupPath?.(cgroupId);
    return { cgroupPath, container: cgroupPath === undefined ? undefined : containerOfCgroupPath(cgroupPath) };
  };
  const names = (uid: number | undefined, gid: number | undefined) => ({
    user: uid === undefined ? undefined : host.userName?.(uid),
    group: gid === undefined ? undefined : host.groupName?.(gid),
  });

  const ofEntry = (entry: ProcessEntry, cgroupId: bigint): ProcessContext => {
    const cached = cache.get(entry);
    if (cached?.cgroupId === cgroupId) return cached.context;
    const context: ProcessContext = {
      key: entry.key,
      startTime: entry.startTime,
      ppid: entry.ppid,
      parentKey: entry.parentKey,
      comm: entry.comm,
      exe: entry.exe,
      argv: entry.argv,
      cwd: entry.cwd,
      uid: entry.uid,
      gid: entry.gid,
      ...names(entry.uid, entry.gid),
      ...cgroup(cgroupId),
      approximate: entry.approximate,
    };
    cache.set(entry, { context, cgroupId });
    return context;
  };

  /** A process the table does not know: what the event itself says. */
  const ofEventAlone = (event: KmonEvent, startTime: bigint | undefined, comm: string | undefined): ProcessContext => ({
    key: startTime === undefined ? undefined : processKey(clock.bootId, event.pid, startTime),
    startTime,
    ppid: undefined,
    parentKey: undefined,
    comm,
    exe: undefined,
    argv: undefined,
    cwd: undefined,
    uid: undefined,
    gid: undefined,
    user: undefined,
    group: undefined,
    ...cgroup(event.cgroupId),
    approximate: false,
  });

  /** The context of the event's process: the last one again when the event is of the same process, as it was. */
  const contextOf = (event: KmonEvent, entry: ProcessEntry | undefined, startTime: bigint | undefined): ProcessContext => {
    const comm = entry || !('comm' in event) ? undefined : event.comm;
    if (last !== undefined && last.entry === entry && last.cgroupId === event.cgroupId) {
      // A known process's context depends on its entry and cgroup only; an unknown one's on what the event says.
      if (entry || (last.pid === event.pid && last.startTime === startTime && last.comm === comm)) return last.context;
    }
    const context = entry ? ofEntry(entry, event.cgroupId) : ofEventAlone(event, startTime, comm);
    last = { entry, pid: event.pid, startTime, comm, cgroupId: event.cgroupId, context };
    return context;
  };

  return {
    /** The process that did it, and the table's view of it. */
    entryOf(event: KmonEvent): ProcessEntry | undefined {
      const { pid, startTime } = processIdentity(event);
      return table.lookup(pid, startTime);
    },
    /** Updates the table with `event` and gives the event its context (in place). */
    resolve<E extends KmonEvent>(event: E): E & EventContext {
      table.observe(event);
      const { pid, startTime } = processIdentity(event);
      const entry = table.lookup(pid, startTime);
      const wallTimeNs = event.time + clock.realtimeOffsetNs;
      // Stores rather than Object.assign: measured several times cheaper per event.
      const resolved = event as E & { -readonly [K in keyof EventContext]: EventContext[K] };
      resolved.process = contextOf(event, entry, startTime);
      resolved.wallTime = wallTimeOf(wallTimeNs);
      resolved.wallTimeNs = wallTimeNs;
      resolved.host = hostName;
      return resolved;
    },
  };
}

export type ContextResolver = ReturnType<typeof contextResolver>;
