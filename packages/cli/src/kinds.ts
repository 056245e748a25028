// The kinds the command line offers by family: --kinds takes a family's name
// for all of its kinds, and `kmon doctor` attaches one session per family.
import type { EventKind } from 'kmon';

/** Names that stand for several kinds in --kinds ('all': every kind offered here). */
export const KIND_GROUPS: Readonly<Record<string, readonly EventKind[]>> = {
  process: ['exec', 'exit', 'fork'],
  file: ['open', 'unlink', 'rename', 'mkdir', 'chmod', 'chown', 'link'],
  network: ['connect', 'accept', 'listen', 'bind', 'close', 'send', 'dns'],
};
