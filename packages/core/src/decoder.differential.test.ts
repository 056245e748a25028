// The decoder checks each event with the schemas of only the properties its
// filler cannot vouch for (decoder.ts, impliedByFill). This test proves that
// shortcut equivalent to validating the whole event with the kind's zod
// schema, as zod tests its compiled parsers against its interpreter: every
// kind, records made valid and then mutated at random (seeded: the same
// records on every run), decoded both ways, must give the same events (same
// values, same key order) and the same faults.
import { describe, expect, it } from 'vitest';
import { decodeBatch, decodeBatchWholeSchema, type DecodedBatch } from './decoder.js';
import { KIND_DEFINITIONS } from './kinds/index.js';
import { encodeRecord } from './testing/encode.js';

const HEADER_SIZE = 64;
const RECORDS_PER_KIND = 600;

/** mulberry32: a small seeded PRNG, so every run decodes the same records. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Events as text that keeps key order and bigints, and faults as field + message. */
function outcome(d: DecodedBatch): string {
  return JSON.stringify(
    { events: d.events, faults: d.faults.map((f) => [f.field, f.message]), stoppedEarly: d.stoppedEarly },
    (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value),
  );
}

describe('decodeBatch: the field checks are equivalent to the whole zod schema', () => {
  it.each(KIND_DEFINITIONS.map((d) => [d.name, d] as const))('%s: valid and mutated records decode the same both ways', (_name, d) => {
    const next = random(d.number);
    const byte = () => Math.floor(next() * 256);
    const tally = { events: 0, validationFaults: 0, otherFaults: 0 };
    for (let n = 0; n < RECORDS_PER_KIND; n++) {
      const vars = d.vars.map(() => Uint8Array.from({ length: Math.floor(next() * 24) }, () => (next() < 0.8 ? 0x61 + (byte() % 26) : byte())));
      const record = encodeRecord({ kind: d.name, vars });
      // A third stay as encoded; the rest get 1-4 bytes of the header flags or the body changed.
      const mutations = n % 3 === 0 ? 0 : 1 + Math.floor(next() * 4);
      for (let m = 0; m < mutations; m++) {
        const at = next() < 0.2 ? 8 + Math.floor(next() * 4) : HEADER_SIZE + Math.floor(next() * (record.length - HEADER_SIZE));
        record[at] = byte();
      }
      const checked = decodeBatch(record);
      expect(outcome(checked)).toBe(outcome(decodeBatchWholeSchema(record)));
      tally.events += checked.events.length;
      for (const f of checked.faults) tally[f.message.includes('failed validation') ? 'validationFaults' : 'otherFaults']++;
    }
    // Both outcomes were exercised for this kind.
    expect(tally.events).toBeGreaterThan(0);
    expect(tally.validationFaults + tally.otherFaults).toBeGreaterThan(0);
  });

  it('some kinds fail their field checks (custom structs, narrower schemas): the comparison covered validation faults', () => {
    const faults = KIND_DEFINITIONS.flatMap((d) => {
      const next = random(d.number + 1000);
      return Array.from({ length: 200 }, () => {
        const record = encodeRecord({ kind: d.name, vars: d.vars.map(() => '') });
        for (let at = HEADER_SIZE; at < record.length; at++) if (next() < 0.3) record[at] = Math.floor(next() * 256);
        const checked = decodeBatch(record);
        expect(outcome(checked)).toBe(outcome(decodeBatchWholeSchema(record)));
        return checked.faults.filter((f) => f.message.includes('failed validation')).map((f) => f.field);
      }).flat();
    });
    expect(new Set(faults).size).toBeGreaterThan(1);
  });
});
