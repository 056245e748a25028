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
import { Observable, Subject, share, timer, type Subscriber } from 'rxjs';
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
  /** Counters of the attached session (all zero when detached). */
  stats(): KernelStats;
  /** Pull model: drains what waits in the kernel now (attaching if needed is the caller's job: subscribe first). */
  read(): KmonMessage[];
  /** Deliberate stop: delivers what is left, reports final losses, completes every subscriber, detaches. */
  stop(): void;
}

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

  const attach = (subscriber: Subscriber<KmonMessage[]>) => {
    let session: KernelSession | undefined;
    const accountant = new LossAccountant(() => session?.stats() ?? { cpus: [], bindingDropped: 0 });
    const emit = (messages: KmonMessage[]) => {
      if (messages.length > 0) subscriber.next(messages);
    };
    try {
      session = binding.open(parsed, {
        onBatch: (batch) => emit(toMessages(batch, accountant)),
        onError: (error) => subscriber.error(error),
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
      emit(toMessages(opened.read(), accountant));
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

  const batches$ = new Observable<KmonMessage[]>(attach).pipe(
    share({ resetOnRefCountZero: () => timer(graceMs), resetOnError: true, resetOnComplete: true }),
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
    stats: () => live?.accountant.current() ?? emptyStats(),
    read: () => (live ? toMessages(live.session.read(), live.accountant) : []),
    stop: () => stop$.next(),
  };
}

/** Live kernel events with loss notices in-band, from one shared session. */
export function events(options: SessionOptionsInput = {}, config: KmonConfig = {}): Observable<KmonMessage> {
  return createKmon(options, config).events$;
}
