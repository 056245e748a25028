// Renders kmon messages for people (text) and for programs (json, jsonl).
import { constants } from 'node:os';
import {
  EVENT_KINDS,
  formatDuration,
  safe,
  shellWord,
  type ContextEvent,
  type ContextMessage,
  type KmonEvent,
  type KmonMessage,
  type SafeText,
  type SocketAddress,
} from 'kmon';
import type { Colours } from './colour.js';
import { timeOfDay } from './time.js';

export const FORMATS = ['text', 'json', 'jsonl'] as const;
export type Format = (typeof FORMATS)[number];

/** The TIME column: the event's wall-clock time of day (the session clock's), local with its UTC offset, or UTC. */
export function timeCell(message: ContextEvent, utc: boolean): string {
  return timeOfDay(message.wallTimeNs, utc);
}

/** JSON with 64-bit values as decimal strings (exact, and what jq can read); `wallTime` is ISO 8601 (UTC). */
export function toJson(message: KmonMessage): string {
  return JSON.stringify(message, (_key, value: unknown) => {
    if (typeof value === 'bigint') return value.toString();
    if (value instanceof Error) return { name: value.name, message: value.message };
    return value;
  });
}

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));
/** An errno's name (ENOENT), or its number when unknown. */
const errnoName = (errno: number) => ERRNO_NAMES.get(errno) ?? `errno ${errno}`;

/** A socket call's result: ok, in progress, or the errno's name (ECONNREFUSED). */
function socketOutcome(result: number): SafeText {
  if (result >= 0) return safe`ok`;
  if (result === -constants.errno.EINPROGRESS) return safe`in progress`;
  return safe`${errnoName(-result)}`;
}

/** One end of a socket: 10.0.0.5:443, [::1]:443, a unix path, @abstract, or - (none). */
function endpoint(a: SocketAddress, path = '', abstract = false): SafeText {
  if (a.address) return a.address.includes(':') ? safe`[${a.address}]:${a.port}` : safe`${a.address}:${a.port}`;
  if (path || abstract) return abstract ? safe`@${path}` : safe`${path}`;
  return safe`-`;
}

/** A signal's name (SIGKILL), or its number when Node has no name for it (real-time signals). */
export function signalName(signal: number): string {
  const name = Object.entries(constants.signals).find(([, n]) => n === signal)?.[0];
  return name ?? `signal ${signal}`;
}

/** What a file call came to: nothing when it succeeded, else its errno name. */
const outcome = (result: number) => (result >= 0 ? '' : ` failed ${errnoName(-result)}`);
/** A path the driver cut keeps its end: say that its beginning is missing. */
const cutPath = (path: string, cut: boolean) => (cut ? safe`…/${path}` : safe`${path}`);
const octal = (mode: number) => mode.toString(8).padStart(4, '0');
const ACCESS = ['read', 'write', 'read-write', 'access-3'];
const argvCut = (e: { truncated: { argv: boolean }; argc: number }) => (e.truncated.argv ? safe` …(argv cut, argc=${e.argc})` : '');

