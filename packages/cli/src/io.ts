// What the CLI needs from its process, so tests can run commands in-process.
export interface Output {
  /** false when the stream's buffer is full: watch then pauses until 'drain'. */
  write(chunk: string): unknown;
  once(event: 'drain', listener: () => void): unknown;
  isTTY?: boolean;
  on?(event: 'error', listener: (error: Error) => void): unknown;
}

export interface Io {
  stdout: Output;
  stderr: Output;
  /** The environment (NO_COLOR, FORCE_COLOR); none when absent. */
  env?: NodeJS.ProcessEnv;
  /** Calls `stop` on Ctrl-C, SIGTERM, SIGHUP and SIGQUIT (and when a launching package manager ends) until disposed. */
  onStopSignal(stop: () => void): { dispose(): void };
}

/**
 * Each ends a session cleanly (detach, drain, summary): Ctrl-C, kill, a closed
 * terminal (SIGHUP), Ctrl-\\ (SIGQUIT). Unhandled, any of them would end node
 * without detaching (the kernel would unload the programs, but the summary
 * and the final loss report would be lost).
 */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;

/**
 * Under `pnpm kmon ...` (a package script that execs node: pnpm is our
 * parent) pnpm passes SIGTERM and SIGINT on to us but not SIGHUP, and nothing
 * if it is killed outright: when the package manager that started us is
 * gone (our parent changed), stop as on a signal rather
 * than run on, orphaned, with the programs attached. Run directly (nohup,
 * a service), kmon outlives its parent as any program does.
 */
function onLauncherGone(stop: () => void): () => void {
  if (process.env.npm_lifecycle_event === undefined) return () => {};
  const launcher = process.ppid;
  const check = setInterval(() => process.ppid !== launcher && stop(), 250);
  check.unref();
  return () => clearInterval(check);
}

/**
 * Once a session has stopped, a stop signal that arrives while kmon writes its
 * summary and exits (pnpm passes on the Ctrl-C it got too, after the
 * terminal's own) must not turn a clean stop into death by that signal: it is
 * absorbed, and kmon ends by itself a moment later with its own status.
 */
const absorb = () => {};

export const processIo: Io = {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  onStopSignal(stop) {
    for (const signal of STOP_SIGNALS) process.on(signal, stop);
    const stopWatching = onLauncherGone(stop);
    return {
      dispose: () => {
        stopWatching();
        for (const signal of STOP_SIGNALS) {
          if (!process.listeners(signal).includes(absorb)) process.on(signal, absorb);
          process.off(signal, stop);
        }
      },
    };
  },
};
