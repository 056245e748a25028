// The framing rules of @kmon/core's decoder against the test vectors that
// the C validator shared by kmon.sys, @kmon/native's Windows backend and
// kmonctl (packages/driver/windows/common/kmon_frame.c) is tested with: both
// must split a batch the same way and name the same fault.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ABI, decodeBatch, EVENT_KINDS } from '@kmon/core';

type Verdict = { verdict: 'record'; size: number } | { verdict: 'skip'; size: number; field: string } | { verdict: 'stop'; field: string };

interface Vector {
  name: string;
  hex: string;
  expect: Verdict[];
}

const file = fileURLToPath(new URL('../../driver/test/framing-vectors.json', import.meta.url));
const { vectors } = JSON.parse(readFileSync(file, 'utf8')) as { vectors: Vector[] };

/** What decodeBatch made of each record, in batch order, with the offset it started at (for faults). */
function walk(batch: Buffer): Array<{ verdict: Verdict['verdict']; field?: string; offset?: number }> {
  const { events, faults, stoppedEarly } = decodeBatch(batch);
  const total = events.length + faults.length;
  return Array.from({ length: total }, (_, record) => {
    const fault = faults.find((f) => f.record === record);
    if (!fault) return { verdict: 'record' as const };
    const last = record === total - 1;
    return { verdict: stoppedEarly && last ? ('stop' as const) : ('skip' as const), field: fault.field, offset: fault.offset };
  });
}

describe('framing: decodeBatch and the C validator agree on the shared test vectors', () => {
  it('has vectors for every verdict', () => {
    const verdicts = new Set(vectors.flatMap((v) => v.expect.map((e) => e.verdict)));
    expect([...verdicts].sort()).toEqual(['record', 'skip', 'stop']);
  });

  // So that the C validator knows every kind the decoder knows (it passes a kind's vector only with its layout).
  it('has a well-formed record of every event kind', () => {
    const framed = new Set(
      vectors
        .filter((v) => v.expect.length === 1 && v.expect[0]!.verdict === 'record')
        .map((v) => Buffer.from(v.hex.replace(/\s+/g, ''), 'hex').readUInt16LE(2)),
    );
    const missing = EVENT_KINDS.filter((kind) => !framed.has(ABI.kinds[kind]));
    expect(missing, 'add a one-record vector per kind to framing-vectors.json, and its layout to kmon_frame.c').toEqual([]);
  });

  for (const vector of vectors) {
    it(vector.name, () => {
      const batch = Buffer.from(vector.hex.replace(/\s+/g, ''), 'hex');
      let offset = 0;
      const want = vector.expect.map((e) => {
        const at = offset;
        if (e.verdict !== 'stop') offset += e.size;
        return e.verdict === 'record' ? { verdict: e.verdict } : { verdict: e.verdict, field: e.field, offset: at };
      });
      expect(walk(batch)).toEqual(want);
    });
  }
});
