// A fleet's records from JetStream as a KernelBinding: createKmon over it
// gives the same typed events the exporting hosts' sessions gave (the records
// travel as the drivers wrote them and are decoded here by the same decoder),
// in each host's order, with the hosts' loss notices in-band where they
// happened. Every batch is handed over with its origin (host and the clock
// of the session that recorded it), so process keys, wall times and process
// tables are per host.
import {
  ALL_CAPABILITIES,
  KmonUnsupportedError,
  type BatchOrigin,
  type SessionClock,
  type BatchSink,
  type BindingCapabilities,
  type EventKind,
  type KernelBinding,
  type KernelSession,
  type LostNotice,
  type SessionOptions,
} from '@kmon/core';
import { DeliverPolicy, jetstream, type ConsumerMessages, type JsMsg, type OrderedConsumerOptions } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, describeServers, type NatsConnectionOptions } from './connect.js';
import { KmonNatsError } from './errors.js';
import { STREAM_DEFAULTS } from './stream.js';
import { EXPORT_DEFAULTS } from './exporter.js';
import { LOST_TOKEN, UNFRAMED_TOKEN, decodeNotice, parseSubject, readWire, splitBatch, type WireMeta } from './wire.js';

export interface NatsBindingOptions extends NatsConnectionOptions {
  /** The stream the exporters publish to. Default 'KMON'. */
  stream?: string;
  /** The exporters' subject prefix. Default 'kmon'. */
  prefix?: string;
  /** Only these hosts (their `--host` names). Default: every host. */
  hosts?: readonly string[];
  /** Only these kinds (the session's kinds narrow it too). */
  kinds?: readonly EventKind[];
  /** Where to start: every record kept ('all', the default), only new ones, a stream sequence, or a time. */
  from?: 'all' | 'new' | { seq: number } | { time: Date };
  /** false: end the session once it has caught up with what the stream held. Default true (follow, like a live session). */
  follow?: boolean;
}

/** Records handed to the consumer in one batch at most (bytes), so one batch never holds a whole backlog. */
const BATCH_BYTES = 1024 * 1024;

const CAPABILITIES: BindingCapabilities = {
  platform: 'a NATS fleet stream',
  kinds: ALL_CAPABILITIES.kinds,
  wakeups: ['adaptive', 'each', 'poll'],
  // What the exporting hosts' sessions recorded is already decided: no kernel options here.
  options: [],
};

function startAt(from: NatsBindingOptions['from']): Partial<OrderedConsumerOptions> {
  if (from === undefined || from === 'all') return { deliver_policy: DeliverPolicy.All };
  if (from === 'new') return { deliver_policy: DeliverPolicy.New };
  if ('seq' in from) return { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from.seq };
  return { deliver_policy: DeliverPolicy.StartTime, opt_start_time: from.time.toISOString() };
}

/**
 * What a fleet session's clock() returns: this process's own, sampled once.
 * No fleet record uses it: each batch comes with its host's clock (origin).
 */
export const CONSUMER_CLOCK: SessionClock = {
  bootId: 'unknown-boot',
  realtimeOffsetNs: BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint(),
};

/** The messages of one window of a host's records as they arrive: records by their position in the window. */
interface Window {
  parts: number;
  got: number;
  records: Uint8Array[];
  origin: BatchOrigin;
}

class NatsSession implements KernelSession {
  private nc: NatsConnection | undefined;
  private messages: ConsumerMessages | undefined;
  /** Records ready for the consumer, each run with its origin. */
  private pending: Array<{ bytes: Uint8Array; origin: BatchOrigin }> = [];
  private pendingBytes = 0;
  /** Per host, windows whose messages have not all arrived, oldest first. */
  private readonly windows = new Map<string, Map<string, Window>>();
  /** Per host, the origin of its latest session (one object while the clock stays). */
  private readonly origins = new Map<string, BatchOrigin>();
  private flushing = false;
  private paused: (() => void) | undefined;
  private pausedUntil: Promise<void> | undefined;
  private detached = false;
  private closed = false;
  private readonly prefix: string;
  private readonly hosts: ReadonlySet<string> | undefined;
  private readonly kinds: ReadonlySet<string>;

