// Publishes a session's records and loss notices to JetStream, in order,
// exactly once, and never loses one silently.
//
// A batch's records are cut into windows of `messageBytes` at most, and each
// window into one message per (kind, CPU) (wire.ts): built once, with an id
// derived from its records, and kept unchanged until acknowledged, so a
// retry resends the identical message and the stream's duplicate window
// keeps it exactly-once. Every message waits in one bounded queue (bytes)
// until the stream has acknowledged it. At most `maxOutstanding` are
// awaiting an ack (publishes are pipelined, not one at a time). When a
// publish fails (server gone, ack timed out), nothing new is sent: once every
// outstanding publish has settled, sending restarts from the oldest
// unacknowledged message, with the same message ids, so what the stream
// already stored is dropped there as a duplicate and the order stays the
// order of the kernel's records. When the queue is full a record is dropped
// and counted in an `export` loss notice that takes the dropped records'
// place in the queue, so it reaches the stream (and the consumer) where the
// loss happened, once the link is back. With a spool, messages that do not
// fit in memory wait in a bounded file first (spool.ts), in order, and are
// dropped (counted) only when it is full too.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  KmonOptionsError,
  tappedBinding,
  type EventKind,
  type KernelBinding,
  type KmonMessage,
  type LostNotice,
  type SessionClock,
} from '@kmon/core';
import type { NatsConnection } from '@nats-io/transport-node';
import { JetStreamApiError, jetstream, type JetStreamClient, type PubAck } from '@nats-io/jetstream';
import { Observable, Subject } from 'rxjs';
import { connectNats, describeServers, type NatsConnectionOptions } from './connect.js';
import { Spool } from './spool.js';
import { ensureStream, type StreamOptions } from './stream.js';
import {
  LOST_TOKEN,
  UNFRAMED_TOKEN,
  encodeNotice,
  isSubjectPrefix,
  isSubjectToken,
  partId,
  partsOf,
  splitBatch,
  subjectOf,
  windowId,
  wireHeaders,
  type FramedRecord,
} from './wire.js';

export interface ExportOptions extends NatsConnectionOptions {
  /** Subject token naming this machine. Default: the hostname, dots replaced by '_'. */
  host?: string;
  /** Subjects are `<prefix>.<host>.<kind>`. Default 'kmon'. */
  prefix?: string;
  /** The stream (created when missing, with the defaults of STREAM_DEFAULTS). */
  stream?: StreamOptions;
  /** Bytes of records waiting for the server at most; beyond, records are dropped and counted. Default 64 MiB. */
  bufferBytes?: number;
  /** Bytes of records in one window at most (a window is one message per kind and CPU in it). Default 64 KiB. */
  messageBytes?: number;
  /** Publishes awaiting their ack at most. Default 256. */
  maxOutstanding?: number;
  /** A publish not acknowledged within this is sent again. Default 5000 ms. */
  ackTimeoutMs?: number;
  /** Pause before sending again after a failure. Default 250 ms. */
  retryMs?: number;
  /** How long closing waits for the stream to acknowledge what is buffered. Default 10000 ms. */
  flushTimeoutMs?: number;
  /**
   * When the memory buffer is full, messages wait in this file (at most
   * `bytes` long, default 1 GiB) before any is dropped; in order, and
   * removed at close. Default: no spool.
   */
  spool?: { file: string; bytes?: number };
}

export const EXPORT_DEFAULTS = {
  prefix: 'kmon',
  bufferBytes: 64 * 1024 ** 2,
  messageBytes: 64 * 1024,
  maxOutstanding: 256,
  ackTimeoutMs: 5000,
  retryMs: 250,
  flushTimeoutMs: 10_000,
} satisfies Partial<ExportOptions>;

/** A spool file's bound when none is given. */
export const SPOOL_BYTES = 1024 ** 3;

