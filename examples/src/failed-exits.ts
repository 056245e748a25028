// Example: report every process that exits non-zero (or is killed), with its
// command line and how long it lived. Run: pnpm --filter @kmon/examples failed-exits
import { createKmon, formatDuration, ofKind, processKey, safe, shellWord, type ExecEvent, type KmonMessage, type LostNotice } from 'kmon';
import { type OperatorFunction, filter, map, scan } from 'rxjs';

export interface FailedExit {
  pid: number;
  comm: string;
  /** The command line, when kmon saw the process exec (else undefined: it started before kmon). */
  argv: string[] | undefined;
  exitCode: number;
  signal: number;
  lifetimeNs: bigint;
}

interface State {
  /** Command lines of live processes by (pid, start time); the oldest go first past MAX_TRACKED. */
  commandLines: Map<string, string[]>;
  out: FailedExit | LostNotice | undefined;
}

/** An exit lost to a full ring would leave its entry forever: bound the map. */
const MAX_TRACKED = 65_536;

function remember(map: Map<string, string[]>, key: string, argv: string[]) {
  map.set(key, argv);
  if (map.size > MAX_TRACKED) map.delete(map.keys().next().value!);
}

/** Pairs each failed exit with the exec of the same process. Loss notices pass through. */
export function failedExits(): OperatorFunction<KmonMessage, FailedExit | LostNotice> {
  return (source) =>
    source.pipe(
      ofKind('exec', 'exit', 'lost'),
      scan<ExecEvent | Extract<KmonMessage, { kind: 'exit' | 'lost' }>, State>(
        (state, m) => {
          state.out = undefined;
          if (m.kind === 'lost') state.out = m;
          else if (m.kind === 'exec') remember(state.commandLines, processKey(m.pid, m.startTime), m.argv);
          else {
            const key = processKey(m.pid, m.startTime);
            const argv = state.commandLines.get(key);
            state.commandLines.delete(key);
            if (m.exitCode !== 0 || m.signal !== 0) {
              state.out = { pid: m.pid, comm: m.comm, argv, exitCode: m.exitCode, signal: m.signal, lifetimeNs: m.time - m.startTime };
            }
          }
          return state;
        },
        { commandLines: new Map(), out: undefined },
      ),
      map((state) => state.out),
      filter((out): out is FailedExit | LostNotice => out !== undefined),
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
