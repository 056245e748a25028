import { describe, expect, it } from 'vitest';
import { statsDelta, summarizeStats } from './stats.js';

const cpu = (attempted: number, dropped: number[], truncated = 0) => ({ attempted, dropped, truncated });

describe('kernel counters', () => {
  it('sums CPUs and splits drops by kind', () => {
    const stats = summarizeStats({
      cpus: [cpu(10, [0, 1, 0, 2, 0, 0, 0], 1), cpu(5, [0, 0, 0, 0, 3, 0, 0])],
      bindingDropped: 4,
    });
    expect(stats).toEqual({
      attempted: 15,
      dropped: 6,
      droppedByKind: { exec: 1, fork: 2, synth: 3 },
      bindingDropped: 4,
      truncated: 1,
      cpus: 2,
    });
  });

  it('reports what changed between two readings', () => {
    const before = summarizeStats({ cpus: [cpu(10, [0, 1, 0, 0, 0, 0, 0])], bindingDropped: 0 });
    const after = summarizeStats({ cpus: [cpu(30, [0, 4, 2, 0, 0, 0, 0])], bindingDropped: 1 });
    expect(statsDelta(before, after)).toMatchObject({
      attempted: 20,
      dropped: 5,
      droppedByKind: { exec: 3, exit: 2 },
      bindingDropped: 1,
    });
  });
});
