// Turns kernel counters into in-band `lost` notices. Counters are the truth
// (records produced = delivered + dropped); a gap in a CPU's sequence numbers
// only tells us to read them now rather than at the next periodic check.
import {
  emptyStats,
  statsDelta,
  summarizeStats,
  type KernelStats,
  type KmonEvent,
  type KmonMessage,
  type LostNotice,
  type RawKernelStats,
  type SequenceGap,
} from '@kmon/core';

export class LossAccountant {
  /** Counters as last reported; a fresh session starts from zero. */
  private reported: KernelStats = emptyStats();
  private readonly nextSeq: number[] = [];
  /** Gaps seen since the last report; bounded because each one triggers a report. */
  private gaps: SequenceGap[] = [];

  constructor(private readonly readStats: () => RawKernelStats) {}

  /** The session's counters now. */
  current(): KernelStats {
    return summarizeStats(this.readStats());
  }

  /** True when `events` skip sequence numbers on some CPU; the gaps go into the next notice. */
  sawGap(events: readonly KmonEvent[]): boolean {
    const before = this.gaps.length;
    for (const { cpu, seq } of events) {
      const expected = this.nextSeq[cpu];
      if (expected !== undefined && seq > expected) this.gaps.push({ cpu, from: expected, to: seq });
      if (expected === undefined || seq >= expected) this.nextSeq[cpu] = seq + 1;
    }
    return this.gaps.length > before;
  }

  /** Notices for every drop counted since the last call; empty when none. */
  newLosses(): LostNotice[] {
    const now = this.current();
    const delta = statsDelta(this.reported, now);
    this.reported = now;
    const notices: LostNotice[] = [];
    if (delta.dropped > 0) {
      const notice: LostNotice = { kind: 'lost', cause: 'ring-full', count: delta.dropped, byKind: delta.droppedByKind };
      if (this.gaps.length > 0) notice.gaps = this.gaps;
      notices.push(notice);
    }
    this.gaps = [];
    if (delta.bindingDropped > 0) {
      notices.push({ kind: 'lost', cause: 'binding-queue', count: delta.bindingDropped, byKind: {} });
    }
    return notices;
  }
}

/**
 * Messages that arrived while nobody was subscribed (the grace period after
 * the last subscriber left): counted, and reported to the next subscriber.
 */
export class UnobservedTally {
  private count = 0;
  private byKind: LostNotice['byKind'] = {};

  add(messages: readonly KmonMessage[]): void {
    for (const m of messages) {
      const n = m.kind === 'lost' ? m.count : 1;
      const kind = m.kind === 'lost' ? undefined : m.kind;
      this.count += n;
      if (kind) this.byKind[kind] = (this.byKind[kind] ?? 0) + n;
    }
  }

  /** The notice for what was missed, once; undefined when nothing was. */
  take(): LostNotice | undefined {
    if (this.count === 0) return undefined;
    const notice: LostNotice = { kind: 'lost', cause: 'unobserved', count: this.count, byKind: this.byKind };
    this.count = 0;
    this.byKind = {};
    return notice;
  }
}
