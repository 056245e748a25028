// What travels on NATS (wire format 2, see ../README.md). Records go as the
// driver wrote them, so a consumer decodes them with the same decoder and
// gets the same typed events (and the same malformed notices: those are
// derived from the bytes, so they are never forwarded). A window of a
// batch's records (64 KiB at most) travels as one message per (kind, CPU),
// each saying where its records sat in the window, so the consumer puts them
// back in the kernel's order. Every message says its format version and the
// clock of the session that recorded it. Loss notices go as JSON on
// `<prefix>.<host>.lost`. Message ids make a retried publish a duplicate the
// stream drops.
import { ABI, EVENT_KINDS, kindOfNumber, type EventKind, type LostNotice, type SessionClock } from '@kmon/core';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { z } from 'zod';
import { KmonNatsError } from './errors.js';

/** The format this package writes and reads. 1: one record per message, no headers (kmon before the per-host clock). */
export const WIRE_VERSION = 2;

/** Message headers of wire format 2. */
export const HEADER = {
  /** WIRE_VERSION. */
  wire: 'Kmon-Wire',
  /** SessionClock.bootId of the recording session. */
  boot: 'Kmon-Boot',
  /** SessionClock.realtimeOffsetNs of the recording session, decimal. */
  clock: 'Kmon-Clock',
  /** Record messages: the window they belong to (its first record's `cpu.seq.time`). */
  window: 'Kmon-Window',
  /** Record messages: how many messages the window was split into. */
  parts: 'Kmon-Parts',
  /** Record messages: each record's position in the window, comma-separated. */
  order: 'Kmon-Order',
} as const;
/** A subject token: no separators, wildcards or whitespace. */
const TOKEN = /^[^.*>\s]+$/u;
/** A subject prefix: tokens joined by dots. */
const PREFIX = /^[^.*>\s]+(\.[^.*>\s]+)*$/u;

export const isSubjectToken = (value: string) => TOKEN.test(value);
export const isSubjectPrefix = (value: string) => PREFIX.test(value);

/** The token loss notices travel under. */
export const LOST_TOKEN = 'lost';
/** Bytes that could not be split into records (the consumer's decoder reports them as it would locally). */
export const UNFRAMED_TOKEN = 'unframed';

export const subjectOf = (prefix: string, host: string, token: string) => `${prefix}.${host}.${token}`;

/** The host and last token of a subject under `prefix`, or undefined for another shape. */
export function parseSubject(prefix: string, subject: string): { host: string; token: string } | undefined {
  if (!subject.startsWith(`${prefix}.`)) return undefined;
  const [host, token, ...rest] = subject.slice(prefix.length + 1).split('.');
  return host && token && rest.length === 0 ? { host, token } : undefined;
}

/** One record of a batch, with the header fields that make its identity. */
export interface FramedRecord {
  bytes: Uint8Array;
  kind: EventKind | undefined;
  kindNumber: number;
  cpu: number;
  seq: bigint;
  time: bigint;
}

const H = ABI.header.fields;

/**
 * Splits a batch into its records by their header's size. What cannot be
 * framed (a size that is not a whole record or runs past the batch) is
 * returned as `unframed`, untouched.
 */
export function splitBatch(batch: Uint8Array): { records: FramedRecord[]; unframed?: Uint8Array } {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  const records: FramedRecord[] = [];
  let offset = 0;
  while (offset < batch.length) {
    const left = batch.length - offset;
    const size = left >= ABI.header.size ? view.getUint32(offset + H.size.offset, true) : 0;
    if (size < ABI.header.size || size % ABI.align !== 0 || size > left) return { records, unframed: batch.subarray(offset) };
    const kindNumber = view.getUint16(offset + H.kind.offset, true);
    records.push({
      bytes: batch.subarray(offset, offset + size),
      kind: kindOfNumber(kindNumber),
      kindNumber,
      cpu: view.getUint32(offset + H.cpu.offset, true),
      seq: view.getBigUint64(offset + H.seq.offset, true),
      time: view.getBigUint64(offset + H.ts_ns.offset, true),
    });
    offset += size;
  }
  return { records };
}

/** Records of one kind and CPU out of a window, with their positions in it. */
export interface WindowPart {
  kind: EventKind | undefined;
  kindNumber: number;
  cpu: number;
  records: FramedRecord[];
  positions: number[];
}

/** A window's records grouped by (kind, CPU), in the order each group first appears. */
export function partsOf(window: readonly FramedRecord[]): WindowPart[] {
  const parts = new Map<string, WindowPart>();
  window.forEach((r, position) => {
    const key = `${r.kindNumber}.${r.cpu}`;
    let part = parts.get(key);
    if (!part) parts.set(key, (part = { kind: r.kind, kindNumber: r.kindNumber, cpu: r.cpu, records: [], positions: [] }));
    part.records.push(r);
    part.positions.push(position);
  });
  return [...parts.values()];
}

