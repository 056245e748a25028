// Publishes a session's records and loss notices to JetStream, in order,
// exactly once, and never loses one silently.
//
// Every message waits in one bounded queue (bytes) until the stream has
// acknowledged it. At most `maxOutstanding` are awaiting an ack. When a
// publish fails (server gone, ack timed out), nothing new is sent: once every
// outstanding publish has settled, sending restarts from the oldest
// unacknowledged message, with the same message ids, so what the stream
// already stored is dropped there as a duplicate and the order stays the
// order of the kernel's records. When the queue is full a record is dropped
// and counted in an `export` loss notice that takes the dropped records'
// place in the queue, so it reaches the stream (and the consumer) where the
// loss happened, once the link is back.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import {
  KmonOptionsError,
  tappedBinding,
  type EventKind,
  type KernelBinding,
  type KmonMessage,
  type LostNotice,
} from '@kmon/core';
import type { NatsConnection } from '@nats-io/transport-node';
import { JetStreamApiError, jetstream, type JetStreamClient, type PubAck } from '@nats-io/jetstream';
import { Observable, Subject } from 'rxjs';
import { connectNats, describeServers, type NatsConnectionOptions } from './connect.js';
import { ensureStream, type StreamOptions } from './stream.js';
import {
  LOST_TOKEN,
  UNFRAMED_TOKEN,
  encodeNotice,
  isSubjectPrefix,
  isSubjectToken,
  recordId,
  splitBatch,
  subjectOf,
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
  /** Publishes awaiting their ack at most. Default 256. */
  maxOutstanding?: number;
  /** A publish not acknowledged within this is sent again. Default 5000 ms. */
  ackTimeoutMs?: number;
  /** Pause before sending again after a failure. Default 250 ms. */
  retryMs?: number;
  /** How long closing waits for the stream to acknowledge what is buffered. Default 10000 ms. */
  flushTimeoutMs?: number;
  /** Part of every message id. Default: this boot's id (/proc/sys/kernel/random/boot_id). */
  bootId?: string;
}

export const EXPORT_DEFAULTS = {
  prefix: 'kmon',
  bufferBytes: 64 * 1024 ** 2,
  maxOutstanding: 256,
  ackTimeoutMs: 5000,
  retryMs: 250,
  flushTimeoutMs: 10_000,
} satisfies Partial<ExportOptions>;

export interface ExportStats {
  /** Messages (records and loss notices) sent at least once. */
  published: number;
  /** Messages the stream acknowledged (stored now or before: see duplicates). */
  acknowledged: number;
  /** Acknowledged as duplicates: a retry of a message the stream already had. */
  duplicates: number;
  /** Messages waiting for their ack now, and their bytes. */
  buffered: number;
  bufferedBytes: number;
  /** Records dropped because the buffer was full (reported as `export` loss notices). */
  lost: number;
  lostByKind: Partial<Record<EventKind, number>>;
}

interface Entry {
  subject: string;
  msgID: string;
  /** Undefined for an export loss notice still counting: encoded when first sent. */
  data: Uint8Array | undefined;
  kind?: EventKind;
  notice?: LostNotice;
  sent: boolean;
  acked: boolean;
}

const entrySize = (e: Entry) => e.data?.length ?? 256;

function localBootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return randomUUID(); // no boot id here: ids are unique per exporter run, retries still deduplicate
  }
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
  private readonly bootId: string;
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
  private closing: Promise<ExportStats> | undefined;
  private idle: Array<() => void> = [];
  private readonly stats_: ExportStats = {
    published: 0,
    acknowledged: 0,
    duplicates: 0,
    buffered: 0,
    bufferedBytes: 0,
    lost: 0,
    lostByKind: {},
  };
  private readonly losses = new Subject<LostNotice>();
  /** Export loss notices, as they are sealed (sent for the first time). */
  readonly losses$: Observable<LostNotice> = this.losses.asObservable();

  constructor(
    private readonly nc: NatsConnection,
    options: ExportOptions,
  ) {
    this.options = { ...EXPORT_DEFAULTS, ...options };
    this.host = checkedToken('host', options.host ?? hostname().replaceAll('.', '_'), isSubjectToken);
    this.prefix = checkedToken('prefix', this.options.prefix, isSubjectPrefix);
    this.server = describeServers(options.servers);
    this.bootId = options.bootId ?? localBootId();
    this.js = jetstream(nc);
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
    return { ...this.stats_, lostByKind: { ...this.stats_.lostByKind }, buffered: this.queue.length - this.head, bufferedBytes: this.bytes };
  }

  /** A batch as the driver wrote it: one message per record. */
  batch(batch: Uint8Array): void {
    const { records, unframed } = splitBatch(batch);
    for (const r of records) {
      this.offer({ subject: this.subject(r.kind ?? UNFRAMED_TOKEN), msgID: recordId(this.host, this.bootId, r), data: r.bytes.slice(), kind: r.kind, sent: false, acked: false });
    }
    if (unframed) this.offer({ subject: this.subject(UNFRAMED_TOKEN), msgID: this.ownId('unframed'), data: unframed.slice(), sent: false, acked: false });
  }

  /** A loss notice of the session (malformed records travel as bytes: the consumer finds them itself). */
  notice(notice: LostNotice): void {
    if (notice.cause === 'malformed') return;
    this.push({ subject: this.subject(LOST_TOKEN), msgID: this.ownId('lost'), data: encodeNotice(notice), notice, sent: false, acked: false });
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
      if (this.queue.length === this.head) return resolve();
      const timer = setTimeout(resolve, timeoutMs);
      this.idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    clearTimeout(this.retrying);
    const open = this.openNotice;
    if (open && !open.sent && open.notice) this.losses.next(open.notice);
    this.losses.complete();
    await this.nc.close();
    return this.stats();
  }

  private subject(token: string) {
    return subjectOf(this.prefix, this.host, token);
  }

  private ownId(what: string) {
    return `${this.host}.${this.bootId}.${this.runId}.${what}.${++this.noticeCount}`;
  }

  private offer(entry: Entry) {
    if (this.bytes + entrySize(entry) > this.options.bufferBytes) return this.drop(entry.kind);
    this.openNotice = undefined; // a later drop is a new loss, after this record
    this.push(entry);
  }

  private drop(kind: EventKind | undefined) {
    let open = this.openNotice;
    if (!open || open.sent) {
      const notice: LostNotice = { kind: 'lost', cause: 'export', count: 0, byKind: {} };
      open = { subject: this.subject(LOST_TOKEN), msgID: this.ownId('lost'), data: undefined, notice, sent: false, acked: false };
      this.openNotice = open;
      this.push(open);
    }
    const notice = open.notice!;
    notice.count++;
    this.stats_.lost++;
    if (kind) {
      notice.byKind[kind] = (notice.byKind[kind] ?? 0) + 1;
      this.stats_.lostByKind[kind] = (this.stats_.lostByKind[kind] ?? 0) + 1;
    }
  }

  private push(entry: Entry) {
    this.queue.push(entry);
    this.bytes += entrySize(entry);
    this.pump();
  }

  private pump() {
    while (!this.failing && this.retrying === undefined && this.next < this.queue.length && this.inflight < this.options.maxOutstanding) {
      const entry = this.queue[this.next++]!;
      if (!entry.acked) this.send(entry);
    }
  }

  private send(entry: Entry) {
    if (!entry.data) {
      entry.data = encodeNotice(entry.notice!); // sealed: later drops count in a new notice
      this.losses.next(entry.notice!);
    }
    if (!entry.sent) this.stats_.published++;
    entry.sent = true;
    this.inflight++;
    this.js.publish(entry.subject, entry.data, { msgID: entry.msgID, timeout: this.options.ackTimeoutMs }).then(
      (ack) => this.acked(entry, ack),
      (error: unknown) => this.failed(entry, error),
    );
  }

  private acked(entry: Entry, ack: PubAck) {
    this.inflight--;
    if (!entry.acked) {
      entry.acked = true;
      this.bytes -= entrySize(entry);
      this.stats_.acknowledged++;
      if (ack.duplicate) this.stats_.duplicates++;
    }
    this.settle();
  }

  private failed(entry: Entry, error: unknown) {
    this.inflight--;
    if (error instanceof JetStreamApiError && error.status < 500 && !entry.acked) {
      // The server answered and refused this message (too large, not allowed): retrying cannot help.
      // (5xx answers, e.g. JetStream still recovering after a restart, are retried.)
      entry.acked = true;
      this.bytes -= entrySize(entry);
      this.stats_.lost++;
      const notice: LostNotice = { kind: 'lost', cause: 'export', count: 1, byKind: entry.kind ? { [entry.kind]: 1 } : {}, error: error };
      this.losses.next(notice);
    } else {
      this.failing = true;
    }
    this.settle();
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
    this.pump();
    if (this.head === this.queue.length) this.idle.splice(0).forEach((wake) => wake());
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

/** Records `inner`'s batches into the exporter as they are handed to the consumer (read() too). */
export function exportingBinding(inner: KernelBinding, exporter: NatsExporter): KernelBinding {
  return tappedBinding(inner, (batch) => exporter.batch(batch));
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
