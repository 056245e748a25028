// What the page is sent for each message of the session: a flat row with
// every kernel-supplied string already escaped by @kmon/core's escapeText
// (the one place that decides what is shown as an escape), so the page only
// ever puts plain text into textContent. Process identity is (pid, start
// time), which exec, fork, exit and the file and network kinds all carry.
import { escapeText, type KmonMessage } from 'kmon';
import type { Row } from './protocol.js';

/** The key of the process `pid` started at `startTime` (the events' clock): the same on every kind. */
const keyOf = (pid: number, startTime: bigint | undefined) => (startTime === undefined ? undefined : `${pid}:${startTime}`);

const ms = (ns: bigint) => Number(ns) / 1e6;

/** The optional context later sessions add to each event (process key, container): read if present. */
interface MaybeContext {
  process?: { container?: { id?: string; runtime?: string } };
  wallTime?: Date;
}

type Fields = Record<string, unknown>;

const text = (value: unknown) => (typeof value === 'string' ? escapeText(value) : undefined);

/** A port in a socket address field (network kinds), if any. */
function portOf(fields: Fields): number | undefined {
  for (const name of ['remote', 'local']) {
    const port = (fields[name] as { port?: unknown } | undefined)?.port;
    if (typeof port === 'number' && port > 0) return port;
  }
  return undefined;
}

/** An address field shown as `address:port`, escaped. */
function addressOf(fields: Fields): string | undefined {
  for (const name of ['remote', 'local']) {
    const sockaddr = fields[name] as { address?: unknown; port?: unknown } | undefined;
    if (sockaddr && typeof sockaddr.address === 'string' && sockaddr.address !== '') return escapeText(`${sockaddr.address}:${sockaddr.port}`);
  }
  return undefined;
}

/** `wallTimeMs`: the wall clock of an event time, when the session's context does not carry it (a capture's header does). */
export function toRow(message: KmonMessage, seq: number, wallTimeMs?: (ns: bigint) => number): Row {
  if (message.kind === 'lost') return { seq, kind: 'lost', lost: { cause: message.cause, count: message.count } };
  const fields = message as unknown as Fields & MaybeContext;
  const startTime = typeof fields.startTime === 'bigint' ? fields.startTime : undefined;
  const row: Row = {
    seq,
    kind: message.kind,
    timeMs: ms(message.time),
    pid: message.pid,
    key: keyOf(message.pid, startTime),
    comm: text(fields.comm),
  };
  if (fields.wallTime instanceof Date) row.wallMs = fields.wallTime.getTime();
  else if (wallTimeMs) row.wallMs = wallTimeMs(message.time);
  const container = fields.process?.container;
  if (container?.id) row.container = escapeText(`${container.runtime ?? 'container'}:${container.id.slice(0, 12)}`);
  if (typeof fields.ppid === 'number') {
    row.ppid = fields.ppid;
    if (typeof fields.parentStartTime === 'bigint') row.parentKey = keyOf(fields.ppid, fields.parentStartTime);
  }
  if (startTime !== undefined) row.startMs = ms(startTime);
  if (message.kind === 'fork') {
    row.parentKey = keyOf(message.pid, message.parentStartTime);
    row.key = keyOf(message.pid, message.parentStartTime);
    row.startMs = ms(message.parentStartTime);
    row.child = { pid: message.childPid, key: keyOf(message.childPid, message.childStartTime)!, startMs: ms(message.childStartTime) };
  }
  if (Array.isArray(fields.argv)) row.argv = (fields.argv as string[]).map(escapeText);
  row.exe = text(fields.exe) || text(fields.filename);
  row.path = typeof fields.oldPath === 'string' ? `${text(fields.oldPath)} -> ${text(fields.newPath)}` : text(fields.path) || text(fields.filename);
  if (typeof fields.exitCode === 'number') row.exit = { code: fields.exitCode, signal: Number(fields.signal ?? 0) };
  if (typeof fields.result === 'number') row.result = fields.result;
  const port = portOf(fields);
  if (port !== undefined) row.port = port;
  row.address = addressOf(fields);
  return row;
}
