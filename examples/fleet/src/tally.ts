// What the fleet aggregator counts, per host: process starts (execs) and
// failed exits (a non-zero status or a signal) over the last minute, and the
// records the host's export reported lost.
import type { KmonMessage } from '@kmon/rx';

export interface HostFigures {
  host: string;
  /** Execs in the last minute. */
  startsPerMinute: number;
  /** Exits with a non-zero status or by a signal in the last minute. */
  failedExitsPerMinute: number;
  /** Since the start: execs, failed exits, records lost (every cause). */
  starts: number;
  failedExits: number;
  lost: number;
}

const MINUTE_MS = 60_000;

export class FleetTally {
  private readonly hosts = new Map<string, { starts: number[]; failed: number[]; figures: HostFigures }>();

  /** Counts `message` from `host`, seen at `atMs` (wall clock). */
  add(host: string, message: KmonMessage, atMs: number): void {
    const entry = this.entry(host);
    if (message.kind === 'exec') {
      entry.starts.push(atMs);
      entry.figures.starts++;
    } else if (message.kind === 'exit' && (message.exitCode !== 0 || message.signal !== 0)) {
      entry.failed.push(atMs);
      entry.figures.failedExits++;
    } else if (message.kind === 'lost') {
      entry.figures.lost += message.count;
    }
  }

  /** Every host's figures at `nowMs`, by host name. */
  figures(nowMs: number): HostFigures[] {
    const since = nowMs - MINUTE_MS;
    const recent = (times: number[]) => {
      while (times.length > 0 && times[0]! <= since) times.shift();
      return times.length;
    };
    return [...this.hosts.values()]
      .map((e) => ({ ...e.figures, startsPerMinute: recent(e.starts), failedExitsPerMinute: recent(e.failed) }))
      .sort((a, b) => a.host.localeCompare(b.host));
  }

  private entry(host: string) {
    let entry = this.hosts.get(host);
    if (!entry) {
      entry = { starts: [], failed: [], figures: { host, startsPerMinute: 0, failedExitsPerMinute: 0, starts: 0, failedExits: 0, lost: 0 } };
      this.hosts.set(host, entry);
    }
    return entry;
  }
}

/** The figures as a table for a terminal. */
export function formatFigures(figures: readonly HostFigures[]): string {
  const header = ['host', 'starts/min', 'failed exits/min', 'starts', 'failed exits', 'lost'];
  const rows = figures.map((f) => [f.host, f.startsPerMinute, f.failedExitsPerMinute, f.starts, f.failedExits, f.lost].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}
