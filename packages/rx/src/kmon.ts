// One shared kernel session behind Observables: the first subscriber attaches
// the driver, the last one leaving detaches it after a grace period (so a
// quick resubscribe does not reload BPF programs), and stop() completes all.
// Every record the driver attempted is delivered or reported lost in-band.
// Each event gains its context (process, user, container, wall time) from a
// process table the session keeps (see @kmon/core's process/).
import {
  contextResolver,
  decodeBatch,
  emptyStats,
  parseFilters,
  parseSessionOptionsFor,
  refuseUnsupported,
  ProcessTable,
  type BatchOrigin,
  type ContextEvent,
  type ContextMessage,
  type ContextResolver,
  type EventContext,
  type EventKind,
  type SessionClock,
  type SessionOptions,
  type FiltersInput,
  type HostLookups,
  type KernelBinding,
  type KernelSession,
  type KernelStats,
  type KmonEvent,
  type KmonMessage,
  type LostNotice,
  type ProcessEntry,
  type ProcessTableOptions,
  type SessionOptionsInput,
} from '@kmon/core';
import { Observable, Subject, filter, map, share, timer, type Subscriber } from 'rxjs';
import { LossAccountant, UnobservedTally } from './loss.js';

export interface KmonConfig {
  /**
   * Where records come from: @kmon/native's binding for this OS (the `kmon`
   * package passes it), a mock in tests, or any other KernelBinding.
   */
  binding: KernelBinding;
  /** How long the session stays attached after the last subscriber leaves. */
  graceMs?: number;
  /** How often the kernel drop counters are read while attached. */
  statsIntervalMs?: number;
  /**
   * The session's process table: `capacity` (default 16384 processes, least
   * recently used forgotten beyond it) and `lingerMs` (default 5000: how long
   * an exited process still resolves, for events that arrive after its exit).
   */
  processes?: ProcessTableOptions;
  /**
   * Host lookups for event context: user and group names, cgroup paths. The
   * `kmon` package passes this machine's; without them those context fields
   * are undefined.
   */
  host?: HostLookups;
  /**
   * Whether a session whose kinds are about processes (any but `synth` and
   * `process`) but include none of exec, fork and exit also asks the
   * binding for those, when it can (default true): the process table learns
   * the processes started during the session from them, so the events of a
   * file-only or network-only session still have argv, parent and exe.
   * Those records reach no subscriber; their losses are reported all the
   * same, and stats() counts them. false: only the kinds asked for (events
   * of processes started during the session then have what the event
   * itself says).
   */
  followProcesses?: boolean;
}

/** What a session knows about processes: read-only. */
export type ProcessView = Pick<ProcessTable, 'size' | 'capacity' | 'bootId' | 'lookup' | 'get' | 'ancestry' | 'entries'>;

export interface Kmon {
  /** Decoded batches as the kernel delivered them, each event with its context, loss notices in-band. */
  readonly batches$: Observable<ContextMessage[]>;
  /** The same messages one at a time. */
  readonly events$: Observable<ContextMessage>;
  /**
   * Pull model (`wakeup: 'pull'`): emits when records wait in the kernel, and
   * not again until read() has drained them. Subscribing attaches the session.
   */
  readonly readable$: Observable<void>;
  /** Counters of the attached session (all zero when detached). */
  stats(): KernelStats;
  /**
   * Replaces the session's filters (validated as the `filters` option is):
   * the attached session applies them from its next event, a later one
   * starts with them. Throws KmonOptionsError on bad input, or the
   * binding's KmonError when it cannot filter so.
   */
  setFilters(filters: FiltersInput): void;
  /**
   * Pull model: drains what waits in the kernel now, with the loss notices
   * found since the last read (the session must be attached: subscribe first).
   */
  read(): ContextMessage[];
  /**
   * The processes above the event's process, parent first, as the session's
   * process table knows them now (an ancestor it never saw or already forgot
   * ends the chain); a fleet event's (its `host` set) as that host's table
   * knows them. Empty before the first attach.
   */
  ancestry(event: KmonEvent | ContextEvent): ProcessEntry[];
  /**
   * The process table of the attached session (after a stop, of the last
   * one): every process it knows, by key or (pid, startTime); with `host`,
   * that fleet host's (its current boot's). Undefined before the first
   * attach, or for a host not seen.
   */
  processes(host?: string): ProcessView | undefined;
  /**
   * Backpressure: stop taking records from the kernel until the returned
   * function is called. Meanwhile records wait in the kernel ring; once it is
   * full the driver drops and counts them, and the loss is reported in-band
   * (`ring-full`, with the sequence gaps) when reading resumes. Memory in JS
   * stays bounded however long the pause. A batch being delivered when
   * pause() is called is delivered to its end. Pauses nest: reading resumes
   * once every pause has been resumed. Calling a resume twice does nothing.
   */
  pause(): () => void;
  /**
   * Deliberate stop: detaches from the kernel hooks, delivers every record
   * left in the ring and the final loss notices, completes every subscriber,
   * and releases the session.
   */
  stop(): void;
}

