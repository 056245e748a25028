// One browser view's stream: a bounded queue of rows, flushed as one SSE
// message per tick while the socket keeps up. When the browser reads slowly
// the socket stops accepting (write() returns false): nothing more is
// written until it drains, rows beyond the queue's capacity are dropped and
// counted for this view only, and the count goes out with the next health
// message. Memory per view is at most `capacity` rows plus one flush in the
// socket's buffer, however slow the browser.
import type { ServerResponse } from 'node:http';
import { HEALTH_EVENT, ROWS_EVENT, type Health } from './protocol.js';

export interface ViewStats {
  /** Rows waiting to be written. */
  queued: number;
  /** Rows dropped for this view since it connected. */
  dropped: number;
  /** Bytes written to the socket and not yet taken by the browser. */
  bufferedBytes: number;
}

export class ViewStream {
  private queue: string[] = [];
  private dropped = 0;
  private blocked = false;

  constructor(
    private readonly response: ServerResponse,
    private readonly capacity: number,
  ) {}

  /** Queues a row (serialised); drops it, counted, when the queue is full. */
  push(row: string): void {
    if (this.queue.length >= this.capacity) this.dropped++;
    else this.queue.push(row);
  }

  /** Writes what is queued and the health message, unless the browser has not taken the last write yet. */
  flush(health: Omit<Health, 'droppedForView'>): void {
    if (this.blocked || this.response.destroyed) return;
    const rows = this.queue;
    this.queue = [];
    const message = { ...health, droppedForView: this.dropped };
    const chunk =
      (rows.length > 0 ? `event: ${ROWS_EVENT}\ndata: [${rows.join(',')}]\n\n` : '') + `event: ${HEALTH_EVENT}\ndata: ${JSON.stringify(message)}\n\n`;
    if (!this.response.write(chunk)) {
      this.blocked = true;
      this.response.once('drain', () => (this.blocked = false));
    }
  }

  stats(): ViewStats {
    return { queued: this.queue.length, dropped: this.dropped, bufferedBytes: this.response.writableLength };
  }
}
