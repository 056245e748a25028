// What watch, record and replay share: run a kmon session until it completes
// or is stopped (Ctrl-C, --count, --duration, a caller's condition), print
// (or only count) its messages, keep the status line, and say what was seen.
// Every loss is printed in-band and counted.
import { pausingWriter, whereComm, wherePid, type Kmon, type EventKind, type ContextMessage, type LostNotice } from 'kmon';
import { type MonoTypeOperatorFunction, filter, identity, takeWhile, tap } from 'rxjs';
import { colours } from './colour.js';
import { createPrinter, type Format } from './format.js';
import type { Io } from './io.js';
import { NO_STATUS_LINE, statusLine, type StatusSource } from './status.js';

export interface OutputOptions {
  format: Format;
  pids: number[];
  comms: string[];
  /** Only these kinds go out (loss notices always do). */
  kinds?: EventKind[];
  /** Only the events this keeps go out (a replay's filters; loss notices always do). */
  where?: (message: ContextMessage) => boolean;
  /** false: messages are counted, not printed (record). */
  print?: boolean;
  /** Stop after this many events (loss notices not counted). */
  count?: number;
  /** Stop after this many seconds. */
  durationSec?: number;
  /** No status line. */
  quiet?: boolean;
  /** Colour text output; by default when stdout is a terminal. */
  colour?: boolean;
  /** Text times in UTC rather than local time. */
  utc?: boolean;
}

/** Output options of a command that consumes the stream without printing it (record, export): only its stop conditions. */
export function unprinted(stop: Pick<OutputOptions, 'count' | 'durationSec' | 'quiet'>): OutputOptions {
  return {
    format: 'jsonl',
    print: false,
    pids: [],
    comms: [],
    ...(stop.count !== undefined && { count: stop.count }),
    ...(stop.durationSec !== undefined && { durationSec: stop.durationSec }),
    ...(stop.quiet !== undefined && { quiet: stop.quiet }),
  };
}

export interface StreamSummary {
  events: number;
  lost: number;
  lostByCause: Partial<Record<LostNotice['cause'], number>>;
  seconds: number;
}

function selection(options: OutputOptions): MonoTypeOperatorFunction<ContextMessage> {
  const byPid = options.pids.length > 0 ? wherePid<ContextMessage>(...options.pids) : identity;
  const byComm = options.comms.length > 0 ? whereComm<ContextMessage>(...options.comms) : identity;
  const kinds = new Set<string>(options.kinds ?? []);
  const byKind = kinds.size > 0 ? filter<ContextMessage>((m) => m.kind === 'lost' || kinds.has(m.kind)) : identity;
  const byFilters = options.where ? filter(options.where) : identity;
  return (source) => source.pipe(byKind, byPid, byComm, byFilters);
}

export interface StreamHooks {
  /** What the status line shows besides rates and losses (a replay's progress). */
  status?: StatusSource;
  /** Called after each message; true stops the session (record --max-size). */
  shouldStop?: () => boolean;
  /** The command running the stream (watch, record, replay): its lines on stderr say so. */
  command: string;
  /** Written to stderr once the session is attached. */
  banner: string;
  /** Called once the session is attached. */
  onAttached?: () => void;
}

/** Node's timers overflow past 2^31 - 1 ms (~24.8 days) and fire at once: longer waits are chained. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/** Calls `done` once `ms` have passed, however long that is; cancel() stops it. */
export function after(ms: number, done: () => void): { cancel(): void } {
  const deadline = performance.now() + ms;
  let timer: NodeJS.Timeout;
  const wait = () => {
    const left = deadline - performance.now();
    if (left <= 0) return done();
    timer = setTimeout(wait, Math.min(left, LONGEST_TIMER_MS));
  };
  wait();
  return { cancel: () => clearTimeout(timer) };
}

/** Runs until stopped; resolves with what was seen, rejects with the stream's error. */
export function runStream(kmon: Kmon, options: OutputOptions, io: Io, hooks: StreamHooks): Promise<StreamSummary> {
  const stdoutIsTerminal = io.stdout.isTTY === true;
  // A reader slower than the kernel pauses the session: records wait (and drop, counted) in the ring, not in stdout's buffer.
  const c = colours(options.colour ?? stdoutIsTerminal);
  const printer = createPrinter(options.format, pausingWriter(kmon, io.stdout), c, options.utc ?? false);
  const summary: StreamSummary = { events: 0, lost: 0, lostByCause: {}, seconds: 0 };
  const limit = options.count ?? Infinity;
  const started = performance.now();
  let status = NO_STATUS_LINE; // drawn once the banner is out
  const print = (message: ContextMessage) => {
    if (options.print === false) return;
    if (stdoutIsTerminal) status.clear(); // events and the status line share the terminal: never mixed
    printer.print(message);
  };

  return new Promise((resolve, reject) => {
    const stopSignals = io.onStopSignal(() => kmon.stop());
    const timer = options.durationSec === undefined ? undefined : after(options.durationSec * 1000, () => kmon.stop());
    const finish = () => {
      stopSignals.dispose();
      timer?.cancel();
      status.stop();
      printer.end();
      summary.seconds = (performance.now() - started) / 1000;
    };
    io.stdout.on?.('error', () => kmon.stop()); // reader went away (e.g. `| head`)
    const subscription = kmon.events$
      .pipe(
        tap((message) => status.count(message)),
        selection(options),
        takeWhile((m) => m.kind === 'lost' || summary.events < limit),
      )
      .subscribe({
        next: (message) => {
          if (message.kind === 'lost') {
            summary.lost += message.count;
            summary.lostByCause[message.cause] = (summary.lostByCause[message.cause] ?? 0) + message.count;
          } else summary.events++;
          print(message);
          if (summary.events >= limit || hooks.shouldStop?.()) kmon.stop();
        },
        error: (error: unknown) => {
          finish();
          reject(error);
        },
        complete: () => {
          finish();
          resolve(summary);
        },
      });
    if (subscription.closed) return;
    io.stderr.write(`kmon ${hooks.command}: ${hooks.banner}\n`);
    status = statusLine(io.stderr, options.quiet === true, { stats: () => kmon.stats(), ...hooks.status });
    hooks.onAttached?.();
  });
}

/** "12 events, 3 lost (ring-full 3)": the summary every command ends with. */
export function describeSummary(summary: StreamSummary): string {
  const causes = Object.entries(summary.lostByCause).map(([cause, n]) => `${cause} ${n}`);
  return `${summary.events} events, ${summary.lost} lost${causes.length > 0 ? ` (${causes.join(', ')})` : ''}`;
}
