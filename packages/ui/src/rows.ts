// What the page is sent for each message of the session: a flat row with
// every kernel-supplied string already escaped by @kmon/core's escapeText
// (the one place that decides what is shown as an escape), so the page only
// ever puts plain text into textContent. Processes are named by the key the
// session's context gives every event (core's processKey), so the page's
// tree and the session's process table agree on what one process is.
import { escapeText, processKey, type ContextMessage, type Kmon, type ProcessEntry } from 'kmon';
import type { Row } from './protocol.js';

/** The session's process table (undefined before it attached). */
type ProcessView = ReturnType<Kmon['processes']>;

const ms = (ns: bigint) => Number(ns) / 1e6;

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

/** `processes`: the session's table, whose boot id names a fork's child as the context names its parent. */
export function toRow(message: ContextMessage, seq: number, processes: ProcessView): Row {
  if (message.kind === 'lost') return { seq, kind: 'lost', lost: { cause: message.cause, count: message.count } };
  const fields = message as unknown as Fields;
  const { process } = message;
  const row: Row = {
    seq,
    kind: message.kind,
    timeMs: ms(message.time),
    wallMs: message.wallTime.getTime(),
    pid: message.pid,
    key: process.key,
    parentKey: process.parentKey,
    comm: text(fields.comm) ?? text(process.comm),
  };
  if (process.ppid !== undefined) row.ppid = process.ppid;
  if (process.startTime !== undefined) row.startMs = ms(process.startTime);
  if (process.container) row.container = escapeText(`${process.container.runtime}:${process.container.id.slice(0, 12)}`);
  if (message.kind === 'fork' && !message.thread && processes) {
    const { childPid: pid, childStartTime } = message;
    row.child = { pid, key: processKey(processes.bootId, pid, childStartTime), startMs: ms(childStartTime) };
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

/**
 * A running process the session's table knows, as the `process` row its
 * snapshot record would be: what a view that opens after the session
 * attached is seeded with.
 */
export function entryRow(entry: ProcessEntry, seq: number): Row {
  const row: Row = {
    seq,
    kind: 'process',
    pid: entry.pid,
    key: entry.key,
    parentKey: entry.parentKey,
    comm: escapeText(entry.comm),
    startMs: ms(entry.startTime),
    exe: text(entry.exe),
  };
  if (entry.ppid !== undefined) row.ppid = entry.ppid;
  if (entry.argv) row.argv = entry.argv.map(escapeText);
  return row;
}
