// `kmon watch`: live events until Ctrl-C (or --count / --duration), then a
// one-line summary on stderr. `kmon watch -- <command>` runs the command and
// watches only its process tree (followed by the kernel), until it exits.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { createKmon, type Kmon, type KmonConfig, type SessionOptionsInput } from 'kmon';
import type { Io } from './io.js';
import { runStream, type OutputOptions, type StreamSummary } from './stream.js';

export interface WatchOptions extends OutputOptions {
  session: SessionOptionsInput;
  /** Run this (program and arguments) and watch only its process tree. */
  command?: string[];
}

export interface WatchSummary extends StreamSummary {
  /** With a command: its exit status (128 + the signal's number when a signal ended it). */
  commandExit?: number;
}

export async function watch(options: WatchOptions, io: Io, config: KmonConfig = {}): Promise<WatchSummary> {
  const { command } = options;
  if (!command) return runStream(createKmon(options.session, config), options, io, { command: 'watch', banner: 'watching; Ctrl-C to stop' });

  const asked = options.session.filters?.process ?? {};
  const only = (pid: number) => ({ ...options.session.filters, process: { ...asked, pids: [pid], children: true } });
  // Until the command exists, kmon's own subtree: the kernel tracks the child from its fork on.
  const kmon = createKmon({ ...options.session, excludeSelf: true, filters: only(process.pid) }, config);
  let commandExit: number | undefined;
  const summary = await runStream(kmon, options, io, {
    command: 'watch',
    banner: `watching ${command.join(' ')}`,
    onAttached: () => runCommand(command, kmon, io, only, (status) => (commandExit = status)),
  });
  return { ...summary, ...(commandExit !== undefined && { commandExit }) };
}

/** Spawns the command (its output goes to stderr: stdout is kmon's), narrows the filter to it, stops kmon when it exits. */
function runCommand(
  command: string[],
  kmon: Kmon,
  io: Io,
  only: (pid: number) => NonNullable<SessionOptionsInput['filters']>,
  exited: (status: number) => void,
): void {
  const child = spawn(command[0]!, command.slice(1), { stdio: ['inherit', 2, 2] });
  child.once('spawn', () => kmon.setFilters(only(child.pid!)));
  child.once('error', (error) => {
    io.stderr.write(`kmon watch: cannot run ${command[0]}: ${error.message}\n`);
    exited(127);
    kmon.stop();
  });
  child.once('exit', (code, signal) => {
    exited(code ?? 128 + (signal ? constants.signals[signal] : 0));
    kmon.stop(); // the exit record is in the ring already: stop() delivers it
  });
}
