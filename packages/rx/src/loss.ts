// Turns kernel counters into in-band `lost` notices. Counters are the truth
// (records produced = delivered + dropped); a gap in a CPU's sequence numbers
// only tells us to read them now rather than at the next periodic check.
//
// One corrupt sequence number must not blind gap detection (were it trusted,
// every later record on that CPU would look old). The rule: the driver
// numbers a CPU's records from its `attempted` counter (seq = attempted++),
// so a genuine record's seq is below that counter read after the record
// arrived. A jump to a seq at or beyond it cannot be real: the record's seq
// is corrupt. Its jump is not taken (the record stands for the one expected
// next, so the next real gap is still seen), and it is reported in-band as a
// 'malformed' notice of count 0 (the record itself was delivered; nothing
// was lost). A binding that counts nothing for a CPU (no `attempted`, or 0
// though records came from it) cannot be judged: its jumps are taken as they
// come.
import {
  KmonError,
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

/** A record whose sequence number the counters prove impossible. */
interface CorruptSeq {
  cpu: number;
  seq: number;
  /** Records the driver had numbered on that CPU when the counters were read. */
  attempted: number;
}

/** CPU numbers below this index a typed array (NR_CPUS is at most 8192). */
const DENSE_CPUS = 8192;

export class LossAccountant {
  /** Counters as last reported; a fresh session starts from zero. */
  private reported: KernelStats = emptyStats();
  /** The seq expected next on each CPU, -1 before its first record (a typed array: no holes, one element kind). */
  private readonly nextSeq = new Float64Array(DENSE_CPUS).fill(-1);
  /**
   * The same for a `cpu` that is no CPU number (the snapshot's records carry
   * 0xffffffff; a corrupt header anything): one key like that in a plain
   * array made its every access megamorphic, ~10 ns an event in live profiles.
   */
  private readonly nextSeqElsewhere = new Map<number, number>();
  /** Gaps seen since the last report; bounded because each one triggers a report. */
  private gaps: SequenceGap[] = [];
  /** Corrupt sequence numbers seen since the last report. */
  private corrupt: CorruptSeq[] = [];

  constructor(private readonly readStats: () => RawKernelStats) {}

  /** The session's counters now. */
  current(): KernelStats {
    return summarizeStats(this.readStats());
  }

  /** True when `events` skip sequence numbers on some CPU (or carry an impossible one): the next notices say so. */
  sawGap(events: readonly KmonEvent[]): boolean {
    const before = this.gaps.length + this.corrupt.length;
    let numbered: RawKernelStats['cpus'] | undefined; // read on the batch's first jump, after the batch arrived
    for (const { cpu, seq } of events) {
      const expected = cpu < DENSE_CPUS ? this.nextSeq[cpu]! : (this.nextSeqElsewhere.get(cpu) ?? -1);
      let next = expected < 0 || seq >= expected ? seq + 1 : expected;
      if (expected >= 0 && seq > expected) {
        numbered ??= this.readStats().cpus;
        const attempted = numbered[cpu]?.attempted ?? 0;
        if (attempted > 0 && seq >= attempted) {
          this.corrupt.push({ cpu, seq, attempted });
          next = expected + 1; // it stands for the record expected next
        } else {
          this.gaps.push({ cpu, from: expected, to: seq });
        }
      }
      if (cpu < DENSE_CPUS) this.nextSeq[cpu] = next;
      else this.nextSeqElsewhere.set(cpu, next);
    }
    return this.gaps.length + this.corrupt.length > before;
  }

  /** Notices for every drop counted (and every corrupt sequence number seen) since the last call; empty when none. */
  newLosses(): LostNotice[] {
    const now = this.current();
    const delta = statsDelta(this.reported, now);
    this.reported = now;
    const notices: LostNotice[] = this.corrupt.map(corruptSeqNotice);
    this.corrupt = [];
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

/** The in-band report of a record whose sequence number cannot be real (the record was delivered: count 0). */
function corruptSeqNotice({ cpu, seq, attempted }: CorruptSeq): LostNotice {
  const error = new KmonError(
    'KMON_PROTOCOL',
    `a record on CPU ${cpu} carries sequence number ${seq}, but the driver had numbered only ${attempted} records there: its seq is corrupt, not a gap (nothing counted lost; gap detection goes on from the last good one)`,
    { hint: 'a driver or memory fault: report it with the driver, kernel (`uname -r`) and this message' },
  );
  return { kind: 'lost', cause: 'malformed', count: 0, byKind: {}, error };
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
