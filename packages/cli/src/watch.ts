// `kmon watch`: live events until Ctrl-C (or --count / --duration), then a
// one-line summary on stderr. Every loss is printed in-band and counted.
import { createKmon, whereComm, wherePid, type KmonConfig, type KmonMessage, type SessionOptionsInput } from 'kmon';
import { type MonoTypeOperatorFunction, identity, takeWhile } from 'rxjs';
import { createPrinter, type Format } from './format.js';
import type { Io } from './io.js';

export interface WatchOptions {
  session: SessionOptionsInput;
  format: Format;
  pids: number[];
  comms: string[];
  /** Stop after this many events (loss notices not counted). */
  count?: number;
  /** Stop after this many seconds. */
  durationSec?: number;
}

export interface WatchSummary {
  events: number;
  lost: number;
}

function filters(options: WatchOptions): MonoTypeOperatorFunction<KmonMessage> {
  const byPid = options.pids.length > 0 ? wherePid<KmonMessage>(...options.pids) : identity;
  const byComm = options.comms.length > 0 ? whereComm<KmonMessage>(...options.comms) : identity;
  return (source) => source.pipe(byPid, byComm);
}

/** Runs until stopped; resolves with what was seen, rejects with the stream's error. */
export function watch(options: WatchOptions, io: Io, config: KmonConfig = {}): Promise<WatchSummary> {
  const kmon = createKmon(options.session, config);
  const printer = createPrinter(options.format, (chunk) => io.stdout.write(chunk), io.stdout.isTTY === true);
  const summary: WatchSummary = { events: 0, lost: 0 };
  const limit = options.count ?? Infinity;

  return new Promise((resolve, reject) => {
    const stopSignals = io.onStopSignal(() => kmon.stop());
    const timer = options.durationSec === undefined ? undefined : setTimeout(() => kmon.stop(), options.durationSec * 1000);
    const finish = () => {
      stopSignals.dispose();
      clearTimeout(timer);
      printer.end();
    };
    io.stdout.on?.('error', () => kmon.stop()); // reader went away (e.g. `| head`)
    const subscription = kmon.events$.pipe(filters(options), takeWhile((m) => m.kind === 'lost' || summary.events < limit)).subscribe({
      next: (message) => {
        if (message.kind === 'lost') summary.lost += message.count;
        else summary.events++;
        printer.print(message);
        if (summary.events >= limit) kmon.stop();
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
    if (!subscription.closed) io.stderr.write('kmon: watching; Ctrl-C to stop\n');
  });
}
