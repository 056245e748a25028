// Every string reaches the DOM through el(): textContent, never markup.
// Kernel strings arrive escaped (control characters as \e, \n, \xNN).
import type { Row } from '../protocol.js';

export function el(tag: string, className = '', text?: string): HTMLElement {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const FAMILIES: Record<string, string> = {
  exec: 'process', exit: 'process', fork: 'process', process: 'process', 'exec-failed': 'process',
  open: 'file', unlink: 'file', rename: 'file', mkdir: 'file', chmod: 'file', chown: 'file', link: 'file',
  connect: 'network', accept: 'network', listen: 'network', bind: 'network', close: 'network', send: 'network', dns: 'network',
};

export const familyOf = (kind: string) => FAMILIES[kind] ?? 'other';
export const kindClass = (kind: string) => `k-${familyOf(kind)}${kind === 'lost' ? ' k-lost' : ''}`;

export function timeText(row: Row): string {
  if (row.wallMs !== undefined) return new Date(row.wallMs).toISOString().slice(11, 23);
  return row.timeMs === undefined ? '' : `${(row.timeMs / 1000).toFixed(3)}s`;
}

export function exitText(exit: { code: number; signal: number } | undefined): string {
  if (!exit) return 'running';
  return exit.signal ? `killed by signal ${exit.signal}` : `exit ${exit.code}`;
}

export function durationText(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** The row's one-line detail. */
export function describe(row: Row): string {
  if (row.lost) return `LOST ${row.lost.count} (${row.lost.cause})`;
  if (row.kind === 'fork' && row.child) return `child ${row.child.pid}`;
  if (row.kind === 'exit') return exitText(row.exit);
  const parts: string[] = [];
  if (row.argv) parts.push(row.argv.join(' '));
  else if (row.path) parts.push(row.path);
  if (row.address) parts.push(row.address);
  else if (row.port !== undefined) parts.push(`port ${row.port}`);
  if (row.result !== undefined && row.result < 0) parts.push(`error ${-row.result}`);
  return parts.join('  ');
}
