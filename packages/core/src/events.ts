// The typed event union. Every kind is one definition in ./kinds; its zod
// schema and its type both come from that table, so the schema a record is
// validated with and the type a user autocompletes are one.
import { z } from 'zod';
import { EVENT_KINDS } from './abi.js';
import { KIND_DEFINITIONS, type KindEvent } from './kinds/index.js';
import type { EventOf } from './kinds/kind.js';
import type { exec, exit, fork } from './kinds/process.js';
import type { synth } from './kinds/synth.js';
import type { imageLoad, registrySet } from './kinds/windows.js';

/** Validates any decoded event (the decoder uses each kind's own schema). */
export const kmonEventSchema = z.discriminatedUnion(
  'kind',
  KIND_DEFINITIONS.map((d) => d.schema) as unknown as [z.ZodObject, ...z.ZodObject[]],
) as unknown as z.ZodType<KmonEvent>;

export type ExecEvent = EventOf<typeof exec>;
export type ExitEvent = EventOf<typeof exit>;
export type ForkEvent = EventOf<typeof fork>;
export type SynthEvent = EventOf<typeof synth>;
export type ImageLoadEvent = EventOf<typeof imageLoad>;
export type RegistrySetEvent = EventOf<typeof registrySet>;
/** Any event a driver reports. Narrow it by `kind`. */
export type KmonEvent = KindEvent;
export type KmonEventKind = KmonEvent['kind'];
export type EventOfKind<K extends KmonEventKind> = Extract<KmonEvent, { kind: K }>;

/** Why records went missing. */
export type LossCause =
  | 'ring-full' // the kernel ring was full: the driver dropped the record and counted it
  | 'binding-queue' // the native layer's queue to JS was full (Windows)
  | 'malformed' // a record failed to decode; see `error`
  | 'unobserved' // delivered while nobody was subscribed (the grace period before detaching)
  | 'export'; // an exporter's buffer was full while its server was unreachable or slow (@kmon/nats)

/** In-band notice that records were lost, with exact counts. */
export interface LostNotice {
  kind: 'lost';
  cause: LossCause;
  /** Records lost. */
  count: number;
  /** `count` is a lower bound: a malformed batch could not be split into records after the fault. */
  atLeast?: boolean;
  /** The same count split by event kind, when the driver knows it. */
  byKind: Partial<Record<KmonEventKind, number>>;
  /** For 'malformed': the decoder's error naming the record, offset and field. */
  error?: Error;
  /** For 'ring-full': the sequence numbers seen missing, per CPU (`from` inclusive, `to` exclusive). */
  gaps?: SequenceGap[];
  /** The host whose records were lost, when the notice came from a fleet (@kmon/nats). */
  host?: string;
}

export interface SequenceGap {
  cpu: number;
  from: number;
  to: number;
}

/** What kmon streams carry: events, and notices of loss in their place. */
export type KmonMessage = KmonEvent | LostNotice;
export type KmonMessageKind = KmonMessage['kind'];

export const eventKinds: readonly KmonEventKind[] = EVENT_KINDS;

/** A duration in ns for people: "12.3ms" below a second, "4.56s" above. */
export function formatDuration(ns: bigint): string {
  const ms = Number(ns / 1000n) / 1000;
  return ms < 1000 ? `${ms.toFixed(1)}ms` : `${(ms / 1000).toFixed(2)}s`;
}
