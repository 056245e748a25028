// Events for the process-context tests: a decoded all-zero record of the kind
// with the given properties on top, so every other property is as real.
import { decodeBatch } from '../src/decoder.js';
import type { EventOfKind, KmonEventKind } from '../src/events.js';
import { encodeRecord } from '../src/testing/encode.js';

export function eventOf<K extends KmonEventKind>(kind: K, props: Partial<EventOfKind<K>>): EventOfKind<K> {
  const [base] = decodeBatch(encodeRecord({ kind })).events;
  return { ...(base as EventOfKind<K>), ...props };
}

export const BOOT = '6f1c2e0a-9d7b-4c1e-8f00-1234567890ab';

/** A process snapshot record (kind 22) as the binding delivers it at attach: init unless told otherwise. */
export function snapshotOf(props: Partial<EventOfKind<'process'>> & Pick<EventOfKind<'process'>, 'pid' | 'startTime'>) {
  return eventOf('process', {
    time: 1n,
    cgroupId: 1n,
    comm: 'init',
    exe: '/sbin/init',
    cwd: '/',
    argv: ['/sbin/init'],
    ...props,
  });
}
