// Turns kernel counters into in-band `lost` notices. Counters are the truth
// (records produced = delivered + dropped); a gap in a CPU's sequence numbers
// only tells us to read them now rather than at the next periodic check.
import {
  emptyStats,
  statsDelta,
  summarizeStats,
  type KernelStats,
  type KmonEvent,
  type LostNotice,
  type RawKernelStats,
} from '@kmon/core';

export class LossAccountant {
  /** Counters as last reported; a fresh session starts from zero. */
  private reported: KernelStats = emptyStats();
  private readonly nextSeq: number[] = [];

  constructor(private readonly readStats: () => RawKernelStats) {}

  /** The session's counters now. */
  current(): KernelStats {
    return summarizeStats(this.readStats());
  }

  /** True when `events` skip a sequence number on some CPU. */
  sawGap(events: readonly KmonEvent[]): boolean {
    let gap = false;
    for (const { cpu, seq } of events) {
      const expected = this.nextSeq[cpu];
      if (expected !== undefined && seq > expected) gap = true;
      if (expected === undefined || seq >= expected) this.nextSeq[cpu] = seq + 1;
    }
    return gap;
  }

  /** Notices for every drop counted since the last call; empty when none. */
  newLosses(): LostNotice[] {
    const now = this.current();
    const delta = statsDelta(this.reported, now);
    this.reported = now;
    const notices: LostNotice[] = [];
    if (delta.dropped > 0) {
      notices.push({ kind: 'lost', cause: 'ring-full', count: delta.dropped, byKind: delta.droppedByKind });
    }
    if (delta.bindingDropped > 0) {
      notices.push({ kind: 'lost', cause: 'binding-queue', count: delta.bindingDropped, byKind: {} });
    }
    return notices;
  }
}