/** Counts of records (and loss notices), whatever messages carried them. */
export interface ExportStats {
  /** Records and loss notices sent at least once. */
  published: number;
  /** Records and loss notices the stream acknowledged (stored now or before: see duplicates). */
  acknowledged: number;
  /** Acknowledged as duplicates: a retry of a message the stream already had. */
  duplicates: number;
  /** Records and notices waiting for their ack now (in memory or the spool), and the bytes in memory. */
  buffered: number;
  bufferedBytes: number;
  /** Of the buffered messages, those waiting in the spool file now, and its bytes. */
  spooled: number;
  spooledBytes: number;
  /** Records dropped because the buffer was full (reported as `export` loss notices). */
  lost: number;
  lostByKind: Partial<Record<EventKind, number>>;
}

/** One message: immutable once built (a notice still counting excepted), so a retry resends it identically. */
interface Entry {
  subject: string;
  msgID: string;
  /** What its headers say (wireHeaders): built again for every send, from the same values. */
  wire: { clock: SessionClock; window?: Parameters<typeof wireHeaders>[1] };
  /** Undefined for an export loss notice still counting: encoded when it is sealed (sent or spooled). */
  data: Uint8Array | undefined;
  /** Records it carries (1 for a notice or unframed bytes). */
  count: number;
  kind?: EventKind;
  notice?: LostNotice;
  sent: boolean;
  acked: boolean;
}

/** Bytes an entry holds in the buffer (a notice counts as 256 however long its JSON, which it may gain after it was queued). */
const entrySize = (e: Pick<Entry, 'notice' | 'data'>) => (e.notice ? 256 : e.data!.length);

/** The records' bytes back to back, in a buffer of their own. */
function concatRecords(records: readonly FramedRecord[]): Uint8Array {
  const out = new Uint8Array(records.reduce((n, r) => n + r.bytes.length, 0));
  let offset = 0;
  for (const r of records) {
    out.set(r.bytes, offset);
    offset += r.bytes.length;
  }
  return out;
}

function checkedToken(what: string, value: string, valid: (v: string) => boolean): string {
  if (!valid(value)) {
    throw new KmonOptionsError(`${what} "${value}" cannot be part of a NATS subject`, {
      hint: `use letters, digits, '-' or '_' (no '.', '*', '>' or spaces${what === 'prefix' ? ' inside a token' : ''})`,
    });
  }
  return value;
}

export class NatsExporter {
  readonly host: string;
  readonly prefix: string;
  readonly server: string;
  private readonly js: JetStreamClient;
  /** The recording session's clock (sent with every message); undefined while a session opens. */
  private clock: SessionClock | undefined;
  /** Batches handed over before the session's clock was known (its snapshot, while it opens). */
  private early: Uint8Array[] = [];
  private bufferedCount = 0;
  private readonly runId = randomUUID();
  private readonly options: ExportOptions & Required<Pick<ExportOptions, keyof typeof EXPORT_DEFAULTS>>;
  private readonly queue: Entry[] = [];
  private head = 0;
  private next = 0;
  private inflight = 0;
  private failing = false;
  private retrying: NodeJS.Timeout | undefined;
  private bytes = 0;
  private noticeCount = 0;
  private openNotice: Entry | undefined;
  private readonly spool: Spool | undefined;
  /** The export notice still counting while the spool is in use: it goes in right before the next message, or to memory once the spool is empty. */
  private heldNotice: Entry | undefined;
  private closing: Promise<ExportStats> | undefined;
  private idle: Array<() => void> = [];
  private readonly stats_: ExportStats = {
    published: 0,
    acknowledged: 0,
    duplicates: 0,
    buffered: 0,
    bufferedBytes: 0,
    spooled: 0,
    spooledBytes: 0,
    lost: 0,
    lostByKind: {},
  };
  private readonly losses = new Subject<LostNotice>();
  /** Export loss notices, as they are sealed (sent or spooled for the first time: their count is final). */
  readonly losses$: Observable<LostNotice> = this.losses.asObservable();

  constructor(
    private readonly nc: NatsConnection,
    options: ExportOptions,
  ) {
    this.options = { ...EXPORT_DEFAULTS, ...options };
    this.host = checkedToken('host', options.host ?? hostname().replaceAll('.', '_'), isSubjectToken);
    this.prefix = checkedToken('prefix', this.options.prefix, isSubjectPrefix);
    this.server = describeServers(options.servers);
    this.js = jetstream(nc);
    this.spool = options.spool && new Spool(options.spool.file, options.spool.bytes ?? SPOOL_BYTES);
    void this.watchStatus();
  }

