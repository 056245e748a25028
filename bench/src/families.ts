// The syscall families the bench measures beside the synthetic source
// (FILE and NETWORK sections): what the generator calls for each, and the
// sessions that watch it.
import type { Call } from './run.js';

/**
 * A family of syscall events: the call the generator makes for it, the kinds
 * a session of the family asks for, the one kind the C consumer takes, and a
 * filter that drops the generator's calls in the kernel.
 */
export interface Family {
  name: 'file' | 'network';
  call: Call;
  /** What one generator call does, for the table. */
  callLabel: string;
  kinds: string[];
  cKind: string;
  filterOut: Record<string, unknown>;
  filterLabel: string;
}

export const FAMILIES: Family[] = [
  {
    name: 'file',
    call: 'open',
    callLabel: 'open+close',
    kinds: ['open', 'unlink', 'rename', 'mkdir', 'chmod', 'chown', 'link'],
    cKind: 'open',
    filterOut: { file: { include: ['/kmon-bench-nothing-here'] } },
    filterLabel: 'path prefix',
  },
  {
    name: 'network',
    call: 'connect',
    callLabel: 'socket+connect+close',
    kinds: ['connect', 'accept', 'listen', 'bind', 'close', 'send', 'dns'],
    cKind: 'connect',
    filterOut: { network: { loopback: false } },
    filterLabel: 'loopback off',
  },
];
