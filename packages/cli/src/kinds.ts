// The kinds the command line offers by family: --kinds takes a family's name
// for all of its kinds, and `kmon doctor` attaches one session per family.
import type { EventKind } from 'kmon';

/** Names that stand for several kinds in --kinds ('all': every kind offered here). */
export const KIND_GROUPS: Readonly<Record<string, readonly EventKind[]>> = {
  process: ['exec', 'exit', 'fork'],
  file: ['open', 'unlink', 'rename', 'mkdir', 'chmod', 'chown', 'link'],
  network: ['connect', 'accept', 'listen', 'bind', 'close', 'send', 'dns'],
};

/**
 * Kinds the command line names otherwise than the library: `process` is the
 * lifecycle group above, so kind 22 (`process`, the processes running at
 * attach) is `process-snapshot` on the command line. Events keep the
 * library's name (`"kind":"process"` in JSON).
 */
const COMMAND_LINE_NAMES: Readonly<Partial<Record<EventKind, string>>> = { process: 'process-snapshot' };

/** A kind as --kinds takes and lists it. */
export const kindName = (kind: EventKind): string => COMMAND_LINE_NAMES[kind] ?? kind;

/** The kinds a --kinds name stands for: a group's, 'all' (every offered kind), or the kind of that command-line name. */
export function kindsNamed(name: string, offered: readonly EventKind[]): string[] {
  if (name === 'all') return [...offered];
  const group = KIND_GROUPS[name];
  if (group) return group.filter((k) => offered.includes(k));
  return [offered.find((k) => kindName(k) === name) ?? name];
}