  /** Stop sending as soon as the client says the link is gone: what it buffers meanwhile could pass what the server lost. */
  private async watchStatus() {
    for await (const status of this.nc.status()) {
      if (status.type !== 'disconnect') continue;
      this.failing = true;
      this.settle();
    }
  }

  stats(): ExportStats {
    return {
      ...this.stats_,
      lostByKind: { ...this.stats_.lostByKind },
      buffered: this.bufferedCount,
      bufferedBytes: this.bytes,
      spooled: (this.spool?.size ?? 0) + (this.heldNotice ? 1 : 0),
      spooledBytes: this.spool?.bytes ?? 0,
    };
  }

  /**
   * The session whose records follow was opened with this clock (sent with
   * them). Batches it handed over while opening were held for it.
   */
  useClock(clock: SessionClock | undefined): void {
    this.clock = clock;
    if (clock) this.early.splice(0).forEach((batch) => this.batch(batch));
  }

  /** A batch as the driver wrote it: windows of records, one message per kind and CPU of each. */
  batch(batch: Uint8Array): void {
    if (!this.clock) return void this.early.push(batch.slice());
    const { records, unframed } = splitBatch(batch);
    let window: FramedRecord[] = [];
    let windowBytes = 0;
    const seal = () => {
      if (window.length > 0) this.pushWindow(window);
      window = [];
      windowBytes = 0;
    };
    for (const r of records) {
      const size = r.bytes.length;
      if (!this.fits(windowBytes + size)) {
        seal(); // the records before the drop go first, then the notice counting it
        this.drop(r.kind);
        continue;
      }
      if (windowBytes + size > this.options.messageBytes) seal();
      window.push(r);
      windowBytes += size;
    }
    seal();
    if (!unframed) return;
    if (!this.fits(unframed.length)) return this.drop(undefined);
    this.openNotice = undefined;
    this.push(this.entry(UNFRAMED_TOKEN, this.ownId('unframed'), unframed.slice()));
  }

  /** A loss notice of the session (malformed records travel as bytes: the consumer finds them itself). */
  notice(notice: LostNotice): void {
    if (notice.cause === 'malformed') return;
    this.push({ ...this.entry(LOST_TOKEN, this.ownId('lost'), encodeNotice(notice)), notice });
  }

  /** `inner`, with every batch it delivers exported before the consumer sees it. */
  binding(inner: KernelBinding): KernelBinding {
    return exportingBinding(inner, this);
  }

  /**
   * Waits until everything queued is acknowledged or `timeoutMs` passed, then
   * closes the connection. What is still buffered then was not delivered.
   */
  close(timeoutMs = this.options.flushTimeoutMs): Promise<ExportStats> {
    this.closing ??= this.flushAndClose(timeoutMs);
    return this.closing;
  }

