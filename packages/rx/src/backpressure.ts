// Writing kmon's stream to something slower than the kernel (a pipe, a file,
// a socket) without buffering it in memory: the writer pauses the session
// when the destination's buffer is full, so records wait in the kernel ring
// (and are dropped and counted there) instead of piling up in JS.
import type { Kmon } from './kmon.js';

/** What a writer needs of a Node stream (process.stdout, fs.WriteStream, net.Socket...). */
export interface DrainableWritable {
  /** false when the stream's buffer is past its high-water mark. */
  write(chunk: string): unknown;
  once(event: 'drain', listener: () => void): unknown;
}

/**
 * A write function for `stream` that pauses `kmon` whenever the stream says
 * its buffer is full, and resumes it on 'drain'. What the stream buffers is
 * then bounded by its high-water mark plus the rest of one kernel batch.
 */
export function pausingWriter(kmon: Pick<Kmon, 'pause'>, stream: DrainableWritable): (chunk: string) => void {
  let resume: (() => void) | undefined;
  const drained = () => {
    const pending = resume;
    resume = undefined;
    pending?.();
  };
  return (chunk) => {
    if (stream.write(chunk) !== false || resume) return;
    resume = kmon.pause();
    stream.once('drain', drained);
  };
}
