import { describe, expect, it } from 'vitest';
import type { KernelStats } from 'kmon';
import { StatusTally, compact, progressBar } from './status.js';

describe('status line contents', () => {
  it('rates overall and per kind over the last window, events so far, losses by cause, elapsed time', () => {
    const tally = new StatusTally({}, 0);
    for (let i = 0; i < 3000; i++) tally.count({ kind: i % 3 === 0 ? 'exec' : 'exit' } as never);
    tally.count({ kind: 'lost', cause: 'ring-full', count: 7, byKind: {} });
    tally.count({ kind: 'lost', cause: 'malformed', count: 1, byKind: {} });
    expect(tally.render(2000)).toBe('kmon 00:00:02 · 1.5k ev/s (exec 500 exit 1.0k) · 3000 events · lost 8 (ring-full 7, malformed 1)');
    expect(tally.render(3000)).toBe('kmon 00:00:03 · 0 ev/s · 3000 events · lost 8 (ring-full 7, malformed 1)');
  });

  it('says how full the kernel ring is when the binding can tell', () => {
    const stats = (ring?: { usedBytes: number; sizeBytes: number }) => () => ({ ...(ring && { ring }) }) as KernelStats;
    expect(new StatusTally({ stats: stats({ usedBytes: 4 << 20, sizeBytes: 16 << 20 }) }, 0).render(1000)).toMatch(/ · ring 25%$/);
    expect(new StatusTally({ stats: stats() }, 0).render(1000)).not.toMatch(/ring/);
  });

  it('adds a progress bar when replaying', () => {
    expect(new StatusTally({ progress: () => ({ readBytes: 50, fileBytes: 200 }) }, 0).render(1000)).toMatch(/ · \[#####-{15}\] 25%$/);
    expect(progressBar(0, 0)).toBe(`[${'-'.repeat(20)}] 0%`);
  });

  it('prints rates compactly', () => {
    expect([999, 1234, 56_789, 2_345_678, 45_000_000].map(compact)).toEqual(['999', '1.2k', '57k', '2.3M', '45M']);
  });
});