  private async flushAndClose(timeoutMs: number): Promise<ExportStats> {
    await new Promise<void>((resolve) => {
      if (this.drained()) return resolve();
      const timer = setTimeout(resolve, timeoutMs);
      this.idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    clearTimeout(this.retrying);
    this.spool?.close();
    const open = this.openNotice;
    if (open && !open.data && open.notice) this.losses.next(open.notice);
    this.losses.complete();
    await this.nc.close();
    return this.stats();
  }

  private subject(token: string) {
    return subjectOf(this.prefix, this.host, token);
  }

  private ownId(what: string) {
    return `${this.host}.${this.bootId()}.${this.runId}.${what}.${++this.noticeCount}`;
  }

  private bootId() {
    return this.clock?.bootId ?? 'unknown-boot';
  }

  /** A message not yet sent, with the session's clock. */
  private entry(token: string, msgID: string, data: Uint8Array | undefined, window?: Parameters<typeof wireHeaders>[1]): Entry {
    const clock = this.clock ?? { bootId: this.bootId(), realtimeOffsetNs: 0n };
    return { subject: this.subject(token), msgID, wire: window ? { clock, window } : { clock }, data, count: 1, sent: false, acked: false };
  }

  /** True when `bytes` more of messages can wait: in memory (unless the spool is in use: order), or in the spool. */
  private fits(bytes: number) {
    const spooling = this.spool !== undefined && (this.spool.size > 0 || this.heldNotice !== undefined);
    return (!spooling && this.bytes + bytes <= this.options.bufferBytes) || (this.spool?.fits(bytes) ?? false);
  }

  private drained() {
    return this.head === this.queue.length && !this.spool?.size && !this.heldNotice;
  }

  /** A window's records, one message per (kind, CPU), pushed back to back. */
  private pushWindow(window: FramedRecord[]) {
    this.openNotice = undefined; // a later drop is a new loss, after these records
    const parts = partsOf(window);
    const id = windowId(window[0]!);
    for (const part of parts) {
      const entry = this.entry(part.kind ?? UNFRAMED_TOKEN, partId(this.host, this.bootId(), part), concatRecords(part.records), {
        id,
        parts: parts.length,
        positions: part.positions,
      });
      this.push({ ...entry, count: part.records.length, ...(part.kind && { kind: part.kind }) });
    }
  }

  private drop(kind: EventKind | undefined) {
    let open = this.openNotice;
    const fresh = !open || open.data !== undefined; // sealed: later drops count in a new notice
    if (fresh) {
      const notice: LostNotice = { kind: 'lost', cause: 'export', count: 0, byKind: {} };
      open = { ...this.entry(LOST_TOKEN, this.ownId('lost'), undefined), notice };
      this.openNotice = open;
    }
    const notice = open!.notice!;
    notice.count++;
    this.stats_.lost++;
    if (kind) {
      notice.byKind[kind] = (notice.byKind[kind] ?? 0) + 1;
      this.stats_.lostByKind[kind] = (this.stats_.lostByKind[kind] ?? 0) + 1;
    }
    if (fresh) this.push(open!); // counted first: pushing may send (and seal) it at once
  }

  private push(entry: Entry) {
    this.bufferedCount += entry.count;
    const spooling = this.spool && (this.spool.size > 0 || this.heldNotice || this.bytes + entrySize(entry) > this.options.bufferBytes);
    if (!spooling) return this.toMemory(entry);
    this.toSpool(entry);
    this.refill();
  }

  private toMemory(entry: Entry) {
    this.queue.push(entry);
    this.bytes += entrySize(entry);
    this.pump();
  }

  /** Appends to the spool; a notice still counting is held until the next message (or until the spool empties). */
  private toSpool(entry: Entry) {
    const spool = this.spool!;
    if (entry.data === undefined) return void (this.heldNotice = entry);
    const held = this.heldNotice;
    this.heldNotice = undefined;
    for (const e of held ? [held, entry] : [entry]) {
      if (e.data === undefined) this.seal(e);
      const { data, acked: _a, sent: _s, ...meta } = e;
      spool.append(meta, data!);
    }
  }

  /** Moves spooled messages to memory, oldest first, while they fit (one at least when memory is empty: a window may exceed it). */
  private refill() {
    const spool = this.spool;
    if (!spool) return;
    const fits = (bytes: number) => this.bytes + bytes <= this.options.bufferBytes || this.head === this.queue.length;
    for (let next = spool.nextDataBytes(); next !== undefined && fits(next); next = spool.nextDataBytes()) {
      const { meta, data } = spool.shift()!;
      this.toMemory({ ...(meta as unknown as Entry), data, sent: false, acked: false });
    }
    if (spool.size === 0 && this.heldNotice) {
      const held = this.heldNotice;
      this.heldNotice = undefined;
      this.toMemory(held); // still counting, as the open notice
    }
  }

  /** A notice's count is final from here on: encoded, and told to the local stream. */
  private seal(entry: Entry) {
    entry.data = encodeNotice(entry.notice!);
    this.losses.next(entry.notice!);
  }

  private pump() {
    while (!this.failing && this.retrying === undefined && this.next < this.queue.length && this.inflight < this.options.maxOutstanding) {
      const entry = this.queue[this.next++]!;
      if (!entry.acked) this.send(entry);
    }
  }

  private send(entry: Entry) {
    if (!entry.data) this.seal(entry);
    if (!entry.sent) this.stats_.published += entry.count;
    entry.sent = true;
    this.inflight++;
    const headers = wireHeaders(entry.wire.clock, entry.wire.window);
    this.js.publish(entry.subject, entry.data, { msgID: entry.msgID, headers, timeout: this.options.ackTimeoutMs }).then(
      (ack) => this.acked(entry, ack),
      (error: unknown) => this.failed(entry, error),
    );
  }

  private acked(entry: Entry, ack: PubAck) {
    this.inflight--;
    if (!entry.acked) {
      this.settled(entry);
      this.stats_.acknowledged += entry.count;
      if (ack.duplicate) this.stats_.duplicates += entry.count;
    }
    this.settle();
  }

  private failed(entry: Entry, error: unknown) {
    this.inflight--;

    if (error instanceof JetStreamApiError && error.status < 500 && !entry.acked) {
      // The server answered and refused this message (too large, not allowed): retrying cannot help.
      // (5xx answers, e.g. JetStream still recovering after a restart, are retried.)
      this.settled(entry);
      this.stats_.lost += entry.count;
      if (entry.kind) this.stats_.lostByKind[entry.kind] = (this.stats_.lostByKind[entry.kind] ?? 0) + entry.count;
      const notice: LostNotice = { kind: 'lost', cause: 'export', count: entry.count, byKind: entry.kind ? { [entry.kind]: entry.count } : {}, error: error };
      this.losses.next(notice);
    } else {
      this.failing = true;
    }
    this.settle();
  }

  /** The entry leaves the buffer (acknowledged, or refused for good). */
  private settled(entry: Entry) {
    entry.acked = true;
    this.bytes -= entrySize(entry);
    this.bufferedCount -= entry.count;
  }

  private settle() {
    while (this.head < this.queue.length && this.queue[this.head]!.acked) this.head++;
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.next -= this.head;
      this.head = 0;
    }
    if (this.failing && this.inflight === 0 && this.retrying === undefined) {
      // Go back to the oldest unacknowledged message, after a pause (the client reconnects meanwhile).
      this.retrying = setTimeout(() => {
        this.retrying = undefined;
        this.failing = false;
        this.next = this.head;
        this.pump();
      }, this.options.retryMs);
    }
    this.refill();
    this.pump();
    if (this.drained()) this.idle.splice(0).forEach((wake) => wake());
  }
}

/** Connects, makes sure the stream is there, and returns an exporter ready to take records. */
export async function createNatsExporter(options: ExportOptions): Promise<NatsExporter> {
  const nc = await connectNats({ name: `kmon export ${options.host ?? hostname()}`, ...options });
  try {
    const exporter = new NatsExporter(nc, options);
    await ensureStream(nc, exporter.prefix, options.stream);
    return exporter;
  } catch (error) {
    await nc.close();
    throw error;
  }
}

/**
 * Records `inner`'s batches into the exporter as they are handed to the
 * consumer (read() too), with the session's clock (those handed over while
 * it opens wait for it).
 */
export function exportingBinding(inner: KernelBinding, exporter: NatsExporter): KernelBinding {
  const tapped = tappedBinding(inner, (batch) => exporter.batch(batch));
  return {
    ...tapped,
    open(options, sink) {
      exporter.useClock(undefined);
      const session = tapped.open(options, sink);
      exporter.useClock(session.clock());
      return session;
    },
  };
}

/**
 * `source$` (a session over `exporter.binding(...)`) with its loss notices
 * exported, and the exporter's own `export` loss notices merged in: what a
 * local consumer of the export sees. When `source$` completes, it waits for
 * the stream to acknowledge what is buffered (the flush timeout at most),
 * closes the exporter, and then completes.
 */
export function exportToNats<M extends KmonMessage>(source$: Observable<M>, exporter: NatsExporter): Observable<M | LostNotice> {
  return new Observable<M | LostNotice>((subscriber) => {
    const losses = exporter.losses$.subscribe((notice) => subscriber.next(notice));
    const messages = source$.subscribe({
      next: (message) => {
        if (message.kind === 'lost') exporter.notice(message);
        subscriber.next(message);
      },
      error: (error) => subscriber.error(error),
      complete: () => void exporter.close().then(() => subscriber.complete(), (error: unknown) => subscriber.error(error)),
    });
    return () => {
      messages.unsubscribe();
      losses.unsubscribe();
    };
  });
}
