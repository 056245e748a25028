// Where export messages wait on disk when the memory buffer is full (an
// optional, bounded spool): a first-in first-out file of messages exactly
// as they will be published (same subject, id, headers' inputs and bytes),
// so a message read back is the one a retry would have sent. The file is
// written from the start again each time it empties, so it never grows past
// its bound plus one message. It lives for one export run: it is removed
// when the exporter closes (what it still holds is reported as buffered).
import { closeSync, ftruncateSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { KmonOptionsError } from '@kmon/core';

/** What a spooled message keeps: everything but its bytes is JSON (bigints as decimal strings). */
export interface SpooledMeta {
  [key: string]: unknown;
}

/** Frame head: meta length, data length. */
const HEAD = 8;

const toJson = (meta: SpooledMeta) => JSON.stringify(meta, (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value));
const fromJson = (text: string): SpooledMeta =>
  JSON.parse(text, (_key, value: unknown) => (typeof value === 'string' && /^-?\d+n$/u.test(value) ? BigInt(value.slice(0, -1)) : value)) as SpooledMeta;

export class Spool {
  private readonly fd: number;
  private writeAt = 0;
  private readAt = 0;
  private count = 0;

  constructor(
    readonly file: string,
    readonly maxBytes: number,
  ) {
    try {
      this.fd = openSync(file, 'w+', 0o600);
    } catch (error) {
      throw new KmonOptionsError(`cannot open the export spool ${file}: ${(error as Error).message}`, {
        hint: 'give --spool a file in a writable directory (it is created, and removed when kmon export ends)',
      });
    }
  }

  /** Messages waiting in the file. */
  get size(): number {
    return this.count;
  }

  /** Bytes the file holds now. */
  get bytes(): number {
    return this.writeAt - this.readAt;
  }

  /** True when `bytes` more bytes of messages fit (the bound is on the file's length). */
  fits(bytes: number): boolean {
    return this.writeAt + bytes <= this.maxBytes;
  }

  append(meta: SpooledMeta, data: Uint8Array): void {
    const json = Buffer.from(toJson(meta));
    const frame = Buffer.alloc(HEAD + json.length + data.length);
    frame.writeUInt32LE(json.length, 0);
    frame.writeUInt32LE(data.length, 4);
    json.copy(frame, HEAD);
    frame.set(data, HEAD + json.length);
    writeSync(this.fd, frame, 0, frame.length, this.writeAt);
    this.writeAt += frame.length;
    this.count++;
  }

  /** The oldest message's data length, without reading it. */
  nextDataBytes(): number | undefined {
    if (this.count === 0) return undefined;
    const head = Buffer.alloc(HEAD);
    readSync(this.fd, head, 0, HEAD, this.readAt);
    return head.readUInt32LE(4);
  }

  /** The oldest message, removed from the spool. */
  shift(): { meta: SpooledMeta; data: Uint8Array } | undefined {
    if (this.count === 0) return undefined;
    const head = Buffer.alloc(HEAD);
    readSync(this.fd, head, 0, HEAD, this.readAt);
    const jsonBytes = head.readUInt32LE(0);
    const body = Buffer.alloc(jsonBytes + head.readUInt32LE(4));
    readSync(this.fd, body, 0, body.length, this.readAt + HEAD);
    this.readAt += HEAD + body.length;
    if (--this.count === 0) {
      this.readAt = this.writeAt = 0;
      ftruncateSync(this.fd, 0);
    }
    return { meta: fromJson(body.subarray(0, jsonBytes).toString()), data: new Uint8Array(body.subarray(jsonBytes)) };
  }

  /** Closes and removes the file. */
  close(): void {
    closeSync(this.fd);
    unlinkSync(this.file);
  }
}