/** A window's name: its first record's identity within the boot. */
export const windowId = (first: FramedRecord) => `${first.cpu}.${first.seq}.${first.time}`;

/**
 * A part's message id: host, boot, kind, CPU, its sequence range and its
 * first record's monotonic time (sequences restart with each session of a
 * boot; times do not repeat on one CPU). The same records always make the
 * same id, so a retry is a duplicate the stream drops.
 */
export function partId(host: string, bootId: string, part: WindowPart): string {
  const first = part.records[0]!;
  return `${host}.${bootId}.${part.kindNumber}.${part.cpu}.${first.seq}-${part.records.at(-1)!.seq}.${first.time}`;
}

/** Headers every message carries; a record message also names its window. */
export function wireHeaders(clock: SessionClock, window?: { id: string; parts: number; positions: readonly number[] }): MsgHdrs {
  const h = natsHeaders();
  h.set(HEADER.wire, String(WIRE_VERSION));
  h.set(HEADER.boot, clock.bootId);
  h.set(HEADER.clock, String(clock.realtimeOffsetNs));
  if (window) {
    h.set(HEADER.window, window.id);
    h.set(HEADER.parts, String(window.parts));
    h.set(HEADER.order, window.positions.join(','));
  }
  return h;
}

/** What a message's headers say: the recording session's clock and, for records, their window. */
export interface WireMeta {
  clock: SessionClock;
  window?: { id: string; parts: number; positions: number[] };
}

const DECIMAL = /^-?\d+$/u;
const POSITIONS = /^\d+(,\d+)*$/u;

/**
 * Reads a message's headers. A message of another wire format, or whose
 * headers are not kmon's, is a KmonNatsError naming its stream sequence.
 */
export function readWire(h: MsgHdrs | undefined, where: { seq: number; subject: string }): WireMeta {
  const version = h?.get(HEADER.wire) || '1';
  if (version !== String(WIRE_VERSION)) {
    const older = Number(version) < WIRE_VERSION;
    throw new KmonNatsError(
      `message ${where.seq} on ${where.subject} is in kmon wire format ${version}; this kmon reads format ${WIRE_VERSION} only`,
      {
        hint: older
          ? `it was exported by an older kmon (format ${version} carries no host clock): start after it (--start SEQ or TIME), or read it with that kmon`
          : `it was exported by a newer kmon: upgrade @kmon/nats (or the kmon CLI) here`,
      },
    );
  }
  const bootId = h!.get(HEADER.boot);
  const offset = h!.get(HEADER.clock);
  const parts = Number(h!.get(HEADER.parts) || '0');
  const order = h!.get(HEADER.order);
  const id = h!.get(HEADER.window);
  const isRecord = id !== '';
  if (!bootId || !DECIMAL.test(offset) || (isRecord && (!(parts >= 1) || !POSITIONS.test(order)))) {
    throw new KmonNatsError(`message ${where.seq} on ${where.subject} says wire format ${WIRE_VERSION} but its headers are not kmon's`, {
      hint: 'something other than kmon export publishes under this subject prefix: give kmon its own (--prefix)',
    });
  }
  const clock = { bootId, realtimeOffsetNs: BigInt(offset) };
  return isRecord ? { clock, window: { id, parts, positions: order.split(',').map(Number) } } : { clock };
}

/** A loss notice as JSON (its `error` stays local: malformed records travel as bytes). */
export function encodeNotice(notice: LostNotice): Uint8Array {
  const { error: _local, ...rest } = notice;
  return new TextEncoder().encode(JSON.stringify(rest));
}

const noticeSchema = z.object({
  kind: z.literal('lost'),
  cause: z.enum(['ring-full', 'binding-queue', 'malformed', 'unobserved', 'export']),
  count: z.number().int().nonnegative(),
  atLeast: z.boolean().optional(),
  byKind: z.partialRecord(z.enum(EVENT_KINDS), z.number().int().nonnegative()),
  gaps: z.array(z.object({ cpu: z.number().int(), from: z.number().int(), to: z.number().int() })).optional(),
});

/** A notice from the wire, checked (anything may be published under the prefix); throws on what is not one. */
export function decodeNotice(data: Uint8Array, host: string): LostNotice {
  const notice = noticeSchema.parse(JSON.parse(new TextDecoder().decode(data))) as LostNotice;
  return { ...notice, host };
}