// Each kind's DETAIL column (time, pid and comm have their own). The SafeText
// return type makes every renderer, of today's kinds and of those to come,
// build its text with `safe` (every kernel-supplied value escaped) or
// shellWord: no raw string reaches a terminal.
const describeEvent: { [K in KmonEvent['kind']]: (e: Extract<KmonEvent, { kind: K }>) => SafeText } = {
  exec: (e) => safe`ppid=${e.ppid} uid=${e.uid} ${e.filename} ${e.argv.map(shellWord)}${argvCut(e)}`,
  exit: (e) =>
    safe`${e.signal ? safe`signal=${signalName(e.signal)}${e.coreDumped ? ' (core dumped)' : ''}` : safe`code=${e.exitCode}`} lifetime=${formatDuration(
      e.time - e.startTime,
    )}`,
  fork: (e) => safe`-> ${e.thread ? 'thread' : 'child'}=${e.thread ? e.childTid : e.childPid}`,
  process: (e) => safe`running at attach: ppid=${e.ppid} uid=${e.uid} ${e.exe || e.comm} ${e.argv.map(shellWord)}${argvCut(e)}`,
  'exec-failed': (e) => safe`failed ${errnoName(e.error)} ${e.filename} ${e.argv.map(shellWord)}${argvCut(e)}`,
  synth: (e) => safe`value=${e.value} payload=${Buffer.byteLength(e.payload)}B`,
  'image-load': (e) => safe`${e.path}`,
  'registry-set': (e) => safe`${e.key}\\${e.valueName} type=${e.valueType} size=${e.dataSize}`,
  connect: (e) => safe`${endpoint(e.local)} -> ${endpoint(e.remote, e.path, e.abstract)} ${socketOutcome(e.result)}`,
  accept: (e) => safe`${endpoint(e.local, e.path, e.abstract)} <- ${endpoint(e.remote)} fd=${e.newFd}`,
  listen: (e) => safe`${endpoint(e.local, e.path, e.abstract)} backlog=${e.backlog} ${socketOutcome(e.result)}`,
  bind: (e) => safe`${endpoint(e.local, e.path, e.abstract)} ${socketOutcome(e.result)}`,
  close: (e) =>
    safe`${endpoint(e.local)} ${e.inbound ? '<-' : '->'} ${endpoint(e.remote)} sent=${e.bytesSent}B received=${e.bytesReceived}B after ${formatDuration(e.durationNs)}`,
  send: (e) => safe`${endpoint(e.local)} -> ${endpoint(e.remote)} ${e.datagrams} datagram(s) ${e.bytes}B`,
  dns: (e) => safe`${e.query.questions.map((q) => safe`${q.name} ${q.type}`)} @ ${endpoint(e.server)}${e.truncated.query ? ' (cut)' : ''}`,
  open: (e) =>
    safe`${e.created ? 'created' : 'opened'} ${cutPath(e.path, e.truncated.path)} ${ACCESS[e.openFlags & 3]!}${
      e.result >= 0 ? safe` fd=${e.result}` : outcome(e.result)
    }`,
  unlink: (e) => safe`${e.directory ? 'removed dir' : 'removed'} ${cutPath(e.path, e.truncated.path)}${outcome(e.result)}`,
  rename: (e) =>
    safe`renamed ${cutPath(e.oldPath, e.truncated.oldPath)} -> ${cutPath(e.newPath, e.truncated.newPath)}${outcome(e.result)}`,
  mkdir: (e) => safe`made dir ${cutPath(e.path, e.truncated.path)} mode=${octal(e.mode)}${outcome(e.result)}`,
  chmod: (e) => safe`chmod ${cutPath(e.path, e.truncated.path)} mode=${octal(e.mode)}${outcome(e.result)}`,
  chown: (e) =>
    safe`chown ${cutPath(e.path, e.truncated.path)} uid=${e.uid === 0xffff_ffff ? '-' : e.uid} gid=${e.gid === 0xffff_ffff ? '-' : e.gid}${outcome(
      e.result,
    )}`,
  link: (e) => safe`${e.symlink ? 'symlinked' : 'linked'} ${cutPath(e.path, e.truncated.path)} -> ${e.target}${outcome(e.result)}`,
};

/** Text columns, execsnoop's shape: one header line, then one aligned row per message. */
const COLUMNS = [
  { title: 'TIME', width: 18 }, // 14:05:03.123+01:00
  { title: 'EVENT', width: Math.max(...[...EVENT_KINDS, 'lost'].map((k) => k.length)) },
  { title: 'PID', width: 7 },
  { title: 'COMM', width: 16 },
  { title: 'DETAIL', width: 0 },
] as const;

/** Cells padded to their column's width; `visible` is a cell's length without colour escapes (they take no columns). */
const row = (cells: { text: string; visible: number }[]) =>
  cells
    .map((cell, i) => cell.text + ' '.repeat(Math.max(0, COLUMNS[i]!.width - cell.visible)))
    .join(' ')
    .trimEnd();
const plain = (text: string) => ({ text, visible: text.length });

export const textHeader = (c: Colours): string => c.bold(row(COLUMNS.map((col) => plain(col.title))));

const kindColour = (c: Colours, kind: string): ((s: string) => string) =>
  ({
    exec: c.green,
    'exec-failed': c.red,
    exit: c.yellow,
    fork: c.cyan,
    open: c.blue,
    rename: c.blue,
    unlink: c.red,
    lost: (s: string) => c.bold(c.red(s)),
  })[kind] ?? c.magenta;

export function toText(message: ContextMessage, utc: boolean, c: Colours): string {
  const kind = { text: kindColour(c, message.kind)(message.kind), visible: message.kind.length };
  // A fleet's messages (watch --from nats://) say which host recorded them; a local session's have no host.
  const host = message.host === undefined ? '' : safe`@${message.host} `.text;
  if (message.kind === 'lost') {
    const detail = message.error ? safe`: ${message.error.message}` : '';
    return row([plain(''), kind, plain('-'), plain('-'), plain(`${host}${message.count} record(s) lost (${message.cause})${detail}`)]);
  }
  const comm = 'comm' in message ? safe`${message.comm}`.text : '-';
  const render = describeEvent[message.kind] as (e: KmonEvent) => SafeText;
  return row([plain(timeCell(message, utc)), kind, plain(String(message.pid)), plain(comm), plain(host + render(message).text)]);
}

/** Writes messages in one format; `end()` closes what the format needs closed. */
export interface Printer {
  print(message: ContextMessage): void;
  end(): void;
}

export function createPrinter(format: Format, write: (chunk: string) => void, c: Colours, utc = false): Printer {
  switch (format) {
    case 'jsonl':
      return { print: (m) => write(toJson(m) + '\n'), end: () => {} };
    case 'json': {
      let first = true;
      return {
        print: (m) => {
          write((first ? '[\n' : ',\n') + toJson(m));
          first = false;
        },
        end: () => write(first ? '[]\n' : '\n]\n'),
      };
    }
    case 'text': {
      write(textHeader(c) + '\n');
      return { print: (m) => write(toText(m, utc, c) + '\n'), end: () => {} };
    }
  }
}
