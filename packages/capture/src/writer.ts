// Writes a capture: entries gather in a block that is compressed and written
// when it reaches blockBytes or every flushMs, so memory stays bounded and a
// recording killed with -9 loses at most the last flushMs. Writes are
// synchronous on purpose: a disk slower than the kernel slows the consumer,
// the kernel ring fills and its drops are counted and recorded, instead of
// batches piling up in memory.
import { closeSync, openSync, writeSync } from 'node:fs';
import type { BatchOrigin, LostNotice, RawKernelStats } from '@kmon/core';
import { KmonCaptureError } from './errors.js';
import { encodeBlock, encodeEntry, type EntryType } from './format.js';
import { recordedError, recordedLoss, recordedOrigin, type CaptureHeader } from './header.js';

export interface CaptureWriterOptions {
  /** A block is written once its contents reach this size (at most 1 MiB; one batch may overrun it). */
  blockBytes?: number;
  /** ...or this long after its first entry, whichever comes first. */
  flushMs?: number;
  /** gzip level, 1 (fast, the default) to 9 (small). */
  level?: number;
  /** CLOCK_MONOTONIC ns now; tests pass their own. */
  now?: () => bigint;
}

export interface CaptureSummary {
  batches: number;
  batchBytes: number;
  counterReadings: number;
  /** Loss notices from upstream of the binding (a fleet's exporters), not counted by its counters. */
  lossNotices: number;
  /** Bytes written to the file (compressed). */
  fileBytes: number;
  blocks: number;
}

const MiB = 1024 * 1024;
const json = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');

export class CaptureWriter {
  readonly summary: CaptureSummary = { batches: 0, batchBytes: 0, counterReadings: 0, lossNotices: 0, fileBytes: 0, blocks: 0 };
  /** Set when a write failed (disk full...): nothing more is written. */
  failure: KmonCaptureError | undefined;
  private fd: number | undefined;
  private block: Buffer[] = [];
  private blockSize = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly blockBytes: number;
  private readonly flushMs: number;
  private readonly level: number;
  private readonly now: () => bigint;

  constructor(
    readonly path: string,
    options: CaptureWriterOptions = {},
  ) {
    this.blockBytes = Math.min(options.blockBytes ?? MiB, MiB);
    this.flushMs = options.flushMs ?? 1000;
    this.level = options.level ?? 1;
    this.now = options.now ?? process.hrtime.bigint;
    try {
      this.fd = openSync(path, 'w');
    } catch (cause) {
      throw new KmonCaptureError(`cannot create the capture ${path}: ${(cause as Error).message}`, -1, 'check the directory exists and is writable', cause);
    }
  }

  get ended(): boolean {
    return this.fd === undefined;
  }

  header(header: CaptureHeader): void {
    this.add('header', json(header), BigInt(header.clock.monotonicNs));
  }

  /** A batch, after its origin when a fleet host recorded it. */
  batch(batch: Uint8Array, origin?: BatchOrigin): void {
    this.summary.batches++;
    this.summary.batchBytes += batch.length;
    // A full block is written before the next batch, never between a batch
    // and its origin or the counter readings taken while it was delivered: a
    // replay finds them in the batch's block.
    if (this.blockSize >= this.blockBytes) this.flush();
    if (origin) this.add('origin', json(recordedOrigin(origin)));
    this.add('batch', batch);
  }

  counters(stats: RawKernelStats): void {
    this.summary.counterReadings++;
    const { cpus, bindingDropped, ring } = stats;
    this.add('counters', json({ cpus, bindingDropped, ...(ring && { ring }) }));
  }

  loss(notice: LostNotice): void {
    this.summary.lossNotices++;
    this.add('loss', json(recordedLoss(notice)));
  }

  error(error: Error & { code?: string; hint?: string }): void {
    this.add('error', json(recordedError(error)));
  }

  /** Writes the end marker and the last block, and closes the file. Idempotent. */
  end(): void {
    if (this.fd === undefined) return;
    this.add('end', new Uint8Array(0));
    this.flush();
    closeSync(this.fd);
    this.fd = undefined;
  }

  /** Writes the block gathered so far (a no-op when it is empty). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.blockSize === 0 || this.fd === undefined || this.failure) return;
    const member = encodeBlock(Buffer.concat(this.block, this.blockSize), this.summary.blocks, this.level);
    this.block = [];
    this.blockSize = 0;
    try {
      for (let at = 0; at < member.length; ) at += writeSync(this.fd, member, at);
    } catch (cause) {
      this.failure = new KmonCaptureError(
        `cannot write the capture ${this.path}: ${(cause as Error).message}`,
        this.summary.fileBytes,
        'free some space (or record less with --max-size); what was written before stays readable',
        cause,
      );
      return;
    }
    this.summary.blocks++;
    this.summary.fileBytes += member.length;
  }

  private add(type: EntryType, payload: Uint8Array, time = this.now()): void {
    if (this.fd === undefined || this.failure) return;
    const entry = encodeEntry(type, time, payload);
    this.block.push(entry);
    this.blockSize += entry.length;
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.flushMs);
      this.timer.unref();
    }
  }
}
