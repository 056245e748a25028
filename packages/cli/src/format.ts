// Renders kmon messages for people (text) and for programs (json, jsonl).
import { constants } from 'node:os';
import { formatDuration, safe, shellWord, type KmonEvent, type KmonMessage, type SafeText, type SocketAddress } from 'kmon';

export const FORMATS = ['text', 'json', 'jsonl'] as const;
export type Format = (typeof FORMATS)[number];

/** Turns the kernel's monotonic timestamps into wall-clock time. */
export interface Clock {
  wallTimeMs(monotonicNs: bigint): number;
}

/** On Linux both process.hrtime and the driver's timestamps are CLOCK_MONOTONIC. */
export function systemClock(): Clock {
  const offsetNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  return { wallTimeMs: (ns) => Number((ns + offsetNs) / 1_000_000n) };
}

/** JSON with 64-bit values as decimal strings (exact, and what jq can read). */
export function toJson(message: KmonMessage): string {
  return JSON.stringify(message, (_key, value: unknown) => {
    if (typeof value === 'bigint') return value.toString();
    if (value instanceof Error) return { name: value.name, message: value.message };
    return value;
  });
}

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** A socket call's result: ok, in progress, or the errno's name (ECONNREFUSED). */
function socketOutcome(result: number): SafeText {
  if (result >= 0) return safe`ok`;
  if (result === -constants.errno.EINPROGRESS) return safe`in progress`;
  return safe`${ERRNO_NAMES.get(-result) ?? `errno ${-result}`}`;
}

/** One end of a socket: 10.0.0.5:443, [::1]:443, a unix path, @abstract, or - (none). */
function endpoint(a: SocketAddress, path = '', abstract = false): SafeText {
  if (a.address) return a.address.includes(':') ? safe`[${a.address}]:${a.port}` : safe`${a.address}:${a.port}`;
  if (path || abstract) return abstract ? safe`@${path}` : safe`${path}`;
  return safe`-`;
}

type Net = { comm: string; pid: number };
const who = (e: Net) => safe`${e.comm}(${e.pid})`;

/** What a file call came to: nothing when it succeeded, else its errno name. */
const outcome = (result: number) => (result >= 0 ? '' : ` failed ${ERRNO_NAMES.get(-result) ?? `errno ${-result}`}`);
/** A path the driver cut keeps its end: say that its beginning is missing. */
const cutPath = (path: string, cut: boolean) => (cut ? safe`…/${path}` : safe`${path}`);
const octal = (mode: number) => mode.toString(8).padStart(4, '0');
const ACCESS = ['read', 'write', 'read-write', 'access-3'];

