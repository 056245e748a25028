// A fleet's records from JetStream as a KernelBinding: createKmon over it
// gives the same typed events the exporting hosts' sessions gave (the records
// travel as the drivers wrote them and are decoded here by the same decoder),
// in stream order, with the hosts' loss notices in-band where they happened.
import {
  ALL_CAPABILITIES,
  KmonUnsupportedError,
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
import { LOST_TOKEN, UNFRAMED_TOKEN, decodeNotice, parseSubject } from './wire.js';

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
 * What a fleet session's clock() returns until the exporters send their
 * hosts' clocks: this process's own, sampled once (right for events of this host only).
 */
export const CONSUMER_CLOCK: SessionClock = {
  bootId: 'unknown-boot',
  realtimeOffsetNs: BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint(),
};

class NatsSession implements KernelSession {
  private nc: NatsConnection | undefined;
  private messages: ConsumerMessages | undefined;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
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
    if (where.token === LOST_TOKEN) {
      this.flush(); // the notice comes after the records before it
      this.sink.onLoss?.(this.notice(m, where.host));
      return;
    }
    if (where.token !== UNFRAMED_TOKEN && !this.kinds.has(where.token)) return;
    this.pending.push(m.data);
    this.pendingBytes += m.data.length;
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

  /** Hands what waits to the consumer as one batch. */
  private flush() {
    this.flushing = false;
    if (this.pending.length === 0 || this.closed || this.paused) return;
    this.sink.onBatch(this.drainPending());
  }

  private drainPending(): Uint8Array {
    const batch = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    return batch;
  }

  private end() {
    this.flush();
    if (!this.closed) this.sink.onEnd?.();
  }

  private fail(error: unknown) {
    if (this.closed) return;
    this.close();
    this.sink.onError(error instanceof Error ? error : new Error(String(error)));
  }

  read(): Uint8Array {
    return this.drainPending();
  }

  /**
   * A fleet has one clock per host, and the exporters do not send theirs
   * yet: until they do, this consumer's own (as @kmon/rx assumed for every
   * binding before clock() existed), right only for events of this host.
   */
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
