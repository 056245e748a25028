// What a capture says about where and how it was recorded, and the JSON
// payloads of its counter, loss and error entries, each with the schema that
// checks it on the way back in.
import { readFileSync } from 'node:fs';
import { arch, hostname, platform, release } from 'node:os';
import { ABI, EVENT_KINDS, KmonError, type BatchOrigin, type KmonErrorCode, type LostNotice, type SessionClock, type SessionOptions } from '@kmon/core';
import { z } from 'zod';
import { CORRUPT_HINT, KmonCaptureError } from './errors.js';
import { FORMAT_VERSION } from './format.js';

const KMON_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const decimal = z.string().regex(/^\d{1,20}$/, 'a decimal integer');

/** A SessionClock in JSON: its offset as a decimal string. */
const recordedClock = z.object({ bootId: z.string(), realtimeOffsetNs: z.string().regex(/^-?\d{1,20}$/, 'a decimal integer') });
type RecordedClock = z.infer<typeof recordedClock>;
const recordClock = (clock: SessionClock): RecordedClock => ({ bootId: clock.bootId, realtimeOffsetNs: String(clock.realtimeOffsetNs) });
const clockOf = (recorded: RecordedClock): SessionClock => ({ bootId: recorded.bootId, realtimeOffsetNs: BigInt(recorded.realtimeOffsetNs) });

export const captureHeaderSchema = z.object({
  /** Capture format version (FORMAT_VERSION of the kmon that wrote it). */
  format: z.number().int().positive(),
  kmonVersion: z.string(),
  /** Record ABI of the batches (ABI.version). */
  abiVersion: z.number().int().nonnegative(),
  /** The binding that recorded, e.g. "linux-ebpf". */
  binding: z.string(),
  host: z.object({
    hostname: z.string(),
    platform: z.string(),
    arch: z.string(),
    kernel: z.string(),
    /** Linux boot id: timestamps and pids are only comparable within one boot. */
    bootId: z.string().optional(),
  }),
  /** Session options the recording session ran with (parsed, with defaults). */
  options: z.record(z.string(), z.unknown()),
  /** One reading of both clocks, taken together: wall = monotonic + (wallNs - monotonicNs). */
  clock: z.object({ monotonicNs: decimal, wallNs: decimal }),
  /**
   * The recorded session's own clock (KernelSession.clock()), which replays
   * return. Absent from captures written before it existed, and when the
   * session failed to open.
   */
  sessionClock: recordedClock.optional(),
  startedAt: z.string(),
});

export type CaptureHeader = z.infer<typeof captureHeaderSchema>;

const count = z.number().int().nonnegative();
export const countersSchema = z.object({
  cpus: z.array(z.object({ attempted: count, dropped: z.array(count), truncated: count })),
  bindingDropped: count,
  ring: z.object({ usedBytes: count, sizeBytes: count }).optional(),
});

/** Where the batch after it was recorded (a fleet host), with that session's clock. */
export const originSchema = z.object({ host: z.string(), clock: recordedClock });
export const recordedOrigin = (origin: BatchOrigin) => ({ host: origin.host, clock: recordClock(origin.clock) });
export const originOf = (recorded: z.infer<typeof originSchema>): BatchOrigin => ({ host: recorded.host, clock: clockOf(recorded.clock) });

export const errorSchema = z.object({ code: z.string(), name: z.string(), message: z.string(), hint: z.string().optional() });
export type RecordedError = z.infer<typeof errorSchema>;

/** An error as recorded: its code (KMON_DRIVER when it has none), name, message and hint. */
export function recordedError(error: Error & { code?: string; hint?: string }): RecordedError {
  return { code: String(error.code ?? 'KMON_DRIVER'), name: error.name, message: error.message, ...(error.hint && { hint: error.hint }) };
}

/** A recorded error as a KmonError again, with its recorded code, name, message and hint. */
export function errorOf(recorded: RecordedError): KmonError {
  const error = new KmonError(recorded.code as KmonErrorCode, recorded.message, recorded.hint === undefined ? {} : { hint: recorded.hint });
  return Object.assign(error, { name: recorded.name });
}

