// Events for the process-context tests: a decoded all-zero record of the kind
// with the given properties on top, so every other property is as real.
import { decodeBatch } from '../src/decoder.js';
import type { EventOfKind, KmonEventKind } from '../src/events.js';
import { encodeRecord } from '../src/testing/encode.js';
import type { ProcessSnapshot } from '../src/process/table.js';

export function eventOf<K extends KmonEventKind>(kind: K, props: Partial<EventOfKind<K>>): EventOfKind<K> {
  const [base] = decodeBatch(encodeRecord({ kind })).events;
  return { ...(base as EventOfKind<K>), ...props };
}

export const BOOT = '6f1c2e0a-9d7b-4c1e-8f00-1234567890ab';

/** A process snapshot record (kind 22) as the binding delivers it at attach. */
export function snapshotOf(props: Partial<ProcessSnapshot> & Pick<ProcessSnapshot, 'pid' | 'startTime'>) {
  const base = eventOf('exec', { time: 1n });
  const snapshot: ProcessSnapshot = {
    cgroupId: 1n,
    parentStartTime: 0n,
    ppid: 0,
    uid: 0,
    gid: 0,
    comm: 'init',
    exe: '/sbin/init',
    cwd: '/',
    argv: ['/sbin/init'],
    approximate: false,
    ...props,
  };
  return { ...base, ...snapshot, kind: 'process' } as unknown as EventOfKind<'exec'> & ProcessSnapshot;
}
