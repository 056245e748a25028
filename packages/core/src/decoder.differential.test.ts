// decodeBatch runs each kind's compiled decoder, which checks a record's
// framing, lengths, padding and reserved members inline and validates only
// the properties its reads cannot vouch for (decoder.ts, proofOf), and hands
// any record it does not accept to the reference decoder, which interprets
// the definition and validates the whole event with the kind's zod schema.
// This test proves the two equivalent, as zod tests its compiled parsers
// against its interpreter: every kind, records made valid and then mutated
// at random (seeded: the same records on every run), decoded both ways, must
// give the same events (same values, same key order) and the same faults;
// and the compiled decoder alone must accept exactly the records the
// reference makes events of, with the same events.
import { describe, expect, it } from 'vitest';
import { decodeBatch, decodeBatchWholeSchema, decodeCleanRecord, type DecodedBatch } from './decoder.js';
import { KIND_DEFINITIONS, type AnyKindDefinition } from './kinds/index.js';
import { headerFields } from './kinds/kind.js';
import { AF_INET, AF_INET6, AF_UNIX, SOCKADDR_SIZE } from './network/address.js';
import { concatBatch, encodeRecord } from './testing/encode.js';

const HEADER_SIZE = 64;
/** Header bytes after the framing (abi_version, kind, size): flags, cpu, seq, time, pids, cgroup id. */
const AFTER_FRAMING = 8;
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

/**
 * Socket addresses as the driver writes them, one per family (a zeroed
 * member is only family 0), so that mutations hit every family's checks.
 */
function sockaddr(next: () => number): Uint8Array {
  const bytes = new Uint8Array(SOCKADDR_SIZE);
  const view = new DataView(bytes.buffer);
  const family = [AF_INET, AF_INET6, AF_UNIX, 0][Math.floor(next() * 4)]!;
  view.setUint16(0, family, true);
  if (family === AF_UNIX || family === 0) return bytes;
  view.setUint16(2, Math.floor(next() * 65536), true);
  const length = family === AF_INET ? 4 : 16;
  for (let i = 0; i < length; i++) bytes[8 + i] = next() < 0.5 ? 0 : Math.floor(next() * 256);
  if (family === AF_INET6) view.setUint32(4, next() < 0.5 ? 0 : 3, true);
  return bytes;
}

/** Values for a kind's struct members (every one is a struct kmon_sockaddr), by C name. */
const structs = (d: AnyKindDefinition, next: () => number) =>
  Object.fromEntries(
    d.layout.members
      .filter((m) => m.field.cType === 'struct')
      .map((m) => {
        if (m.field.size !== SOCKADDR_SIZE) throw new Error(`${d.name}.${m.field.cName}: a struct member this test makes no values for`);
        return [m.field.cName, sockaddr(next)];
      }),
  );

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
    const tally = { events: 0, validationFaults: 0, otherFaults: 0, withAddresses: 0 };
    const records: Uint8Array[] = [];
    for (let n = 0; n < RECORDS_PER_KIND; n++) {
      const vars = d.vars.map(() => Uint8Array.from({ length: Math.floor(next() * 24) }, () => (next() < 0.8 ? 0x61 + (byte() % 26) : byte())));
      const record = encodeRecord({ kind: d.name, vars, body: structs(d, next) });
      // A third stay as encoded; the rest get 1-4 bytes changed: of the framing (rarely), of the rest of the header, or of the body.
      const mutations = n % 3 === 0 ? 0 : 1 + Math.floor(next() * 4);
      for (let m = 0; m < mutations; m++) {
        const where = next();
        const at =
          where < 0.05
            ? Math.floor(next() * AFTER_FRAMING)
            : where < 0.35
              ? AFTER_FRAMING + Math.floor(next() * (HEADER_SIZE - AFTER_FRAMING))
              : HEADER_SIZE + Math.floor(next() * (record.length - HEADER_SIZE));
        record[at] = byte();
      }
      const checked = decodeBatch(record);
      const reference = decodeBatchWholeSchema(record);
      expect(outcome(checked)).toBe(outcome(reference));
      // The compiled decoder alone: the reference's event, or nothing where the reference found a fault.
      expect(outcome({ events: [decodeCleanRecord(record)].filter((e) => e !== undefined), faults: [], stoppedEarly: false })).toBe(
        outcome({ ...reference, faults: [], stoppedEarly: false }),
      );
      tally.events += checked.events.length;
      tally.withAddresses += checked.events.filter((e) => Object.values(e).some((v) => (v as { address?: string } | undefined)?.address)).length;
      for (const f of checked.faults) tally[f.message.includes('failed validation') ? 'validationFaults' : 'otherFaults']++;
      records.push(record);
    }
    // Both outcomes were exercised for this kind.
    expect(tally.events).toBeGreaterThan(0);
    // Kinds with addresses had events with real ones (not only zeroed structs).
    if (d.layout.members.some((m) => m.field.cType === 'struct')) expect(tally.withAddresses).toBeGreaterThan(0);
    expect(tally.validationFaults + tally.otherFaults).toBeGreaterThan(0);
    // The same records back to back in batches (records at offsets other than 0, faults amid events).
    for (let at = 0; at < records.length; at += 50) {
      const batch = concatBatch(records.slice(at, at + 50));
      expect(outcome(decodeBatch(batch))).toBe(outcome(decodeBatchWholeSchema(batch)));
    }
  });

  it.each(KIND_DEFINITIONS.map((d) => [d.name, d] as const))('%s: every header size, before another record, frames the same both ways', (_name, d) => {
    const record = encodeRecord({ kind: d.name, vars: d.vars.map(() => 'abc') });
    const follower = encodeRecord({ kind: 'synth' });
    for (let size = 0; size <= record.length + 16; size++) {
      const batch = concatBatch([record, follower]);
      new DataView(batch.buffer, batch.byteOffset).setUint32(4, size, true);
      expect(outcome(decodeBatch(batch)), `size ${size}`).toBe(outcome(decodeBatchWholeSchema(batch)));
    }
  });

  it('a sequence number beyond 2^53 is refused by its test as by its schema (seq is a number)', () => {
    const record = encodeRecord({ kind: 'synth', header: { seq: 2n ** 53n } });
    expect(decodeBatchWholeSchema(record).faults[0]?.field).toBe('synth.seq');
    expect(outcome(decodeBatch(record))).toBe(outcome(decodeBatchWholeSchema(record)));
    expect(decodeCleanRecord(record)).toBeUndefined();
    expect(decodeCleanRecord(encodeRecord({ kind: 'synth', header: { seq: 2n ** 53n - 1n } }))?.seq).toBe(2 ** 53 - 1);
  });

  it('seq is read as Number(u64) would give it, beyond 2^53 too (where its test refuses it)', () => {
    const buf = Buffer.alloc(8);
    const view = new DataView(buf.buffer, buf.byteOffset, 8);
    const next = random(53);
    const values = [0n, 1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 54n + 2n, 2n ** 64n - 1n];
    for (let i = 0; i < 1000; i++) values.push(BigInt(Math.floor(next() * 2 ** 32)) * 2n ** 32n + BigInt(Math.floor(next() * 2 ** 32)));
    for (const value of values) {
      view.setBigUint64(0, value, true);
      expect(headerFields.seq.read(view, buf, 0, new BigUint64Array(buf.buffer, buf.byteOffset, 1)), String(value)).toBe(Number(value));
    }
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