/** What the shared session emits: decoded batches, and (pull mode) notices that records wait. */
const READABLE = Symbol('readable');
type Delivery = ContextMessage[] | typeof READABLE;

/** A pull read takes at most this many batches, so a producer as fast as us cannot keep it looping. */
const MAX_BATCHES_PER_READ = 64;

/** A view of processes and of the wall clock: the session's own, or one fleet host's. */
interface Context {
  table: ProcessTable;
  resolver: ContextResolver;
  clock: SessionClock;
  /** Kinds the session asked for only to keep the table: they update it and reach no subscriber. */
  internal: ReadonlySet<EventKind>;
}

/** The kind of the records describing the processes that ran at attach. */
const SNAPSHOT_KIND: EventKind = 'process';
/** The kinds that keep the table current: processes started, replaced and ended during the session. */
const LIFECYCLE_KINDS: readonly EventKind[] = ['exec', 'fork', 'exit'];
/** Kinds about no process of their own (a load generator's records, the snapshot). */
const NOT_ABOUT_PROCESSES: readonly EventKind[] = ['synth', SNAPSHOT_KIND];

/**
 * The kinds the session asks the binding for beyond the user's, each when
 * the binding can record it: the snapshot always (the table is seeded from
 * it, so events of processes older than the session have their argv, parent
 * and start time), and, when `follow` and the kinds are about processes but
 * name no lifecycle kind (a user who names some chose them), the lifecycle
 * kinds (so do processes started during it).
 */
function internalKinds(kinds: readonly EventKind[], binding: KernelBinding, follow: boolean): EventKind[] {
  const aboutProcesses = kinds.some((k) => !NOT_ABOUT_PROCESSES.includes(k));
  const follows = follow && aboutProcesses && !kinds.some((k) => LIFECYCLE_KINDS.includes(k));
  return [SNAPSHOT_KIND, ...(follows ? LIFECYCLE_KINDS : [])].filter(
    (k) => binding.capabilities.kinds.includes(k) && !kinds.includes(k),
  );
}

/** Events are decoded with their context properties in place, for the resolver to fill. */
const WITH_CONTEXT = { withContext: true };

/**
 * Decodes a batch into messages: its events with their context, then a
 * notice for each loss it revealed. Only the session's own records are
 * checked for sequence gaps (`accountant`): a fleet host's losses arrive as
 * that host's notices, and its CPUs are not this session's.
 */
function toMessages(batch: Uint8Array, accountant: LossAccountant | undefined, context: Context): ContextMessage[] {
  const { events, faults, stoppedEarly } = decodeBatch(batch, WITH_CONTEXT);
  const sawGap = accountant?.sawGap(events) ?? false;
  // The events array becomes the messages in place (no second array per batch):
  // each event gains its context; records of kinds only the session asked for leave it.
  const messages = events as ContextMessage[];
  // Whether a kind is kept is looked up when the kind changes (records come in runs of one kind): a Set lookup per event showed in live profiles.
  const { internal } = context;
  let kind: string | undefined;
  let keep = true;
  let kept = 0;
  for (let i = 0; i < events.length; i++) {
    const resolved = context.resolver.resolve(events[i]!);
    if (resolved.kind !== kind) keep = !internal.has((kind = resolved.kind));
    if (keep) messages[kept++] = resolved;
  }
  messages.length = kept;
  faults.forEach((error, i) => {
    const notice: LostNotice = { kind: 'lost', cause: 'malformed', count: 1, byKind: {}, error };
    // The fault that stopped the decoder stands for the unreadable rest of the batch.
    if (stoppedEarly && i === faults.length - 1) notice.atLeast = true;
    messages.push(notice);
  });
  if (sawGap) messages.push(...accountant!.newLosses());
  return messages;
}

