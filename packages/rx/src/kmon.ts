// One shared kernel session behind Observables: the first subscriber attaches
// the driver, the last one leaving detaches it after a grace period (so a
// quick resubscribe does not reload BPF programs), and stop() completes all.
import {
  decodeBatch,
  parseSessionOptions,
  type KernelBinding,
  type KernelSession,
  type KernelStats,
  type KmonMessage,
  type LostNotice,
  type SessionOptionsInput,
  emptyStats,
} from '@kmon/core';
import { nativeBinding } from '@kmon/native';
import { Observable, Subject, filter, map, share, timer, type Subscriber } from 'rxjs';
import { LossAccountant } from './loss.js';

export interface KmonConfig {
  /** The kernel binding; defaults to @kmon/native's for this OS. Tests pass a mock. */
  binding?: KernelBinding;
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
  /** Pull model: drains what waits in the kernel now (the session must be attached: subscribe first). */
  read(): KmonMessage[];
  /** Deliberate stop: delivers what is left, reports final losses, completes every subscriber, detaches. */
  stop(): void;
}

/** What the shared session emits: decoded batches, and (pull mode) notices that records wait. */
const READABLE = Symbol('readable');
type Delivery = KmonMessage[] | typeof READABLE;

/** Reads at most this many batches per read(): a producer as fast as us cannot keep it looping. */
const MAX_BATCHES_PER_READ = 64;

/** Decodes a batch into messages: its events, then a notice for each loss it revealed. */
function toMessages(batch: Uint8Array, accountant: LossAccountant): KmonMessage[] {
  const { events, faults } = decodeBatch(batch);
  const messages: KmonMessage[] = events;
  for (const error of faults) {
    messages.push({ kind: 'lost', cause: 'malformed', count: 1, byKind: {}, error } satisfies LostNotice);
  }
  if (accountant.sawGap(events)) messages.push(...accountant.newLosses());
  return messages;
}

export function createKmon(options: SessionOptionsInput = {}, config: KmonConfig = {}): Kmon {
  const parsed = parseSessionOptions(options);
  const binding = config.binding ?? nativeBinding;
  const graceMs = config.graceMs ?? 250;
  const statsIntervalMs = config.statsIntervalMs ?? 250;
  const stop$ = new Subject<void>();
  let live: { session: KernelSession; accountant: LossAccountant } | undefined;

  /** Drains what waits, batch after batch, into messages. */
  const drain = (session: KernelSession, accountant: LossAccountant): KmonMessage[] => {
    const messages: KmonMessage[] = [];
    for (let i = 0; i < MAX_BATCHES_PER_READ; i++) {
      const batch = session.read();
      if (batch.length === 0) break;
      for (const message of toMessages(batch, accountant)) messages.push(message);
    }
    return messages;
  };

  const attach = (subscriber: Subscriber<Delivery>) => {
    let session: KernelSession | undefined;
    const accountant = new LossAccountant(() => session?.stats() ?? { cpus: [], bindingDropped: 0 });
    const emit = (messages: KmonMessage[]) => {
      if (messages.length > 0) subscriber.next(messages);
    };
    try {
      session = binding.open(parsed, {
        onBatch: (batch) => emit(toMessages(batch, accountant)),
        onError: (error) => subscriber.error(error),
        onReadable: () => subscriber.next(READABLE),
      });
    } catch (error) {
      subscriber.error(error);
      return;
    }
    const opened = session;
    live = { session: opened, accountant };
    const checkLosses = () => emit(accountant.newLosses());
    const interval = setInterval(checkLosses, statsIntervalMs);
    interval.unref();
    const stopping = stop$.subscribe(() => {
      emit(drain(opened, accountant));
      checkLosses();
      subscriber.complete();
    });
    return () => {
      stopping.unsubscribe();
      clearInterval(interval);
      live = undefined;
      opened.close();
    };
  };

  const deliveries$ = new Observable<Delivery>(attach).pipe(
    share({ resetOnRefCountZero: () => timer(graceMs), resetOnError: true, resetOnComplete: true }),
  );
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
    stats: () => live?.accountant.current() ?? emptyStats(),
    read: () => (live ? drain(live.session, live.accountant) : []),
    stop: () => stop$.next(),
  };
}

/** Live kernel events with loss notices in-band, from one shared session. */
export function events(options: SessionOptionsInput = {}, config: KmonConfig = {}): Observable<KmonMessage> {
  return createKmon(options, config).events$;
}
