// One shared kernel session behind Observables: the first subscriber attaches
// the driver, the last one leaving detaches it after a grace period (so a
// quick resubscribe does not reload BPF programs), and stop() completes all.
// Every record the driver attempted is delivered or reported lost in-band.
import {
  decodeBatch,
  emptyStats,
  parseFilters,
  parseSessionOptionsFor,
  refuseUnsupported,
  type FiltersInput,
  type KernelBinding,
  type KernelSession,
  type KernelStats,
  type KmonMessage,
  type LostNotice,
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
}

export interface Kmon {
  /** Decoded batches as the kernel delivered them, with loss notices in-band. */
  readonly batches$: Observable<KmonMessage[]>;
  /** The same messages one at a time. */
  readonly events$: Observable<KmonMessage>;
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
  read(): KmonMessage[];
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
type Delivery = KmonMessage[] | typeof READABLE;

/** A pull read takes at most this many batches, so a producer as fast as us cannot keep it looping. */
const MAX_BATCHES_PER_READ = 64;

/** Decodes a batch into messages: its events, then a notice for each loss it revealed. */
function toMessages(batch: Uint8Array, accountant: LossAccountant): KmonMessage[] {
  const { events, faults, stoppedEarly } = decodeBatch(batch);
  const messages: KmonMessage[] = events;
  faults.forEach((error, i) => {
    const notice: LostNotice = { kind: 'lost', cause: 'malformed', count: 1, byKind: {}, error };
    // The fault that stopped the decoder stands for the unreadable rest of the batch.
    if (stoppedEarly && i === faults.length - 1) notice.atLeast = true;
    messages.push(notice);
  });
  if (accountant.sawGap(events)) messages.push(...accountant.newLosses());
  return messages;
}

/** Reads batches until the ring is empty or `limit` batches were read; says whether more may wait. */
function drain(session: KernelSession, accountant: LossAccountant, limit: number) {
  const messages: KmonMessage[] = [];
  for (let i = 0; i < limit; i++) {
    const batch = session.read();
    if (batch.length === 0) return { messages, more: false };
    for (const message of toMessages(batch, accountant)) messages.push(message);
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
  const parsed = parseSessionOptionsFor(binding.capabilities, options);
  const graceMs = config.graceMs ?? 250;
  const statsIntervalMs = config.statsIntervalMs ?? 250;
  const pull = parsed.wakeup === 'pull';
  const stop$ = new Subject<void>();
  let listeners = 0;
  let live: { read(): KmonMessage[]; stats(): KernelStats; session: KernelSession } | undefined;
  let pauses = 0;

  const attach = (subscriber: Subscriber<Delivery>) => {
    let session: KernelSession | undefined;
    const accountant = new LossAccountant(() => session?.stats() ?? { cpus: [], bindingDropped: 0 });
    const unobserved = new UnobservedTally();
    /** Pull mode: loss notices found between reads wait here for the next read(). */
    const held: KmonMessage[] = [];
    const deliver = (messages: KmonMessage[]) => {
      if (messages.length === 0) return;
      if (listeners === 0) return unobserved.add(messages); // in the grace period: nobody to tell yet
      const missed = unobserved.take();
      if (missed) subscriber.next([missed]);
      subscriber.next(messages);
    };
    const report = (notices: KmonMessage[]) => (pull ? held.push(...notices) : deliver(notices));
    // While paused the counters are read but not reported: the notice comes with the resumed stream.
    const reportNewLosses = () => pauses === 0 && report(accountant.newLosses());
    const guarded = (work: () => void) => () => {
      try {
        work();
      } catch (error) {
        subscriber.error(error);
      }
    };

    try {
      session = binding.open(parsed, {
        onBatch: (batch) => deliver(toMessages(batch, accountant)),
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
    if (pauses > 0) opened.pause();
    live = {
      read() {
        const { messages, more } = drain(opened, accountant, MAX_BATCHES_PER_READ);
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
        for (let batch = opened.read(); batch.length > 0; batch = opened.read()) deliver(toMessages(batch, accountant));
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
  const batches$ = deliveries$.pipe(filter((d): d is KmonMessage[] => d !== READABLE));
  const readable$ = deliveries$.pipe(
    filter((d) => d === READABLE),
    map(() => undefined),
  );
  const events$ = new Observable<KmonMessage>((subscriber) =>
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
export function events(options: SessionOptionsInput, config: KmonConfig): Observable<KmonMessage> {
  return createKmon(options, config).events$;
}
