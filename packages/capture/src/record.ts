// Records a live session: wraps any binding and writes to a capture what the
// session hands its consumer (each batch before the consumer sees it, each
// counter reading as it is taken, a fatal error), in the order it happens.
import type { BatchSink, KernelBinding, KernelSession, SessionClock } from '@kmon/core';
import { headerNow } from './header.js';
import type { CaptureWriter } from './writer.js';

/** Optional sink callbacks, passed through only when the consumer has them. */
function passThrough(sink: BatchSink): Partial<BatchSink> {
  return {
    ...(sink.onReadable && { onReadable: () => sink.onReadable?.() }),
    ...(sink.onCountersChanged && { onCountersChanged: () => sink.onCountersChanged?.() }),
    ...(sink.onEnd && { onEnd: () => sink.onEnd?.() }),
  };
}

/**
 * `inner`, recording one session into `writer`. Closing the session ends the
 * capture; a failed write (disk full) ends the session with that error.
 */
export function recordingBinding(inner: KernelBinding, writer: CaptureWriter): KernelBinding {
  return {
    name: inner.name,
    capabilities: inner.capabilities,
    open(options, sink): KernelSession {
      let session: KernelSession | undefined;
      // The header carries the session's clock, known once it is open: a batch
      // handed over before open() returned waits for it.
      let early: Uint8Array[] | undefined = [];
      const writeHeader = (clock?: SessionClock) => {
        if (!early) return;
        writer.header(headerNow(inner.name, options, clock));
        for (const batch of early) writer.batch(batch);
        early = undefined;
      };
      const failWith = (error: Error) => {
        writeHeader();
        writer.error(error);
        writer.end();
        sink.onError(error);
      };
      const checkWrites = () => {
        const failure = writer.failure;
        if (!failure || writer.ended) return;
        writer.end();
        // Not from inside the consumer's call: it is still using the session.
        queueMicrotask(() => {
          session?.close();
          sink.onError(failure);
        });
      };
      try {
        session = inner.open(options, {
          ...passThrough(sink),
          onBatch: (batch) => {
            if (early) early.push(batch);
            else writer.batch(batch);
            checkWrites();
            sink.onBatch(batch);
          },
          onError: failWith,
        });
      } catch (error) {
        writeHeader();
        writer.error(error as Error);
        writer.end();
        throw error;
      }
      const opened = session;
      writeHeader(opened.clock());
      return {
        clock: () => opened.clock(),
        read() {
          const batch = opened.read();
          if (batch.length > 0) writer.batch(batch);
          checkWrites();
          return batch;
        },
        stats() {
          const stats = opened.stats();
          writer.counters(stats);
          checkWrites();
          return stats;
        },
        setFilters: (filters) => opened.setFilters(filters),
        pause: () => opened.pause(),
        resume: () => opened.resume(),
        detach: () => opened.detach(),
        close() {
          opened.close();
          writer.end();
        },
      };
    },
  };
}