/** A loss notice as recorded: its error (a malformed record's) as a recorded error. */
export const lossSchema = z.object({
  cause: z.enum(['ring-full', 'binding-queue', 'malformed', 'unobserved', 'export']),
  count,
  atLeast: z.boolean().optional(),
  byKind: z.partialRecord(z.enum(EVENT_KINDS), count),
  error: errorSchema.optional(),
  gaps: z.array(z.object({ cpu: count, from: count, to: count })).optional(),
  host: z.string().optional(),
}) satisfies z.ZodType<Omit<LostNotice, 'kind' | 'error'>, unknown>;
export type RecordedLoss = z.infer<typeof lossSchema>;

export function recordedLoss({ kind: _, error, ...notice }: LostNotice): RecordedLoss {
  return { ...notice, ...(error && { error: recordedError(error) }) };
}

/** The notice a replay reports: as recorded, its error a KmonError again. */
export function lossOf({ error, ...recorded }: RecordedLoss): LostNotice {
  return { kind: 'lost', ...recorded, ...(error && { error: errorOf(error) }) };
}

function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined; // not Linux
  }
}

/**
 * Whether the capture was recorded on this machine since it booted: then its
 * cgroup ids are this boot's and its uids this host's (a capture from
 * elsewhere should get no user or container names rather than wrong ones).
 */
export function recordedOnThisBoot(header: CaptureHeader): boolean {
  const here = bootId();
  return here !== undefined && header.host.bootId === here;
}

/** The header for a session recorded now, on this machine, with its clock when it opened. */
export function headerNow(binding: string, options: SessionOptions, sessionClock?: SessionClock): CaptureHeader {
  const monotonicNs = process.hrtime.bigint();
  const wallNs = BigInt(Date.now()) * 1_000_000n;
  const id = bootId();
  return {
    format: FORMAT_VERSION,
    kmonVersion: KMON_VERSION,
    abiVersion: ABI.version,
    binding,
    host: { hostname: hostname(), platform: platform(), arch: arch(), kernel: release(), ...(id && { bootId: id }) },
    options: options as unknown as Record<string, unknown>,
    clock: { monotonicNs: String(monotonicNs), wallNs: String(wallNs) },
    startedAt: new Date(Number(wallNs / 1_000_000n)).toISOString(),
    ...(sessionClock && { sessionClock: recordClock(sessionClock) }),
  };
}

/**
 * The recorded session's clock. A capture written before sessions had one
 * falls back to the header's own clock reading and host boot id: the
 * recorder read CLOCK_MONOTONIC (process.hrtime) against the wall clock, so
 * on Linux this is the session's clock to within a few microseconds; on
 * Windows process.hrtime is the performance counter, not interrupt time, so
 * times may be off by a little. Without a boot id (Windows), the capture's
 * start stands in for one, unique to the recording.
 */
export function sessionClockOf(header: CaptureHeader): SessionClock {
  if (header.sessionClock) {
    return clockOf(header.sessionClock);
  }
  return {
    bootId: header.host.bootId ?? `capture-${header.host.hostname}-${header.startedAt}`,
    realtimeOffsetNs: BigInt(header.clock.wallNs) - BigInt(header.clock.monotonicNs),
  };
}

/** Wall-clock ms of an event time, by the recorded session's clock. */
export function wallTimeMs(header: CaptureHeader, monotonicNs: bigint): number {
  return Number((monotonicNs + sessionClockOf(header).realtimeOffsetNs) / 1_000_000n);
}

/** Parses a JSON payload with its schema; anything wrong is a KmonCaptureError at `offset`. */
export function parseJson<T>(schema: z.ZodType<T>, payload: Uint8Array, what: string, offset: number): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('utf8'));
  } catch (cause) {
    throw new KmonCaptureError(`the ${what} is not JSON`, offset, CORRUPT_HINT, cause);
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new KmonCaptureError(`the ${what} is malformed: ${issue?.path.join('.')} ${issue?.message}`, offset, CORRUPT_HINT);
  }
  return result.data;
}

/** Refuses a header this kmon cannot replay faithfully. */
export function checkCompatible(header: CaptureHeader, offset: number): void {
  if (header.format > FORMAT_VERSION) {
    throw new KmonCaptureError(
      `the capture has format ${header.format}, this kmon reads format ${FORMAT_VERSION}`,
      offset,
      `it was written by kmon ${header.kmonVersion}: replay it with that version or newer`,
    );
  }
  if (header.abiVersion !== ABI.version) {
    throw new KmonCaptureError(
      `the capture holds records of ABI ${header.abiVersion}, this kmon decodes ABI ${ABI.version}`,
      offset,
      `replay it with kmon ${header.kmonVersion}, which recorded it`,
    );
  }
}