/** Reads batches until the ring is empty or `limit` batches were read; says whether more may wait. */
function drain(session: KernelSession, accountant: LossAccountant, context: Context, limit: number) {
  const messages: ContextMessage[] = [];
  for (let i = 0; i < limit; i++) {
    const batch = session.read();
    if (batch.length === 0) return { messages, more: false };
    for (const message of toMessages(batch, accountant, context)) messages.push(message);
  }
  return { messages, more: true };
}

/**
 * A shared session over `config.binding`. Validates `options` now: bad values
 * throw KmonOptionsError, and what the binding cannot honour throws
 * KmonUnsupportedError naming its platform, before anything is attached.
 */
export function createKmon(options: SessionOptionsInput, config: KmonConfig): Kmon {
  const binding = config.binding;
  const asked = parseSessionOptionsFor(binding.capabilities, options);
  const added = internalKinds(asked.kinds, binding, config.followProcesses ?? true);
  const parsed = added.length > 0 ? { ...asked, kinds: [...asked.kinds, ...added] } : asked;
  const internal: ReadonlySet<EventKind> = new Set(added);
  const graceMs = config.graceMs ?? 250;
  const statsIntervalMs = config.statsIntervalMs ?? 250;
  const pull = parsed.wakeup === 'pull';
  const stop$ = new Subject<void>();
  let listeners = 0;
  let live: { read(): ContextMessage[]; stats(): KernelStats; session: KernelSession } | undefined;
  /** The attached session's process context; the last one's after it detached. */
  let context: Context | undefined;
  /** Each fleet host's process context (its current boot's), for batches that came with an origin. */
  let hostContexts = new Map<string, Context>();
  let pauses = 0;

  const attach = (subscriber: Subscriber<Delivery>) => {
    let session: KernelSession | undefined;
    const accountant = new LossAccountant(() => session?.stats() ?? { cpus: [], bindingDropped: 0 });
    const unobserved = new UnobservedTally();
    /** Pull mode: loss notices found between reads wait here for the next read(). */
    const held: ContextMessage[] = [];
    const deliver = (messages: ContextMessage[]) => {
      if (messages.length === 0) return;
      if (listeners === 0) return unobserved.add(messages); // in the grace period: nobody to tell yet
      const missed = unobserved.take();
      if (missed) subscriber.next([missed]);
      subscriber.next(messages);
    };
    const report = (notices: ContextMessage[]) => (pull ? held.push(...notices) : deliver(notices));
    // While paused the counters are read but not reported: the notice comes with the resumed stream.
    const reportNewLosses = () => pauses === 0 && report(accountant.newLosses());
    const guarded = (work: () => void) => () => {
      try {
        work();
      } catch (error) {
        subscriber.error(error);
      }
    };

    let sessionContext: Context | undefined;
    const hosts = (hostContexts = new Map());
    const toMessagesOf = (batch: Uint8Array, origin: BatchOrigin | undefined, own: Context) =>
      origin ? toMessages(batch, undefined, hostContext(hosts, origin)) : toMessages(batch, accountant, own);
    /** Batches handed over before open() returned (the process snapshot may be): they wait for the session's clock. */
    const early: Array<[Uint8Array, BatchOrigin | undefined]> = [];
    try {
      session = binding.open(parsed, {
        onBatch: (batch, origin) => (sessionContext ? deliver(toMessagesOf(batch, origin, sessionContext)) : early.push([batch, origin])),
        onError: (error) => subscriber.error(error),
        onReadable: () => subscriber.next(READABLE),
        onCountersChanged: guarded(() => report(accountant.newLosses())),
        onLoss: (notice) => report([notice]),
        onEnd: () => stop$.next(),
      });
    } catch (error) {
      subscriber.error(error);
      return;
    }
    const opened = session;
    const openedContext = (sessionContext = contextOf(opened));
    context = openedContext;
    for (const [batch, origin] of early.splice(0)) deliver(toMessagesOf(batch, origin, openedContext));
    if (pauses > 0) opened.pause();
    live = {
      read() {
        const { messages, more } = drain(opened, accountant, openedContext, MAX_BATCHES_PER_READ);
        // The kernel only wakes us for new records: say so ourselves when we left some.
        if (more) setImmediate(() => subscriber.next(READABLE));
        return [...held.splice(0), ...messages];
      },
      stats: () => accountant.current(),
      session: opened,
    };
    const interval = setInterval(guarded(reportNewLosses), statsIntervalMs);
    interval.unref();
    const stopping = stop$.subscribe(
      guarded(() => {
        opened.detach();
        // Nothing produces any more: drain to the end (paused or not), batch by batch, then the final counts.
        deliver(held.splice(0));
        for (let batch = opened.read(); batch.length > 0; batch = opened.read()) deliver(toMessagesOf(batch, undefined, openedContext));
        deliver(accountant.newLosses());
        subscriber.complete();
      }),
    );
    return () => {
      stopping.unsubscribe();
      clearInterval(interval);
      live = undefined;
      opened.close();
    };
  };

  /**
   * A context resolving events of `clock` through `table` (a new one by
   * default). A fleet host's (`host` named) looks up no user names or cgroup
   * paths: this machine's are not the host's.
   */
  const makeContext = (clock: SessionClock, table = new ProcessTable(clock.bootId, config.processes), host?: string): Context => ({
    table,
    resolver: contextResolver(clock, table, host === undefined ? config.host : {}, host),
    clock,
    internal,
  });
  const contextOf = (session: KernelSession): Context => makeContext(session.clock());

  /**
   * The context of a fleet host's batch: one process table per host and
   * boot (pids of two hosts, or of two boots, are different processes).
   * A later session of the same boot (an exporter restarted) keeps the
   * table and takes its newly sampled wall-clock offset. This machine's
   * user names and cgroup paths are not the host's: none are looked up.
   */
  const hostContext = (hosts: Map<string, Context>, { host, clock }: BatchOrigin): Context => {
    const known = hosts.get(host);
    if (known?.clock.realtimeOffsetNs === clock.realtimeOffsetNs && known.clock.bootId === clock.bootId) return known;
    const fresh = makeContext(clock, known?.table.bootId === clock.bootId ? known.table : undefined, host);
    hosts.set(host, fresh);
    return fresh;
  };
  /** The context an event was resolved in: its fleet host's, or the session's. */
  const contextOfEvent = (event: KmonEvent | ContextEvent) => {
    const host = (event as Partial<EventContext>).host;
    return host === undefined ? context : hostContexts.get(host);
  };

  const shared$ = new Observable<Delivery>(attach).pipe(
    share({ resetOnRefCountZero: () => timer(graceMs), resetOnError: true, resetOnComplete: true }),
  );
  /** shared$ with a count of who is listening, so nothing is emitted into the void unnoticed. */
  const deliveries$ = new Observable<Delivery>((subscriber) => {
    listeners++;
    const subscription = shared$.subscribe(subscriber);
    return () => {
      listeners--;
      subscription.unsubscribe();
    };
  });
  const batches$ = deliveries$.pipe(filter((d): d is ContextMessage[] => d !== READABLE));
  const readable$ = deliveries$.pipe(
    filter((d) => d === READABLE),
    map(() => undefined),
  );
  const events$ = new Observable<ContextMessage>((subscriber) =>
    batches$.subscribe({
      next: (messages) => {
        for (const message of messages) subscriber.next(message);
      },
      error: (error) => subscriber.error(error),
      complete: () => subscriber.complete(),
    }),
  );

  return {
    batches$,
    events$,
    readable$,
    stats: () => live?.stats() ?? emptyStats(),
    setFilters(input) {
      const filters = parseFilters(input);
      refuseUnsupported(binding.capabilities, { filters: input });
      live?.session.setFilters(filters);
      parsed.filters = filters; // the session attached next starts with them
    },
    read: () => live?.read() ?? [],
    ancestry(event) {
      const of = contextOfEvent(event);
      const entry = of?.resolver.entryOf(event);
      return of && entry ? of.table.ancestry(entry) : [];
    },
    processes: (host) => (host === undefined ? context?.table : hostContexts.get(host)?.table),
    pause: () => {
      if (pauses++ === 0) live?.session.pause();
      let resumed = false;
      return () => {
        if (resumed) return;
        resumed = true;
        if (--pauses === 0) live?.session.resume();
      };
    },
    stop: () => stop$.next(),
  };
}

/** Live kernel events with loss notices in-band, from one shared session. */
export function events(options: SessionOptionsInput, config: KmonConfig): Observable<ContextMessage> {
  return createKmon(options, config).events$;
}
