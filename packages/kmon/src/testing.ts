// Test support for code built on kmon: the mock kernel binding, the record
// encoder, and a writer whose reader stops reading (for backpressure tests).
import { Writable } from 'node:stream';

export * from '@kmon/rx/testing';

/**
 * A writer (what pausingWriter and `kmon watch` write to) whose reader stops
 * reading until release(): chunks beyond `highWaterMark` wait, and write()
 * returns false as a real stdout would. Records the most it ever buffered and
 * everything written.
 */
export function stallingWriter(highWaterMark: number) {
  const held: Array<() => void> = [];
  let stalled = true;
  let longest = 0;
  let text = '';
  const stream = new Writable({
    highWaterMark,
    decodeStrings: false,
    write: (chunk: string, _encoding, done) => {
      text += chunk;
      if (stalled) held.push(done);
      else done();
    },
  });
  return {
    write(chunk: string) {
      const ok = stream.write(chunk);
      longest = Math.max(longest, stream.writableLength);
      return ok;
    },
    once: (event: 'drain', listener: () => void) => stream.once(event, listener),
    /** The most the stream ever buffered (bytes). */
    longest: () => longest,
    /** Everything written, read or not. */
    text: () => text,
    /** The reader reads again: held chunks and later ones go through. */
    release() {
      stalled = false;
      for (const done of held.splice(0)) done();
    },
  };
}
