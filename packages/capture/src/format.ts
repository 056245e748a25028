// The capture file format, version 1 (documented in ../README.md).
//
// A capture is a sequence of blocks, and each block is one gzip member, so the
// whole file is a standard gzip stream (`zcat capture.kmon` shows the entries).
// Each member's FEXTRA field ('KM') holds the member's length and index: a
// reader finds block boundaries without inflating, stops at the last complete
// block of a cut file, and tells a cut from damage (gzip's CRC-32 covers each
// block's contents). Inside, a block is a run of entries:
//
//   type u8 | 0 u8 | 0 u16 | length u32 | time u64 (CLOCK_MONOTONIC ns) | payload[length]
//
// all little-endian. Entry 0 of block 0 is the header (JSON); then batches
// (the driver's bytes, untouched, each after its origin (JSON, format 2) when
// a fleet host recorded it), counter readings (JSON), loss notices from
// upstream of the binding (JSON, format 2), a session error (JSON) and the end
// marker, in the order the session produced them.
import { gunzip, gunzipSync, gzipSync } from 'node:zlib';
import { promisify } from 'node:util';
import { CORRUPT_HINT, KmonCaptureError } from './errors.js';

/** 2 added loss and origin entries; a version 1 capture reads as it did. */
export const FORMAT_VERSION = 2;

export const ENTRY_TYPES = { header: 1, batch: 2, counters: 3, error: 4, end: 5, loss: 6, origin: 7 } as const;
export type EntryType = keyof typeof ENTRY_TYPES;
const TYPE_NAMES = new Map<number, EntryType>(Object.entries(ENTRY_TYPES).map(([name, n]) => [n, name as EntryType]));

export const ENTRY_HEADER_BYTES = 16;
export const BLOCK_HEADER_BYTES = 24;
/** Largest block contents: up to 1 MiB of entries, then one batch of the largest batchBytes and its readings. */
export const MAX_BLOCK_BYTES = 66 * 1024 * 1024;
/** Largest gzip member a block can become (deflate adds a little to incompressible data). */
export const MAX_MEMBER_BYTES = MAX_BLOCK_BYTES + MAX_BLOCK_BYTES / 64;

const GZIP_ID = [0x1f, 0x8b, 0x08];
const FLAG_EXTRA = 0x04;
const SUBFIELD_ID = [0x4b, 0x4d]; // 'KM'
const SUBFIELD_LEN = 8;
/** Smallest possible member: our header, an empty deflate stream (2 bytes), CRC-32 and size. */
const MIN_MEMBER_BYTES = BLOCK_HEADER_BYTES + 2 + 8;

/** One entry as written: its type, arrival time and payload. */
export interface RawEntry {
  type: EntryType;
  time: bigint;
  payload: Uint8Array;
}

export function encodeEntry(type: EntryType, time: bigint, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(ENTRY_HEADER_BYTES + payload.length);
  out.writeUInt32LE(ENTRY_TYPES[type], 0);
  out.writeUInt32LE(payload.length, 4);
  out.writeBigUInt64LE(time, 8);
  out.set(payload, ENTRY_HEADER_BYTES);
  return out;
}

/** Splits a block's contents into entries; `offset` (the block's place in the file) goes into errors. */
export function decodeEntries(block: Buffer, offset: number): RawEntry[] {
  const entries: RawEntry[] = [];
  let at = 0;
  while (at < block.length) {
    const problem = (what: string) =>
      new KmonCaptureError(`entry ${entries.length} of the block ${what}`, offset, CORRUPT_HINT);
    if (block.length - at < ENTRY_HEADER_BYTES) throw problem('is cut inside its header');
    const type = TYPE_NAMES.get(block.readUInt32LE(at));
    if (type === undefined) throw problem(`has unknown type ${block.readUInt32LE(at)}`);
    const length = block.readUInt32LE(at + 4);
    if (length > block.length - at - ENTRY_HEADER_BYTES) throw problem(`claims ${length} bytes, past the block's end`);
    const start = at + ENTRY_HEADER_BYTES;
    entries.push({ type, time: block.readBigUInt64LE(at + 8), payload: block.subarray(start, start + length) });
    at = start + length;
  }
  return entries;
}

/** Compresses a block's contents into one gzip member carrying its length and index. */
export function encodeBlock(contents: Uint8Array, index: number, level: number): Buffer {
  const gz = gzipSync(contents, { level });
  const out = Buffer.allocUnsafe(gz.length + 2 + 4 + SUBFIELD_LEN);
  gz.copy(out, 0, 0, 10); // ID1 ID2 CM FLG MTIME XFL OS
  out[3] = FLAG_EXTRA;
  out.writeUInt16LE(4 + SUBFIELD_LEN, 10); // XLEN
  out.set(SUBFIELD_ID, 12);
  out.writeUInt16LE(SUBFIELD_LEN, 14);
  out.writeUInt32LE(out.length, 16);
  out.writeUInt32LE(index, 20);
  gz.copy(out, BLOCK_HEADER_BYTES, 10);
  return out;
}

/** Checks a block's 24-byte header and returns the whole member's length. */
export function memberLength(header: Buffer, offset: number, index: number): number {
  const notBlock = !GZIP_ID.every((b, i) => header[i] === b) || header[3] !== FLAG_EXTRA;
  if (notBlock && index === 0) {
    throw new KmonCaptureError('not a kmon capture (no kmon block at the start)', offset, 'record one with `kmon record -o FILE`');
  }
  const problem = (what: string) => new KmonCaptureError(`block ${index} ${what}`, offset, CORRUPT_HINT);
  if (notBlock) throw problem('does not start with a gzip member header');
  const subfield = header.readUInt16LE(10) === 4 + SUBFIELD_LEN && SUBFIELD_ID.every((b, i) => header[12 + i] === b);
  if (!subfield || header.readUInt16LE(14) !== SUBFIELD_LEN) throw problem('has no kmon length field');
  const length = header.readUInt32LE(16);
  if (length < MIN_MEMBER_BYTES || length > MAX_MEMBER_BYTES) throw problem(`claims an impossible length ${length}`);
  if (header.readUInt32LE(20) !== index) throw problem(`is numbered ${header.readUInt32LE(20)}`);
  return length;
}

const gunzipAsync = promisify(gunzip);

const inflateError = (cause: unknown, offset: number, index: number) =>
  new KmonCaptureError(`block ${index} does not inflate: ${(cause as Error).message}`, offset, CORRUPT_HINT, cause);

/** Inflates one member (off the JS thread); damage becomes a KmonCaptureError at the block's offset. */
export async function inflateBlock(member: Buffer, offset: number, index: number): Promise<Buffer> {
  try {
    return await gunzipAsync(member, { maxOutputLength: MAX_BLOCK_BYTES });
  } catch (cause) {
    throw inflateError(cause, offset, index);
  }
}

/** inflateBlock on the JS thread. */
export function inflateBlockSync(member: Buffer, offset: number, index: number): Buffer {
  try {
    return gunzipSync(member, { maxOutputLength: MAX_BLOCK_BYTES });
  } catch (cause) {
    throw inflateError(cause, offset, index);
  }
}
