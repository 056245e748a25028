// The `kmon ui` server: node:http, the page built at build time (dist/page),
// and one server-sent-events stream per browser view fed from one @kmon/rx
// session. Every request needs the random token printed at start (401
// without one, 403 with a wrong one); every response carries a strict
// Content-Security-Policy (scripts and styles from this server only, no
// inline script, no eval), so even a string that slipped through as markup
// could not run.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Kmon, KmonMessage } from 'kmon';
import type { Subscription } from 'rxjs';
import { ViewStream, type ViewStats } from './client.js';
import type { Health } from './protocol.js';
import { entryRow, toRow } from './rows.js';

export interface UiServerOptions {
  /** The session to show (live, or over a replay binding). */
  kmon: Kmon;
  mode: 'live' | 'replay';
  /** The session's wakeup mode, shown in its health. */
  wakeup: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Default: 32 random bytes, hex. */
  token?: string;
  /** Rows queued per browser view before they are dropped for it (default 20000). */
  viewCapacity?: number;
  /** How often views are written to (default 100 ms); health goes out every tick. */
  flushMs?: number;
  /** Replay: where the capture is, 0..1. */
  progress?: () => number;
}

export interface UiServer {
  /** The page's address, with the token. */
  readonly url: string;
  readonly token: string;
  /** Per open view: what is queued, dropped, and buffered in its socket. */
  views(): ViewStats[];
  /** Stops the session's subscription, closes every view and the server. */
  close(): Promise<void>;
}

const PAGE_DIR = fileURLToPath(new URL('../dist/page/', import.meta.url));

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers of every response: the token is in the URL, so it must not leak through a Referer or a cache. */
const COMMON_HEADERS = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'cross-origin-resource-policy': 'same-origin',
};

/** The built page's files, read once: the server needs no file system access per request. */
function loadPage(token: string) {
  const read = (name: string) => readFileSync(`${PAGE_DIR}${name}`, 'utf8');
  // The token is hex (checked where it is made), so it is safe in an attribute.
  const html = read('index.html').replaceAll('__TOKEN__', token);
  return {
    '/': { type: 'text/html; charset=utf-8', body: html },
    '/app.js': { type: 'text/javascript; charset=utf-8', body: read('app.js') },
    '/app.css': { type: 'text/css; charset=utf-8', body: read('app.css') },
  } as Record<string, { type: string; body: string }>;
}

/** 401 without a token, 403 with a wrong one, undefined when it is right. */
function refusal(request: IncomingMessage, token: string): number | undefined {
  const given = new URL(request.url ?? '/', 'http://x').searchParams.get('token');
  if (!given) return 401;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b) ? undefined : 403;
}

/** Counts what the session delivered and lost, and the rate per kind over the current interval. */
class SessionTally {
  delivered = 0;
  lost: Record<string, number> = {};
  rates: Record<string, number> = {};
  private since = Date.now();

  add(message: KmonMessage): void {
    if (message.kind === 'lost') {
      this.lost[message.cause] = (this.lost[message.cause] ?? 0) + message.count;
      return;
    }
    this.delivered++;
    this.rates[message.kind] = (this.rates[message.kind] ?? 0) + 1;
  }

  /** The rates since the last call, and the interval's length. */
  takeRates(): { rates: Record<string, number>; intervalMs: number; ratesAtMs: number } {
    const now = Date.now();
    const taken = { rates: this.rates, intervalMs: now - this.since, ratesAtMs: now };
    this.rates = {};
    this.since = now;
    return taken;
  }
}

export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const token = options.token ?? randomBytes(32).toString('hex');
  if (!/^[0-9a-f]{16,}$/u.test(token)) throw new Error('the ui token must be at least 16 hex digits');
  const page = loadPage(token);
  const capacity = options.viewCapacity ?? 20_000;
  const views = new Set<ViewStream>();
  const tally = new SessionTally();
  let ended = false;
  let failure: string | undefined;
  let seq = 0;
  let subscription: Subscription | undefined;

  /** The session starts with the first view (a replay then plays to someone), and runs until close. */
  const follow = () => {
    subscription ??= options.kmon.events$.subscribe({
      next: (message) => {
        tally.add(message);
        // A fleet's events name their host: its table (its boot id) names a fork's child.
        const processes = options.kmon.processes(message.kind === 'lost' ? undefined : message.host);
        const row = JSON.stringify(toRow(message, seq++, processes));
        for (const view of views) view.push(row);
      },
      error: (error: unknown) => {
        ended = true;
        failure = error instanceof Error ? error.message : String(error);
      },
      complete: () => (ended = true),
    });
  };

  let rates = tally.takeRates();
  const health = (): Omit<Health, 'droppedForView'> => {
    if (Date.now() - rates.ratesAtMs >= 1000) rates = tally.takeRates();
    const stats = options.kmon.stats();
    return {
      mode: options.mode,
      wakeup: options.wakeup,
      attempted: stats.attempted,
      delivered: tally.delivered,
      lost: tally.lost,
      ...(stats.ring && { ring: stats.ring }),
      ...rates,
      ...(options.progress && { progress: options.progress() }),
      ended,
      ...(failure !== undefined && { error: failure }),
    };
  };
  const ticker = setInterval(() => {
    if (views.size === 0) return;
    const now = health();
    for (const view of views) view.flush(now);
  }, options.flushMs ?? 100);

  /**
   * A view opened after the session attached starts with the processes its
   * table knows are running (the first view gets the snapshot itself, as the
   * session's first rows, when the session asked for the 'process' kind).
   */
  const seed = (view: ViewStream) => {
    for (const entry of options.kmon.processes()?.entries() ?? []) if (!entry.exit) view.push(JSON.stringify(entryRow(entry, seq)));
  };

  const openView = (request: IncomingMessage, response: ServerResponse) => {
    response.writeHead(200, { ...COMMON_HEADERS, 'content-type': 'text/event-stream', connection: 'keep-alive' });
    response.write(': kmon\n\n');
    const view = new ViewStream(response, capacity);
    seed(view);
    views.add(view);
    request.once('close', () => views.delete(view));
    follow();
  };

  const server = createServer((request, response) => {
    const refused = refusal(request, token);
    if (refused) {
      response.writeHead(refused, { ...COMMON_HEADERS, 'content-type': 'text/plain' });
      response.end(refused === 401 ? 'kmon ui: this page needs the token printed when kmon ui started\n' : 'kmon ui: wrong token\n');
      return;
    }
    if (request.method !== 'GET') {
      response.writeHead(405, COMMON_HEADERS).end();
      return;
    }
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    if (path === '/events') return openView(request, response);
    const file = page[path];
    if (!file) {
      response.writeHead(404, { ...COMMON_HEADERS, 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    response.writeHead(200, { ...COMMON_HEADERS, 'content-type': file.type }).end(file.body);
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    token,
    views: () => [...views].map((view) => view.stats()),
    async close() {
      clearInterval(ticker);
      subscription?.unsubscribe();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
