// What the server sends the page over server-sent events. Strings that came
// from the kernel are escaped already (see rows.ts) and are only ever shown
// as text.

/** One message of the session, flattened for display. */
export interface Row {
  /** Order of arrival in the session (gaps: rows dropped for this view). */
  seq: number;
  /** The event's kind; 'process': a process running when the session attached (or when this view opened), which only the tree shows. */
  kind: string;
  /** Event time, ms on the session's clock (monotonic since boot). */
  timeMs?: number;
  /** Wall-clock time, ms since the epoch, when the session knows it. */
  wallMs?: number;
  pid?: number;
  /** The process: its context's key (core's processKey), the same on every kind of event of it. */
  key?: string | undefined;
  startMs?: number;
  ppid?: number;
  /** The parent's key, when the session knows it. */
  parentKey?: string | undefined;
  comm?: string | undefined;
  container?: string;
  /** fork: the child process. */
  child?: { pid: number; key: string; startMs: number };
  argv?: string[];
  exe?: string | undefined;
  path?: string | undefined;
  exit?: { code: number; signal: number };
  result?: number;
  port?: number;
  address?: string | undefined;
  /** A loss notice of the session. */
  lost?: { cause: string; count: number };
}

/** The session's health, sent about once a second (not subject to a view's drops). */
export interface Health {
  mode: 'live' | 'replay';
  wakeup: string;
  /** Records the driver tried to emit. */
  attempted: number;
  /** Events the session delivered. */
  delivered: number;
  /** Records lost, by cause (ring-full, malformed, unobserved...). */
  lost: Record<string, number>;
  ring?: { usedBytes: number; sizeBytes: number };
  /** Events delivered per kind in the last interval, and its length. */
  rates: Record<string, number>;
  intervalMs: number;
  /** When that interval ended (ms since the epoch, server clock): a new value means new rates. */
  ratesAtMs: number;
  /** Events dropped for this browser view because it read too slowly. */
  droppedForView: number;
  /** Replay: where the capture is, 0..1; undefined live. */
  progress?: number;
  /** The session ended (replay finished, or kmon stopped). */
  ended: boolean;
  /** Why the session ended, when it failed. */
  error?: string;
}

/** SSE event names. */
export const ROWS_EVENT = 'rows';
export const HEALTH_EVENT = 'health';
