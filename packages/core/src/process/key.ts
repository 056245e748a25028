// Which process an event is about, and the key that names that process on
// every kind of event. A pid alone is reused; (pid, start time) is not within
// one boot, and the boot id makes it unique across boots and machines (the
// role Tetragon's exec_id plays).
import type { KmonEvent } from '../events.js';

/**
 * The stable key of a process: `<bootId>:<pid>:<startTime>`, the same on
 * every event of that process (exec, exit, fork's parent or child, file...).
 * `startTime` is the kernel's process start time in ns, as events carry it.
 */
export function processKey(bootId: string, pid: number, startTime: bigint): string {
  return `${bootId}:${pid}:${startTime}`;
}

/** A process's identity within one boot: its pid and start time (undefined when the event does not carry it). */
export interface ProcessIdentity {
  pid: number;
  startTime: bigint | undefined;
}

/**
 * The process that did what the event reports: fork names its parent
 * (pid, parentStartTime); kinds carrying `startTime` (exec, exit, file and
 * network kinds, process snapshots) name (pid, startTime); the others
 * (exec-failed, synth, Windows kinds) only the pid.
 */
export function processIdentity(event: KmonEvent): ProcessIdentity {
  if (event.kind === 'fork') return { pid: event.pid, startTime: event.parentStartTime };
  return { pid: event.pid, startTime: 'startTime' in event ? event.startTime : undefined };
}
