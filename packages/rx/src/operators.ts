// Typed operators over kmon streams. Filters by process let loss notices
// through: a filter must never hide that records went missing.
import type { ContextMessage, KmonMessage, KmonMessageKind, LostNotice } from '@kmon/core';
import { filter, type MonoTypeOperatorFunction, type OperatorFunction } from 'rxjs';

/** The messages of kind K among M (a session's messages by default: events with their context). */
export type MessageOfKind<K extends KmonMessageKind, M extends KmonMessage = ContextMessage> = Extract<M, { kind: K }>;

/** Keeps the named kinds and narrows the type: on a session's stream `ofKind('exit')` yields ExitEvent with its context. */
export function ofKind<K extends KmonMessageKind, M extends KmonMessage = ContextMessage>(
  ...kinds: [K, ...K[]]
): OperatorFunction<M, MessageOfKind<K, M>> {
  const wanted = new Set<KmonMessageKind>(kinds);
  return filter((message): message is MessageOfKind<K, M> => wanted.has(message.kind));
}

const isLost = (message: KmonMessage): message is LostNotice => message.kind === 'lost';

/** Keeps events whose process (or, for fork, child process) is one of `pids`, and every loss notice. */
export function wherePid<T extends KmonMessage>(...pids: number[]): MonoTypeOperatorFunction<T> {
  const wanted = new Set(pids);
  return filter((m) => isLost(m) || wanted.has(m.pid) || (m.kind === 'fork' && wanted.has(m.childPid)));
}

/** Keeps events whose process name is one of `names`, and every loss notice. */
export function whereComm<T extends KmonMessage>(...names: string[]): MonoTypeOperatorFunction<T> {
  const wanted = new Set(names);
  return filter((m) => isLost(m) || ('comm' in m && wanted.has(m.comm)));
}
