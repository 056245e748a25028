// The live status line of watch, record and replay: one line on stderr,
// redrawn in place (log-update) every second, only when stderr is a terminal
// and not --quiet. It says how fast events come (overall and per kind), what
// was lost by cause, how full the kernel ring is, and how long it has run; a
// replay adds a progress bar.
import type { KernelStats, KmonMessage, LostNotice } from 'kmon';
import { createLogUpdate } from 'log-update';
import type { Output } from './io.js';

export interface StatusSource {
  /** The session's counters: how full the kernel ring is, when the binding can tell. */
  stats?(): KernelStats;
  /** Replay: how far the capture has been read. */
  progress?(): { readBytes: number; fileBytes: number };
  /** What the command adds at the end of the line (export: published, acknowledged, buffered, lost). */
  extra?(): string;
}

const REDRAW_MS = 1000;
const BAR_WIDTH = 20;

/** 1234 -> "1.2k": rates read at a glance. */
export function compact(n: number): string {
  if (n < 1000) return String(Math.round(n));
  if (n < 1e6) return `${(n / 1e3).toFixed(n < 1e4 ? 1 : 0)}k`;
  return `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)}M`;
}

const clockTime = (ms: number) => {
  const s = Math.floor(ms / 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
};

export function progressBar(readBytes: number, fileBytes: number): string {
  const done = fileBytes > 0 ? Math.min(1, readBytes / fileBytes) : 0;
  const filled = Math.round(done * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${Math.floor(done * 100)}%`;
}

/** Counts what passes and renders the line; `render()` is pure for the tests. */
export class StatusTally {
  private total = 0;
  private window = new Map<string, number>();
  private windowStart: number;
  private readonly lost = new Map<LostNotice['cause'], number>();

  constructor(
    private readonly source: StatusSource,
    private readonly start = performance.now(),
  ) {
    this.windowStart = start;
  }

  count(message: KmonMessage): void {
    if (message.kind === 'lost') {
      this.lost.set(message.cause, (this.lost.get(message.cause) ?? 0) + message.count);
      return;
    }
    this.total++;
    this.window.set(message.kind, (this.window.get(message.kind) ?? 0) + 1);
  }

  /** The line now; starts a new rate window. */
  render(now = performance.now()): string {
    const seconds = Math.max(now - this.windowStart, 1) / 1000;
    const inWindow = [...this.window.values()].reduce((a, b) => a + b, 0);
    const perKind = [...this.window].map(([kind, n]) => `${kind} ${compact(n / seconds)}`).join(' ');
    const lostTotal = [...this.lost.values()].reduce((a, b) => a + b, 0);
    const byCause = [...this.lost].map(([cause, n]) => `${cause} ${n}`).join(', ');
    const lost = lostTotal === 0 ? 'lost 0' : `lost ${lostTotal} (${byCause})`;
    const parts = [clockTime(now - this.start), `${compact(inWindow / seconds)} ev/s${perKind ? ` (${perKind})` : ''}`, `${this.total} events`, lost];
    const ring = this.source.stats?.().ring;
    if (ring && ring.sizeBytes > 0) parts.push(`ring ${Math.round((100 * ring.usedBytes) / ring.sizeBytes)}%`);
    const progress = this.source.progress?.();
    if (progress) parts.push(progressBar(progress.readBytes, progress.fileBytes));
    const extra = this.source.extra?.();
    if (extra) parts.push(extra);
    this.window = new Map();
    this.windowStart = now;
    return `kmon ${parts.join(' · ')}`;
  }
}

export interface StatusLine {
  count(message: KmonMessage): void;
  /** Before writing events to the same terminal: takes the line away until that output is written. */
  clear(): void;
  /** Removes the line for good. */
  stop(): void;
}

export const NO_STATUS_LINE: StatusLine = { count: () => {}, clear: () => {}, stop: () => {} };

/** A status line on `stderr` when it is a terminal and not `quiet`; otherwise one that does nothing. */
export function statusLine(stderr: Output, quiet: boolean, source: StatusSource = {}): StatusLine {
  if (quiet || stderr.isTTY !== true) return NO_STATUS_LINE;
  const tally = new StatusTally(source);
  // A terminal that reports no size (a bare pty, a serial console) would make log-update print nothing.
  const terminal = stderr as Partial<NodeJS.WriteStream>;
  const sized = {
    write: (chunk: string) => stderr.write(chunk),
    get columns() {
      return terminal.columns || 80;
    },
    get rows() {
      return terminal.rows || 24;
    },
  };
  const draw = createLogUpdate(sized as NodeJS.WriteStream, { showCursor: true });
  let drawn = false;
  let comingBack: NodeJS.Immediate | undefined;
  let text = tally.render();
  const show = () => {
    comingBack = undefined;
    draw(text);
    drawn = true;
  };
  show();
  const timer = setInterval(() => {
    text = tally.render();
    show();
  }, REDRAW_MS);
  timer.unref();
  return {
    count: (message) => tally.count(message),
    clear() {
      if (drawn) draw.clear();
      drawn = false;
      // Back below the output once this batch of it is written.
      comingBack ??= setImmediate(show);
    },
    stop() {
      clearInterval(timer);
      if (comingBack) clearImmediate(comingBack);
      if (drawn) draw.clear();
    },
  };
}
