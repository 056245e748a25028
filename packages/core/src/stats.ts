// Kernel counters summed over CPUs, and the difference between two readings,
// which is what a consumer reports as newly lost.
import { ABI, EVENT_KINDS } from './abi.js';
import type { RawKernelStats, RingFill } from './binding.js';
import type { KmonEventKind } from './events.js';

export interface KernelStats {
  /** Records the driver tried to emit. */
  attempted: number;
  /** Records the driver dropped because its ring was full. */
  dropped: number;
  droppedByKind: Partial<Record<KmonEventKind, number>>;
  /** Records the native layer dropped after the driver emitted them. */
  bindingDropped: number;
  /** Records emitted with a field cut at its cap. */
  truncated: number;
  cpus: number;
  /** How full the kernel ring is, when the binding can tell. */
  ring?: RingFill;
}

export function summarizeStats(raw: RawKernelStats): KernelStats {
  const stats: KernelStats = {
    attempted: 0,
    dropped: 0,
    droppedByKind: {},
    bindingDropped: raw.bindingDropped,
    truncated: 0,
    cpus: raw.cpus.length,
    ...(raw.ring && { ring: raw.ring }),
  };
  for (const cpu of raw.cpus) {
    stats.attempted += cpu.attempted;
    stats.truncated += cpu.truncated;
    for (const kind of EVENT_KINDS) {
      const n = cpu.dropped[ABI.kinds[kind]] ?? 0;
      if (n === 0) continue;
      stats.dropped += n;
      stats.droppedByKind[kind] = (stats.droppedByKind[kind] ?? 0) + n;
    }
  }
  return stats;
}

/** What changed from `before` to `after` (both summaries of the same session). */
export function statsDelta(before: KernelStats, after: KernelStats): KernelStats {
  const droppedByKind: Partial<Record<KmonEventKind, number>> = {};
  for (const kind of EVENT_KINDS) {
    const n = (after.droppedByKind[kind] ?? 0) - (before.droppedByKind[kind] ?? 0);
    if (n !== 0) droppedByKind[kind] = n;
  }
  return {
    attempted: after.attempted - before.attempted,
    dropped: after.dropped - before.dropped,
    droppedByKind,
    bindingDropped: after.bindingDropped - before.bindingDropped,
    truncated: after.truncated - before.truncated,
    cpus: after.cpus,
  };
}

export const emptyStats = (): KernelStats => summarizeStats({ cpus: [], bindingDropped: 0 });
