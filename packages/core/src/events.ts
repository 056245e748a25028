// The typed event union. Every type is inferred from its zod schema, so the
// schema a record is validated with and the type a user autocompletes are one.
import { z } from 'zod';
import { EVENT_KINDS } from './abi.js';

const u32 = z.number().int().min(0).max(0xffff_ffff);
const u64 = z.bigint().min(0n).max(0xffff_ffff_ffff_ffffn);

/** Fields every event carries, from the record header. */
const common = {
  /** CPU the driver recorded the event on. */
  cpu: u32,
  /** Per-CPU sequence number: a gap on one CPU means records were dropped there. */
  seq: z.number().int().min(0),
  /** Kernel monotonic clock (CLOCK_MONOTONIC) in ns, exact. */
  time: u64,
  /** Process (thread group) id of the task that caused the event. */
  pid: u32,
  /** Thread id of that task. */
  tid: u32,
  /** cgroup v2 id (0 on Windows). */
  cgroupId: u64,
};

/** Process names are at most 15 bytes in the kernel (TASK_COMM_LEN - 1). */
const comm = z.string().max(64);

export const execEventSchema = z.object({
  kind: z.literal('exec'),
  ...common,
  ppid: u32,
  uid: u32,
  gid: u32,
  comm,
  /** Executable path as passed to exec. */
  filename: z.string(),
  argv: z.array(z.string()),
  /** Number of arguments passed, also when argv was cut. */
  argc: u32,
  /** Process start time (same clock as `time`): with pid, the process identity. */
  startTime: u64,
  parentStartTime: u64,
  truncated: z.object({ filename: z.boolean(), argv: z.boolean() }),
});

export const exitEventSchema = z.object({
  kind: z.literal('exit'),
  ...common,
  startTime: u64,
  /** Exit status, when the process exited rather than being killed. */
  exitCode: z.number().int(),
  /** Terminating signal, 0 when the process exited by itself. */
  signal: z.number().int().min(0).max(127),
  coreDumped: z.boolean(),
  comm,
});

export const forkEventSchema = z.object({
  kind: z.literal('fork'),
  ...common,
  parentStartTime: u64,
  childPid: u32,
  childTid: u32,
  /** Start of the child *process* (for a thread, its process's): with childPid, the child's identity. */
  childStartTime: u64,
  /** The child is a thread of the parent (reported only with `threads: true`). */
  thread: z.boolean(),
  comm,
});

export const synthEventSchema = z.object({
  kind: z.literal('synth'),
  ...common,
  value: u64,
  /** Filler text of the configured size: decoded like any path, so benchmarks pay for strings. */
  payload: z.string(),
  truncated: z.object({ payload: z.boolean() }),
});

export const imageLoadEventSchema = z.object({
  kind: z.literal('image-load'),
  ...common,
  imageBase: u64,
  imageSize: u64,
  path: z.string(),
  truncated: z.object({ path: z.boolean() }),
});

export const registrySetEventSchema = z.object({
  kind: z.literal('registry-set'),
  ...common,
  key: z.string(),
  valueName: z.string(),
  valueType: u32,
  dataSize: u32,
  truncated: z.object({ key: z.boolean(), valueName: z.boolean() }),
});

export const kmonEventSchema = z.discriminatedUnion('kind', [
  execEventSchema,
  exitEventSchema,
  forkEventSchema,
  synthEventSchema,
  imageLoadEventSchema,
  registrySetEventSchema,
]);

/** The compiled validator the decoder runs on every record. */
export const compiledEventSchema = z.compile(kmonEventSchema);

export type ExecEvent = z.infer<typeof execEventSchema>;
export type ExitEvent = z.infer<typeof exitEventSchema>;
export type ForkEvent = z.infer<typeof forkEventSchema>;
export type SynthEvent = z.infer<typeof synthEventSchema>;
export type ImageLoadEvent = z.infer<typeof imageLoadEventSchema>;
export type RegistrySetEvent = z.infer<typeof registrySetEventSchema>;
export type KmonEvent = z.infer<typeof kmonEventSchema>;
export type KmonEventKind = KmonEvent['kind'];
export type EventOfKind<K extends KmonEventKind> = Extract<KmonEvent, { kind: K }>;

/** Why records went missing. */
export type LossCause =
  | 'ring-full' // the kernel ring was full: the driver dropped the record and counted it
  | 'binding-queue' // the native layer's queue to JS was full (Windows)
  | 'malformed' // a record failed to decode; see `error`
  | 'unobserved'; // delivered while nobody was subscribed (the grace period before detaching)

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
}

export interface SequenceGap {
  cpu: number;
  from: number;
  to: number;
}

/** What kmon streams carry: events, and notices of loss in their place. */
export type KmonMessage = KmonEvent | LostNotice;
export type KmonMessageKind = KmonMessage['kind'];

/** A process is identified by (pid, startTime): pids are reused, start times are not. */
export function processKey(pid: number, startTime: bigint): string {
  return `${pid}@${startTime}`;
}

export const eventKinds: readonly KmonEventKind[] = EVENT_KINDS;

/** A duration in ns for people: "12.3ms" below a second, "4.56s" above. */
export function formatDuration(ns: bigint): string {
  const ms = Number(ns / 1000n) / 1000;
  return ms < 1000 ? `${ms.toFixed(1)}ms` : `${(ms / 1000).toFixed(2)}s`;
}