  constructor(
    private readonly options: NatsBindingOptions,
    session: SessionOptions,
    private readonly sink: BatchSink,
  ) {
    this.prefix = options.prefix ?? EXPORT_DEFAULTS.prefix;
    this.hosts = options.hosts && new Set(options.hosts);
    this.kinds = new Set(session.kinds.filter((k) => !options.kinds || options.kinds.includes(k)));
    this.run().catch((error: unknown) => this.fail(error));
  }

  private async run() {
    const nc = await connectNats({ name: 'kmon fleet consumer', ...this.options });
    this.nc = nc;
    if (this.closed) return void (await nc.close());
    const stream = this.options.stream ?? STREAM_DEFAULTS.name;
    const hosts = this.options.hosts;
    const filter = hosts?.length === 1 ? `${this.prefix}.${hosts[0]}.*` : `${this.prefix}.*.*`;
    const consumer = await jetstream(nc)
      .consumers.get(stream, { filter_subjects: filter, ...startAt(this.options.from) })
      .catch((error: unknown) => {
        throw new KmonNatsError(`cannot read NATS stream ${stream} at ${describeServers(this.options.servers)}: ${(error as Error).message}`, {
          hint: 'has a `kmon export` created it yet? check the stream name (--stream) and the account',
        });
      });
    const follow = this.options.follow ?? true;
    if (!follow && (await consumer.info()).num_pending === 0) return this.end();
    const messages = await consumer.consume({ max_messages: 1024 });
    this.messages = messages;
    if (this.detached) messages.stop();
    for await (const m of messages) {
      if (this.pausedUntil) await this.pausedUntil;
      this.take(m);
      if (!follow && m.info.pending === 0) return this.end();
    }
  }

  private take(m: JsMsg) {
    const where = parseSubject(this.prefix, m.subject);
    if (!where || (this.hosts && !this.hosts.has(where.host))) return;
    const wire = readWire(m.headers, m);
    const origin = this.originOf(where.host, wire.clock);
    if (where.token === LOST_TOKEN) {
      this.completeWindows(where.host);
      this.flush(); // the notice comes after the records before it
      this.sink.onLoss?.(this.notice(m, where.host));
      return;
    }
    const wanted = where.token === UNFRAMED_TOKEN || this.kinds.has(where.token);
    if (wire.window) this.addPart(where.host, origin, wire.window, wanted ? m.data : undefined);
    else if (wanted) {
      this.completeWindows(where.host);
      this.queue(m.data, origin);
    }
  }

  private originOf(host: string, clock: SessionClock): BatchOrigin {
    const known = this.origins.get(host);
    if (known?.clock.bootId === clock.bootId && known.clock.realtimeOffsetNs === clock.realtimeOffsetNs) return known;
    const origin = { host, clock };
    this.origins.set(host, origin);
    return origin;
  }

  /**
   * One message of a window: its records go to their positions. Once the
   * window is whole it is queued, after any older window of the host still
   * missing messages (those started before `from`, or whose rest the stream
   * no longer holds): every record is delivered, each host's in order.
   */
  private addPart(host: string, origin: BatchOrigin, meta: NonNullable<WireMeta['window']>, data: Uint8Array | undefined) {
    let open = this.windows.get(host);
    if (!open) this.windows.set(host, (open = new Map()));
    let window = open.get(meta.id);
    if (!window) open.set(meta.id, (window = { parts: meta.parts, got: 0, records: [], origin }));
    window.got++;
    if (data) place(window.records, meta.positions, data);
    if (window.got < window.parts) return;
    for (const [id, older] of open) {
      open.delete(id);
      this.queueWindow(older);
      if (older === window) break;
    }
  }

  /** Queues every window of `host` (all of them when undefined), whole or not. */
  private completeWindows(host?: string) {
    for (const [h, open] of this.windows) {
      if (host !== undefined && h !== host) continue;
      open.forEach((window) => this.queueWindow(window));
      open.clear();
    }
  }

