import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { pausingWriter } from './backpressure.js';

/** A stream whose buffer is full after `room` chunks, until drain(). */
function slowStream(room: number) {
  const emitter = new EventEmitter();
  const written: string[] = [];
  return {
    written,
    once: (event: 'drain', listener: () => void) => emitter.once(event, listener),
    write: (chunk: string) => written.push(chunk) < room,
    drain: () => emitter.emit('drain'),
  };
}

describe('pausingWriter', () => {
  it('pauses once when the stream is full and resumes on drain', () => {
    let pauses = 0;
    let resumes = 0;
    const kmon = { pause: () => (pauses++, () => resumes++) };
    const stream = slowStream(2);
    const write = pausingWriter(kmon, stream);
    write('a');
    expect(pauses).toBe(0);
    write('b');
    write('c'); // the rest of a batch: written, no second pause
    expect([pauses, resumes]).toEqual([1, 0]);
    stream.drain();
    expect([pauses, resumes]).toEqual([1, 1]);
    write('d');
    expect([pauses, resumes]).toEqual([2, 1]);
    expect(stream.written).toEqual(['a', 'b', 'c', 'd']);
  });
});
