import { ABI, type KmonEvent, type RawKernelStats } from '@kmon/core';
import { describe, expect, it } from 'vitest';
import { LossAccountant } from './loss.js';

/** Events as the accountant sees them: only where they were numbered matters. */
const records = (...seqs: Array<number | [cpu: number, seq: number]>) =>
  seqs.map((s) => (Array.isArray(s) ? { cpu: s[0], seq: s[1] } : { cpu: 0, seq: s })) as KmonEvent[];

/** Kernel counters of CPU 0 (and 1): records numbered, and exit records dropped. */
function counters() {
  const raw: RawKernelStats = { cpus: [], bindingDropped: 0 };
  const set = (cpu: number, attempted: number, dropped: number) => {
    raw.cpus[cpu] = { attempted, dropped: Object.assign(new Array<number>(ABI.kindCount).fill(0), { [ABI.kinds.exit]: dropped }), truncated: 0 };
  };
  return { read: () => raw, set };
}

describe('LossAccountant: sequence gaps', () => {
  it('a gap the counters back is reported as ring-full with its gap', () => {
    const kernel = counters();
    const accountant = new LossAccountant(kernel.read);
    kernel.set(0, 2, 0);
    expect(accountant.sawGap(records(0, 1))).toBe(false);
    kernel.set(0, 6, 3); // 2, 3, 4 dropped, 5 delivered
    expect(accountant.sawGap(records(5))).toBe(true);
    expect(accountant.newLosses()).toEqual([{ kind: 'lost', cause: 'ring-full', count: 3, byKind: { exit: 3 }, gaps: [{ cpu: 0, from: 2, to: 5 }] }]);
  });

  it('one corrupt sequence number (beyond what the kernel numbered) is reported as such, counts nothing lost, and later gaps are still seen', () => {
    const kernel = counters();
    const accountant = new LossAccountant(kernel.read);
    kernel.set(0, 3, 0);
    accountant.sawGap(records(0, 1));
    // The record numbered 2 arrives with 2^40 in its seq field.
    expect(accountant.sawGap(records(2 ** 40))).toBe(true);
    const [notice, ...rest] = accountant.newLosses();
    expect(rest).toEqual([]);
    expect(notice).toMatchObject({ kind: 'lost', cause: 'malformed', count: 0, byKind: {} });
    expect(notice!.error!.message).toMatch(/CPU 0 carries sequence number 1099511627776, but the driver had numbered only 3 records there: its seq is corrupt/);
    // The sequence goes on from the last good record: 3 and 4 are no gap; then 5-6 are dropped and seen.
    kernel.set(0, 8, 2);
    expect(accountant.sawGap(records(3, 4))).toBe(false);
    expect(accountant.sawGap(records(7))).toBe(true);
    expect(accountant.newLosses()).toEqual([{ kind: 'lost', cause: 'ring-full', count: 2, byKind: { exit: 2 }, gaps: [{ cpu: 0, from: 5, to: 7 }] }]);
  });

  it('judges each CPU by its own counter', () => {
    const kernel = counters();
    const accountant = new LossAccountant(kernel.read);
    kernel.set(0, 1000, 0);
    kernel.set(1, 2, 0);
    accountant.sawGap(records([0, 0], [1, 0]));
    expect(accountant.sawGap(records([1, 500]))).toBe(true); // fine on CPU 0, impossible on CPU 1
    expect(accountant.newLosses()).toMatchObject([{ cause: 'malformed', count: 0 }]);
    expect(accountant.sawGap(records([1, 1]))).toBe(false);
  });

  it('a cpu number that is no CPU (the snapshot numbers its records on 0xffffffff) has a sequence of its own too', () => {
    const accountant = new LossAccountant(() => ({ cpus: [], bindingDropped: 0 }));
    const elsewhere = 0xffff_ffff;
    expect(accountant.sawGap(records([elsewhere, 0], [0, 0], [elsewhere, 1], [0, 1]))).toBe(false);
    expect(accountant.sawGap(records([elsewhere, 2], [0, 2]))).toBe(false);
    expect(accountant.sawGap(records([elsewhere, 4]))).toBe(true);
    expect(accountant.sawGap(records([0, 3], [elsewhere, 5]))).toBe(false);
  });

  it('a binding that counts nothing for a CPU cannot judge: its jumps are taken as they come', () => {
    const accountant = new LossAccountant(() => ({ cpus: [], bindingDropped: 0 }));
    accountant.sawGap(records(0));
    expect(accountant.sawGap(records(9))).toBe(true);
    expect(accountant.newLosses()).toEqual([]); // no drop counted: nothing reported lost
    expect(accountant.sawGap(records(10))).toBe(false);
  });

  it('a late record (numbered before one already seen) is no gap', () => {
    const kernel = counters();
    kernel.set(0, 3, 0);
    const accountant = new LossAccountant(kernel.read);
    accountant.sawGap(records(0));
    accountant.sawGap(records(2)); // 1 was numbered first but written after 2 (its program was preempted)
    accountant.newLosses();
    expect(accountant.sawGap(records(1))).toBe(false);
    expect(accountant.newLosses()).toEqual([]);
  });
});
