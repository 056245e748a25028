// Records a live session: wraps any binding and writes to a capture what the
// session hands its consumer (each batch before the consumer sees it, each
// counter reading as it is taken, each loss notice from upstream, a fatal
// error), in the order it happens. The tapping itself is core's
// tappedBinding; this adds the capture's header, its end, and write failures.
import { tappedBinding, type KernelBinding, type KernelSession, type SessionClock } from '@kmon/core';
import { headerNow } from './header.js';
import type { CaptureWriter } from './writer.js';

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
      // The header carries the session's clock, known once it is open: what
      // the session handed over before open() returned waits for it.
      let early: Array<() => void> | undefined = [];
      const writeHeader = (clock?: SessionClock) => {
        if (!early) return;
        writer.header(headerNow(inner.name, options, clock));
        for (const write of early) write();
        early = undefined;
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
      const record = (write: () => void) => {
        if (early) {
          early.push(write);
          return;
        }
        write();
        checkWrites();
      };
      const recorded = tappedBinding(inner, {
        batch: (batch, origin) => record(() => writer.batch(batch, origin)),
        stats: (stats) => record(() => writer.counters(stats)),
        loss: (notice) => record(() => writer.loss(notice)),
      });
      const endWith = (error: Error) => {
        writeHeader();
        writer.error(error);
        writer.end();
      };
      try {
        session = recorded.open(options, { ...sink, onError: (error) => (endWith(error), sink.onError(error)) });
      } catch (error) {
        endWith(error as Error);
        throw error;
      }
      const opened = session;
      writeHeader(opened.clock());
      // tappedBinding's session is a plain object: spreading it keeps every method.
      return {
        ...opened,
        close() {
          opened.close();
          writer.end();
        },
      };
    },
  };
}
