// What travels on NATS. Records go as the driver wrote them, one message per
// record, so a consumer decodes them with the same decoder and gets the same
// typed events (and the same malformed notices: those are derived from the
// bytes, so they are never forwarded). Loss notices go as JSON on
// `<prefix>.<host>.lost`. Message ids make a retried publish a duplicate the
// stream drops.
import { ABI, EVENT_KINDS, kindOfNumber, type EventKind, type LostNotice } from '@kmon/core';
import { z } from 'zod';

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

/**
 * A record's message id: host, boot and what makes a record unique within a
 * boot (its kind, CPU, per-CPU sequence and monotonic time: sequences restart
 * with each session, times do not repeat on one CPU).
 */
export const recordId = (host: string, bootId: string, r: FramedRecord) =>
  `${host}.${bootId}.${r.kindNumber}.${r.cpu}.${r.seq}.${r.time}`;

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
