// An Io that keeps what the program writes, and lets a test send the stop
// signal, for running the CLI in-process on the mock binding; `terminal`
// says whether stdout is a terminal and what the environment holds.
import type { Io } from '../src/io.js';

export function memoryIo(terminal: { isTTY?: boolean; env?: NodeJS.ProcessEnv } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  let stop: (() => void) | undefined;
  const io: Io = {
    stdout: { write: (s: string) => out.push(s), once: () => undefined, isTTY: terminal.isTTY ?? false },
    stderr: { write: (s: string) => err.push(s), once: () => undefined },
    env: terminal.env ?? {},
    onStopSignal: (fn) => ((stop = fn), { dispose: () => (stop = undefined) }),
  };
  return { io, out: () => out.join(''), err: () => err.join(''), interrupt: () => stop?.() };
}
