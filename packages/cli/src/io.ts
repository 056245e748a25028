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
  /** Calls `stop` on Ctrl-C / SIGTERM until disposed. */
  onStopSignal(stop: () => void): { dispose(): void };
}

export const processIo: Io = {
  stdout: process.stdout,
  stderr: process.stderr,
  onStopSignal(stop) {
    process.on('SIGINT', stop).on('SIGTERM', stop);
    return { dispose: () => process.off('SIGINT', stop).off('SIGTERM', stop) };
  },
};
