// Example: report every process that exits non-zero (or is killed), with its
// command line and how long it lived. Run: pnpm --filter @kmon/examples failed-exits
import { createKmon, formatDuration, ofKind, safe, shellWord, type ContextMessage, type LostNotice } from 'kmon';
import { type OperatorFunction, filter, map } from 'rxjs';

export interface FailedExit {
  pid: number;
  comm: string;
  /** The command line, from the session's process table (undefined when the process is unknown to it). */
  argv: readonly string[] | undefined;
  exitCode: number;
  signal: number;
  lifetimeNs: bigint;
}

/** Failed exits with their command line (every event carries its process's). Loss notices pass through. */
export function failedExits(): OperatorFunction<ContextMessage, FailedExit | LostNotice> {
  return (source) =>
    source.pipe(
      ofKind('exit', 'lost'),
      filter((m) => m.kind === 'lost' || m.exitCode !== 0 || m.signal !== 0),
      map((m) =>
        m.kind === 'lost'
          ? m
          : { pid: m.pid, comm: m.comm, argv: m.process.argv, exitCode: m.exitCode, signal: m.signal, lifetimeNs: m.time - m.startTime },
      ),
    );
}

export function describeFailure(f: FailedExit | LostNotice): string {
  if ('cause' in f) return `!! ${f.count} record(s) lost (${f.cause}): some failures may be missing`;
  const how = f.signal ? `killed by signal ${f.signal}` : `exit ${f.exitCode}`;
  // The command line is the traced program's to choose: shown escaped, never interpreted by the terminal.
  const command = f.argv ? safe`${f.argv.map(shellWord)}` : safe`[${f.comm}]`;
  return `${how.padEnd(18)} after ${formatDuration(f.lifetimeNs).padStart(9)}  pid ${f.pid}  ${command.text}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const kmon = createKmon({ kinds: ['exec', 'exit'] });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => kmon.stop());
  kmon.events$.pipe(failedExits()).subscribe({
    next: (f) => console.log(describeFailure(f)),
    error: (e: Error & { hint?: string }) => {
      console.error(`failed-exits: ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}`);
      process.exitCode = 1;
    },
  });
}
