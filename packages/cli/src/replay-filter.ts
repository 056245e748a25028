// `kmon replay` selects with watch's filters. Live, the kernel applies them
// before a record is made; a replay applies the same rules (core's options
// schema and the driver's) in JavaScript to the recorded events:
//   process: the event's process has one of the uids, or is in one of the
//     containers (by the process context the replay knows);
//   file kinds: the longest matching path prefix decides (include or
//     exclude); no match passes unless there are includes; a rename or link
//     passes when one of its paths does;
//   network kinds: on the address the event is about (the remote end; for
//     bind and listen the local one; a DNS query's server): loopback dropped
//     with loopback: false, then the longest matching prefix and the port
//     each decide as for paths; a unix socket passes unless only some
//     addresses or ports are kept.
// Loss notices always pass. What a recording chose (failed calls, threads,
// kmon's own process, argv bytes) cannot be chosen again at replay.
import { AF_INET, AF_INET6, parseCidr, parseIp, parseSessionOptions, type Cidr, type ContextEvent, type ContextMessage, type Filters, type FiltersInput, type SocketAddress } from 'kmon';
import type { Command } from 'commander';
import { KIND_GROUPS } from './kinds.js';

export interface ReplayFilterFlags {
  uid?: string[];
  container?: string[];
  path?: string[];
  excludePath?: string[];
  port?: string[];
  cidr?: string[];
  excludeCidr?: string[];
  loopback?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The selection flags of watch that a replay can apply; their values are checked by core's filters schema. */
export function replayFilterOptions(command: Command): Command {
  return command
    .option('-u, --uid <uid>', 'only processes of this real user id (repeatable)', collect)
    .option('--container <id>', 'only processes in this container, by id or unique prefix (repeatable)', collect)
    .option('--path <prefix>', 'file events: only paths under this directory (repeatable)', collect)
    .option('--exclude-path <prefix>', 'file events: never paths under this directory (repeatable)', collect)
    .option('--port <port>', 'network events: only this port (repeatable)', collect)
    .option('--cidr <prefix>', 'network events: only addresses under this prefix, e.g. 10.0.0.0/8 (repeatable)', collect)
    .option('--exclude-cidr <prefix>', 'network events: not addresses under this prefix (repeatable)', collect)
    .option('--no-loopback', 'network events: leave out loopback addresses (127.0.0.0/8, ::1)');
}

/** The filters the flags ask for, validated as a live session's (a KmonOptionsError naming each bad value where watch's would). */
export function replayFilters(flags: ReplayFilterFlags): Filters {
  const number = (values: string[] | undefined) => values?.map((v) => (/^\d+$/.test(v) ? Number(v) : NaN));
  const input: FiltersInput = {
    process: { uids: number(flags.uid) ?? [], containers: flags.container ?? [] },
    file: { include: flags.path ?? [], exclude: flags.excludePath ?? [] },
    network: {
      include: flags.cidr ?? [],
      exclude: flags.excludeCidr ?? [],
      ports: number(flags.port) ?? [],
      loopback: flags.loopback ?? true,
    },
  };
  return parseSessionOptions({ filters: input }).filters;
}

type Verdict = 'include' | 'exclude' | undefined;
/** Whether a verdict keeps the event: never an exclusion; with includes, only an inclusion. */
const keeps = (verdict: Verdict, includesOnly: boolean) => verdict !== 'exclude' && (!includesOnly || verdict === 'include');

/** The verdict of the longest of `prefixes` that `matches`. */
function longest<P>(include: P[], exclude: P[], length: (p: P) => number, matches: (p: P) => boolean): Verdict {
  let best: { verdict: Verdict; length: number } = { verdict: undefined, length: -1 };
  for (const [verdict, list] of [['include', include], ['exclude', exclude]] as const) {
    for (const p of list) if (matches(p) && length(p) > best.length) best = { verdict, length: length(p) };
  }
  return best.verdict;
}

function pathPasses(filter: Filters['file'], path: string): boolean {
  // Prefixes end in '/' (core's schema): "/etc/" matches /etc itself and what is under it.
  const verdict = longest(filter.include, filter.exclude, (p) => p.length, (p) => `${path}/`.startsWith(p));
  return keeps(verdict, filter.include.length > 0);
}

/** Whether an address's bytes are under a prefix. */
function under(bytes: Uint8Array, cidr: Cidr): boolean {
  if (cidr.bytes.length !== bytes.length) return false;
  for (let bit = 0; bit < cidr.prefixLength; bit++) {
    const mask = 0x80 >> (bit & 7);
    if ((bytes[bit >> 3]! & mask) !== (cidr.bytes[bit >> 3]! & mask)) return false;
  }
  return true;
}

/** The network filter as a predicate on the address an event is about. */
function addressFilter(filter: Filters['network']): (address: SocketAddress) => boolean {
  // The schema has checked and canonicalised every prefix.
  const include = filter.include.map((text) => parseCidr(text)!);
  const exclude = filter.exclude.map((text) => parseCidr(text)!);
  return (address) => {
    if (address.family !== AF_INET && address.family !== AF_INET6) return include.length === 0 && filter.ports.length === 0;
    const bytes = parseIp(address.address)!; // IPv4-mapped IPv6 is already its IPv4, as the kernel compares it
    const loopback = bytes.length === 4 ? bytes[0] === 127 : bytes.every((b, i) => b === (i === 15 ? 1 : 0));
    if (!filter.loopback && loopback) return false;
    const byPrefix = longest(include, exclude, (c) => c.prefixLength, (c) => under(bytes, c));
    const byPort = longest(filter.ports, filter.excludePorts, () => 0, (p) => p === address.port);
    return keeps(byPrefix, include.length > 0) && keeps(byPort, filter.ports.length > 0);
  };
}

const FILE_KINDS = new Set<string>(KIND_GROUPS.file);

function pathsOf(event: ContextEvent): string[] {
  if (event.kind === 'rename') return [event.oldPath, event.newPath];
  if (event.kind === 'link') return event.symlink ? [event.path] : [event.target, event.path];
  return 'path' in event ? [event.path] : [];
}

function addressOf(event: ContextEvent): SocketAddress | undefined {
  if (event.kind === 'bind' || event.kind === 'listen') return event.local;
  if (event.kind === 'dns') return event.server;
  return 'remote' in event ? event.remote : undefined;
}

/** What the filters keep of a replay, as the kernel would have kept it live. */
export function replaySelection(filters: Filters): (message: ContextMessage) => boolean {
  const { process: proc, file } = filters;
  const uids = new Set(proc.uids);
  const addressPasses = addressFilter(filters.network);
  return (m) => {
    if (m.kind === 'lost') return true;
    if (uids.size > 0 && !uids.has(m.process.uid ?? -1)) return false;
    if (proc.containers.length > 0 && !proc.containers.some((id) => m.process.container?.id.startsWith(id))) return false;
    if (FILE_KINDS.has(m.kind)) return pathsOf(m).some((path) => pathPasses(file, path));
    const address = addressOf(m);
    return address === undefined || addressPasses(address);
  };
}