// Each kind's text line. The SafeText return type makes every renderer, of
// today's kinds and of those to come, build its line with `safe` (every
// kernel-supplied value escaped) or shellWord: no raw string reaches a terminal.
const describeEvent: { [K in KmonEvent['kind']]: (e: Extract<KmonEvent, { kind: K }>) => SafeText } = {
  exec: (e) =>
    safe`pid=${e.pid} ppid=${e.ppid} uid=${e.uid} ${e.filename} ${e.argv.map(shellWord)}${
      e.truncated.argv ? safe` …(argv cut, argc=${e.argc})` : ''
    }`,
  exit: (e) =>
    safe`pid=${e.pid} comm=${e.comm} ${
      e.signal ? safe`signal=${e.signal}${e.coreDumped ? ' (core dumped)' : ''}` : safe`code=${e.exitCode}`
    } lifetime=${formatDuration(e.time - e.startTime)}`,
  fork: (e) => safe`pid=${e.pid} comm=${e.comm} -> ${e.thread ? 'thread' : 'child'}=${e.thread ? e.childTid : e.childPid}`,
  'exec-failed': (e) =>
    safe`pid=${e.pid} comm=${e.comm} ${e.filename} ${e.argv.map(shellWord)} errno=${e.error}${
      e.truncated.argv ? safe` …(argv cut, argc=${e.argc})` : ''
    }`,
  synth: (e) => safe`pid=${e.pid} value=${e.value} payload=${Buffer.byteLength(e.payload)}B`,
  'image-load': (e) => safe`pid=${e.pid} ${e.path}`,
  'registry-set': (e) => safe`pid=${e.pid} ${e.key}\\\\${e.valueName} type=${e.valueType} size=${e.dataSize}`,
  connect: (e) => safe`${who(e)} ${endpoint(e.local)} -> ${endpoint(e.remote, e.path, e.abstract)} ${socketOutcome(e.result)}`,
  accept: (e) => safe`${who(e)} ${endpoint(e.local, e.path, e.abstract)} <- ${endpoint(e.remote)} fd=${e.newFd}`,
  listen: (e) => safe`${who(e)} ${endpoint(e.local, e.path, e.abstract)} backlog=${e.backlog} ${socketOutcome(e.result)}`,
  bind: (e) => safe`${who(e)} ${endpoint(e.local, e.path, e.abstract)} ${socketOutcome(e.result)}`,
  close: (e) =>
    safe`${who(e)} ${endpoint(e.local)} ${e.inbound ? '<-' : '->'} ${endpoint(e.remote)} sent=${e.bytesSent}B received=${e.bytesReceived}B after ${formatDuration(e.durationNs)}`,
  send: (e) => safe`${who(e)} ${endpoint(e.local)} -> ${endpoint(e.remote)} ${e.datagrams} datagram(s) ${e.bytes}B`,
  dns: (e) =>
    safe`${who(e)} ${e.query.questions.map((q) => safe`${q.name} ${q.type}`)} @ ${endpoint(e.server)}${e.truncated.query ? ' (cut)' : ''}`,
  open: (e) =>
    safe`pid=${e.pid} comm=${e.comm} ${e.created ? 'created' : 'opened'} ${cutPath(e.path, e.truncated.path)} ${ACCESS[e.openFlags & 3]!}${
      e.result >= 0 ? safe` fd=${e.result}` : outcome(e.result)
    }`,
  unlink: (e) =>
    safe`pid=${e.pid} comm=${e.comm} ${e.directory ? 'removed dir' : 'removed'} ${cutPath(e.path, e.truncated.path)}${outcome(e.result)}`,
  rename: (e) =>
    safe`pid=${e.pid} comm=${e.comm} renamed ${cutPath(e.oldPath, e.truncated.oldPath)} -> ${cutPath(e.newPath, e.truncated.newPath)}${outcome(
      e.result,
    )}`,
  mkdir: (e) => safe`pid=${e.pid} comm=${e.comm} made dir ${cutPath(e.path, e.truncated.path)} mode=${octal(e.mode)}${outcome(e.result)}`,
  chmod: (e) => safe`pid=${e.pid} comm=${e.comm} chmod ${cutPath(e.path, e.truncated.path)} mode=${octal(e.mode)}${outcome(e.result)}`,
  chown: (e) =>
    safe`pid=${e.pid} comm=${e.comm} chown ${cutPath(e.path, e.truncated.path)} uid=${e.uid === 0xffff_ffff ? '-' : e.uid} gid=${
      e.gid === 0xffff_ffff ? '-' : e.gid
    }${outcome(e.result)}`,
  link: (e) =>
    safe`pid=${e.pid} comm=${e.comm} ${e.symlink ? 'symlinked' : 'linked'} ${cutPath(e.path, e.truncated.path)} -> ${e.target}${outcome(
      e.result,
    )}`,
};

const colours: Record<string, string> = { exec: '32', exit: '33', fork: '36', open: '34', unlink: '31', rename: '34', lost: '31;1' };
const paint = (text: string, kind: string, colour: boolean) =>
  colour ? `\x1b[${colours[kind] ?? '35'}m${text}\x1b[0m` : text;

export function toText(message: KmonMessage, clock: Clock, colour: boolean): string {
  const kind = paint(message.kind.padEnd(6), message.kind, colour);
  if (message.kind === 'lost') {
    const detail = message.error ? safe`: ${message.error.message}` : '';
    return `${''.padEnd(12)} ${kind} ${message.count} record(s) lost (${message.cause})${detail}`;
  }
  const time = new Date(clock.wallTimeMs(message.time)).toISOString().slice(11, 23);
  const render = describeEvent[message.kind] as (e: KmonEvent) => SafeText;
  return `${time} ${kind} ${render(message).text}`;
}

/** Writes messages in one format; `end()` closes what the format needs closed. */
export interface Printer {
  print(message: KmonMessage): void;
  end(): void;
}

export function createPrinter(format: Format, write: (chunk: string) => void, colour: boolean, clock: Clock = systemClock()): Printer {
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
    case 'text':
      return { print: (m) => write(toText(m, clock, colour) + '\n'), end: () => {} };
  }
}
