// Example: an egress auditor. Runs a command and reports every connection it
// and its descendants made and every DNS name they asked for, summarised when
// it ends. Run: node examples/dist/egress.js -- npm install
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createKmon, safe, type KmonMessage } from 'kmon';

interface Destination {
  attempts: number;
  failed: number;
  comms: Set<string>;
}

/** What the command's tree reached: destinations ("93.184.216.34:443/tcp", a unix path), names asked, records lost. */
export interface EgressSummary {
  destinations: Map<string, Destination>;
  names: Set<string>;
  lost: number;
}

export function emptySummary(): EgressSummary {
  return { destinations: new Map(), names: new Set(), lost: 0 };
}

const PROTOCOLS: Record<number, string> = { 6: 'tcp', 17: 'udp' };

/** Adds one message to the summary. */
export function tally(summary: EgressSummary, m: KmonMessage): void {
  if (m.kind === 'lost') summary.lost += m.count;
  if (m.kind === 'dns') for (const q of m.query.questions) summary.names.add(`${q.name} ${q.type}`);
  if (m.kind !== 'connect') return;
  const where = m.remote.address
    ? `${m.remote.address.includes(':') ? `[${m.remote.address}]` : m.remote.address}:${m.remote.port}/${PROTOCOLS[m.protocol] ?? m.protocol}`
    : `${m.abstract ? '@' : ''}${m.path}`;
  const d = summary.destinations.get(where) ?? { attempts: 0, failed: 0, comms: new Set<string>() };
  d.attempts++;
  if (m.result < 0 && m.result !== -115) d.failed++; // in progress is no failure
  d.comms.add(m.comm);
  summary.destinations.set(where, d);
}

export function describe(summary: EgressSummary): string[] {
  const lines = [...summary.destinations].map(
    ([where, d]) => safe`connect ${where} x${d.attempts}${d.failed ? ` (${d.failed} failed)` : ''} by ${[...d.comms]}`.text,
  );
  lines.push(...[...summary.names].map((name) => safe`dns     ${name}`.text));
  if (summary.lost) lines.push(`warning: ${summary.lost} records lost: the summary may be incomplete`);
  return lines;
}

async function main(command: string[]) {
  // Our own process tree, ourselves excluded: the command and all it starts, from its first syscall on.
  const kmon = createKmon({ kinds: ['connect', 'dns'], filters: { process: { pids: [process.pid] } } });
  const summary = emptySummary();
  const done = new Promise<void>((resolve, reject) =>
    kmon.events$.subscribe({ next: (m) => tally(summary, m), complete: resolve, error: reject }),
  );
  const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit' });
  const [code] = (await once(child, 'exit')) as [number | null];
  kmon.stop(); // delivers what is left in the kernel, then completes
  await done;
  process.stderr.write(`egress of ${command.join(' ')} (exit ${code}):\n${describe(summary).map((l) => `  ${l}\n`).join('')}`);
  process.exitCode = code ?? 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const at = process.argv.indexOf('--');
  const command = process.argv.slice(at >= 0 ? at + 1 : 2);
  if (command.length === 0) {
    process.stderr.write('usage: node examples/dist/egress.js -- <command> [args...]\n');
    process.exitCode = 2;
  } else {
    await main(command);
  }
}
