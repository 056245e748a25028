// Reads a capture as a stream of entries, holding one block in memory (and the
// next one while it is read and inflated). A cut file ends at its last
// complete block and the reader says how many bytes it dropped; damage is a
// KmonCaptureError with the byte offset, never a crash.
import { closeSync, openSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { BatchOrigin, LostNotice, RawKernelStats } from '@kmon/core';
import { CORRUPT_HINT, KmonCaptureError } from './errors.js';
import { BLOCK_HEADER_BYTES, decodeEntries, inflateBlock, inflateBlockSync, memberLength, type RawEntry } from './format.js';
import {
  captureHeaderSchema,
  checkCompatible,
  countersSchema,
  errorSchema,
  lossOf,
  lossSchema,
  originOf,
  originSchema,
  parseJson,
  type CaptureHeader,
  type RecordedError,
} from './header.js';

export type CaptureEntry =
  | { type: 'batch'; time: bigint; batch: Uint8Array; origin?: BatchOrigin }
  | { type: 'counters'; time: bigint; stats: RawKernelStats }
  | { type: 'loss'; time: bigint; notice: LostNotice }
  | { type: 'error'; time: bigint; error: RecordedError };

export interface CaptureEnding {
  /** True when the capture ends with its end marker: the recording was stopped, not cut. */
  complete: boolean;
  /** Bytes of complete blocks read. */
  readBytes: number;
  /** Bytes after the last complete block, dropped: an incomplete block (0 when the cut fell between blocks). */
  cutBytes: number;
}

interface Block {
  entries: RawEntry[];
  offset: number;
  next: number;
}
type BlockRead = Block | 'cut';

/** Where a capture's bytes come from: a file, or memory (tests, fuzzing). */
export interface CaptureSource {
  /** Reads `length` bytes at `position`; undefined when the source ends first. */
  read(position: number, length: number): Promise<Buffer | undefined>;
  size(): Promise<number>;
  close(): Promise<void>;
}

function fileSource(handle: FileHandle): CaptureSource {
  return {
    async read(position, length) {
      const buffer = Buffer.allocUnsafe(length);
      const { bytesRead } = await handle.read(buffer, 0, length, position);
      return bytesRead === length ? buffer : undefined;
    },
    size: async () => (await handle.stat()).size,
    close: () => handle.close().catch(() => undefined), // already closed
  };
}

export function memorySource(bytes: Uint8Array): CaptureSource {
  const all = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  return {
    read: async (position, length) => (position + length <= all.length ? all.subarray(position, position + length) : undefined),
    size: async () => all.length,
    close: async () => undefined,
  };
}

async function openFile(path: string): Promise<CaptureSource> {
  try {
    return fileSource(await open(path, 'r'));
  } catch (cause) {
    throw new KmonCaptureError(`cannot open the capture ${path}: ${(cause as Error).message}`, -1, 'check the path', cause);
  }
}

function toEntry(raw: RawEntry, offset: number): CaptureEntry {
  switch (raw.type) {
    case 'origin':
      throw new KmonCaptureError('an origin entry not followed by its batch', offset, CORRUPT_HINT);
    case 'batch':
      return { type: 'batch', time: raw.time, batch: raw.payload };
    case 'counters':
      return { type: 'counters', time: raw.time, stats: parseJson(countersSchema, raw.payload, 'counter reading', offset) };
    case 'loss':
      return { type: 'loss', time: raw.time, notice: lossOf(parseJson(lossSchema, raw.payload, 'loss notice', offset)) };
    case 'error':
      return { type: 'error', time: raw.time, error: parseJson(errorSchema, raw.payload, 'recorded error', offset) };
    default:
      throw new KmonCaptureError(`a ${raw.type} entry in the middle of the capture`, offset, CORRUPT_HINT);
  }
}

/** A block's entries, each origin folded into the batch after it. */
function toEntries(raws: RawEntry[], offset: number): CaptureEntry[] {
  const entries: CaptureEntry[] = [];
  for (let i = 0; i < raws.length; i++) {
    const raw = raws[i]!;
    const next = raws[i + 1];
    if (raw.type !== 'origin' || next?.type !== 'batch') {
      entries.push(toEntry(raw, offset));
      continue;
    }
    const origin = originOf(parseJson(originSchema, raw.payload, 'batch origin', offset));
    entries.push({ type: 'batch', time: next.time, batch: next.payload, origin });
    i++;
  }
  return entries;
}

export class CaptureReader {
  /** How the capture ended; set once entries() has finished. */
  ending: CaptureEnding | undefined;
  /** Bytes of the file consumed so far (for progress). */
  bytesRead = 0;

  private constructor(
    private readonly source: CaptureSource,
    readonly header: CaptureHeader,
    /** Size of the file when it was opened. */
    readonly fileBytes: number,
    private readonly first: Block,
  ) {}

  /** Opens a capture (a file path, or a source) and checks its header (format, ABI). */
  static async open(from: string | CaptureSource): Promise<CaptureReader> {
    const source = typeof from === 'string' ? await openFile(from) : from;
    try {
      const size = await source.size();
      const first = headedBlock(await readBlock(source, size, 0, 0));
      return new CaptureReader(source, first.header, size, first);
    } catch (error) {
      await source.close();
      throw error;
    }
  }

  /**
   * The entries after the header, a block at a time, in order. Ends at the end
   * marker, or at the last complete block of a cut capture (see `ending`).
   * Closes the file when done.
   */
  async *blocks(): AsyncGenerator<CaptureEntry[]> {
    let block: BlockRead = this.first;
    try {
      for (let index = 1; block !== 'cut'; index++) {
        const next = readBlock(this.source, this.fileBytes, block.next, index);
        next.catch(() => undefined); // awaited below, unless iteration stops first
        const end = block.entries.findIndex((raw) => raw.type === 'end');
        const entries = end === -1 ? block.entries : block.entries.slice(0, end);
        const offset = block.offset;
        yield toEntries(entries, offset);
        if (end !== -1) return this.end(true, block.next);
        this.bytesRead = block.next;
        block = await next;
      }
      this.end(false, this.bytesRead);
    } finally {
      await this.close();
    }
  }

  /** The entries of blocks(), one by one. */
  async *entries(): AsyncGenerator<CaptureEntry> {
    for await (const block of this.blocks()) yield* block;
  }

  async close(): Promise<void> {
    await this.source.close();
  }

  private end(complete: boolean, readBytes: number): void {
    this.bytesRead = readBytes;
    this.ending = { complete, readBytes, cutBytes: this.fileBytes - readBytes };
  }
}

/** The block at `offset`, or 'cut' when the file ends before it does. */
async function readBlock(source: CaptureSource, fileBytes: number, offset: number, index: number): Promise<BlockRead> {
  if (fileBytes - offset < BLOCK_HEADER_BYTES) return 'cut';
  const head = await source.read(offset, BLOCK_HEADER_BYTES);
  if (!head) return 'cut';
  const length = memberLength(head, offset, index);
  if (length > fileBytes - offset) return 'cut';
  const member = await source.read(offset, length);
  if (!member) return 'cut';
  return { entries: decodeEntries(await inflateBlock(member, offset, index), offset), offset, next: offset + length };
}

const NO_HEADER = 'the capture is cut before its first block ended: it has no header';
const RECORD_AGAIN = 'the recording was killed at once; record again';

/** The first block's header, checked, and the entries after it. */
function headedBlock(first: BlockRead): Block & { header: CaptureHeader } {
  if (first === 'cut') throw new KmonCaptureError(NO_HEADER, 0, RECORD_AGAIN);
  const [head] = first.entries;
  if (head?.type !== 'header') throw new KmonCaptureError('the capture does not start with its header', 0, CORRUPT_HINT);
  const header = parseJson(captureHeaderSchema, head.payload, 'capture header', 0);
  checkCompatible(header, 0);
  return { ...first, entries: first.entries.slice(1), header };
}

/** Reads only the header of a capture, synchronously (a replay's clock() needs it at once). */
export function readCaptureHeaderSync(path: string): CaptureHeader {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (cause) {
    throw new KmonCaptureError(`cannot open the capture ${path}: ${(cause as Error).message}`, -1, 'check the path', cause);
  }
  try {
    const read = (position: number, length: number) => {
      const buffer = Buffer.alloc(length);
      return readSync(fd, buffer, 0, length, position) === length ? buffer : undefined;
    };
    const head = read(0, BLOCK_HEADER_BYTES);
    if (!head) throw new KmonCaptureError(NO_HEADER, 0, RECORD_AGAIN);
    const member = read(0, memberLength(head, 0, 0));
    if (!member) throw new KmonCaptureError(NO_HEADER, 0, RECORD_AGAIN);
    return headedBlock({ entries: decodeEntries(inflateBlockSync(member, 0, 0), 0), offset: 0, next: member.length }).header;
  } finally {
    closeSync(fd);
  }
}

/** Reads only the header of a capture. */
export async function readCaptureHeader(path: string): Promise<CaptureHeader> {
  const reader = await CaptureReader.open(path);
  await reader.close();
  return reader.header;
}