  private queueWindow(window: Window) {
    const records = window.records.filter((r) => r !== undefined); // positions of kinds not asked for are holes
    if (records.length > 0) this.queue(Buffer.concat(records), window.origin);
  }

  private queue(bytes: Uint8Array, origin: BatchOrigin) {
    this.pending.push({ bytes, origin });
    this.pendingBytes += bytes.length;
    if (this.pendingBytes >= BATCH_BYTES) this.flush();
    else if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => this.flush());
    }
  }

  /** The host's loss notice; a message that is not one is itself reported, as a malformed record. */
  private notice(m: JsMsg, host: string): LostNotice {
    try {
      return decodeNotice(m.data, host);
    } catch (error) {
      const problem = new KmonNatsError(`message ${m.seq} on ${m.subject} is not a kmon loss notice: ${(error as Error).message}`, {
        hint: 'something other than kmon export publishes under this subject prefix: give kmon its own (--prefix)',
      });
      return { kind: 'lost', cause: 'malformed', count: 1, atLeast: true, byKind: {}, error: problem, host };
    }
  }

  /** Hands what waits to the consumer: one batch per run of one origin. */
  private flush() {
    this.flushing = false;
    if (this.pending.length === 0 || this.closed || this.paused) return;
    this.handOver();
  }

  private handOver() {
    const pending = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    for (let i = 0; i < pending.length; ) {
      const origin = pending[i]!.origin;
      let end = i + 1;
      while (end < pending.length && pending[end]!.origin === origin) end++;
      this.sink.onBatch(Buffer.concat(pending.slice(i, end).map((p) => p.bytes)), origin);
      i = end;
    }
  }

  private end() {
    this.completeWindows();
    this.flush();
    if (!this.closed) this.sink.onEnd?.();
  }

  private fail(error: unknown) {
    if (this.closed) return;
    this.close();
    this.sink.onError(error instanceof Error ? error : new Error(String(error)));
  }

  /**
   * What waits (windows still missing messages too) is handed to onBatch,
   * each run with its host's origin, which a returned batch could not carry:
   * nothing is returned. (Pull wakeups are not offered; a stopping consumer
   * reads until empty.)
   */
  read(): Uint8Array {
    this.completeWindows();
    if (!this.closed) this.handOver();
    return new Uint8Array(0);
  }

  /** This consumer's own clock: every batch comes with its host's (BatchOrigin), which the records' context uses. */
  clock(): SessionClock {
    return CONSUMER_CLOCK;
  }

  stats() {
    // Losses arrive as the hosts' notices (onLoss): nothing is counted here.
    return { cpus: [], bindingDropped: 0 };
  }

  setFilters(): void {
    throw new KmonUnsupportedError('a NATS fleet stream cannot change what the hosts record', {
      hint: 'filter the events with rx operators (ofKind, wherePid, ...) or restart the exporters with filters',
    });
  }

  pause(): void {
    if (this.paused) return;
    this.pausedUntil = new Promise((resolve) => (this.paused = resolve));
  }

  resume(): void {
    const release = this.paused;
    this.paused = undefined;
    this.pausedUntil = undefined;
    release?.();
    this.flush();
  }

  detach(): void {
    this.detached = true;
    this.messages?.stop();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.resume();
    this.messages?.stop();
    void this.nc?.close();
  }
}

/** A fleet's events from a JetStream stream that `kmon export` (or exportToNats) fills. */
export function natsBinding(options: NatsBindingOptions): KernelBinding {
  return {
    name: 'nats',
    capabilities: CAPABILITIES,
    open: (session, sink) => new NatsSession(options, session, sink),
  };
}

/** Puts a message's records at their positions in the window; bytes that do not split into as many records go whole at the first. */
function place(window: Uint8Array[], positions: readonly number[], data: Uint8Array) {
  const { records, unframed } = splitBatch(data);
  if (unframed || records.length !== positions.length) {
    window[positions[0]!] = data; // the decoder reports what is wrong with them, as it would have locally
    return;
  }
  records.forEach((r, i) => (window[positions[i]!] = r.bytes));
}
