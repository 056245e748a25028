import { describe, expect, it } from 'vitest';
import { decodeDnsQuery } from './dns.js';

/** A query as resolvers send it: header, then each name as labels, type and class IN. */
function query(id: number, questions: Array<[string, number]>): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // recursion desired
  header.writeUInt16BE(questions.length, 4);
  const parts = questions.flatMap(([name, type]) => [
    ...name.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.of(l.length), Buffer.from(l)])),
    Buffer.of(0, type >> 8, type & 0xff, 0, 1),
  ]);
  return Buffer.concat([header, ...parts]);
}

const decode = (b: Buffer) => decodeDnsQuery(b, 0, b.length);

describe('decodeDnsQuery', () => {
  it('reads the id, names and types', () => {
    expect(decode(query(0x1234, [['example.org', 1]]))).toEqual({
      id: 0x1234,
      flags: 0x0100,
      counts: { questions: 1, answers: 0, authorities: 0, additionals: 0 },
      questions: [{ name: 'example.org', type: 'A', class: 'IN' }],
    });
    expect(decode(query(7, [['a.b.c', 28], ['x.y', 65], ['odd', 999]])).questions.map((q) => `${q.name} ${q.type}`)).toEqual([
      'a.b.c AAAA',
      'x.y HTTPS',
      'odd TYPE999',
    ]);
    expect(decode(query(1, [['', 2]])).questions).toEqual([{ name: '.', type: 'NS', class: 'IN' }]);
  });

  it('reads the query inside a larger buffer', () => {
    const q = query(9, [['kmon.dev', 1]]);
    const batch = Buffer.concat([Buffer.alloc(5, 0xee), q, Buffer.alloc(3, 0xee)]);
    expect(decodeDnsQuery(batch, 5, 5 + q.length).questions).toEqual([{ name: 'kmon.dev', type: 'A', class: 'IN' }]);
  });

  it('follows a compression pointer, and not forever', () => {
    const first = query(2, [['example.org', 1]]);
    const second = Buffer.of(0xc0, 12, 0, 28, 0, 1); // "example.org" again, by pointer
    const both = Buffer.concat([first, second]);
    both.writeUInt16BE(2, 4);
    expect(decode(both).questions.map((q) => `${q.name} ${q.type}`)).toEqual(['example.org A', 'example.org AAAA']);
    const loop = Buffer.concat([Buffer.from(first.subarray(0, 12)), Buffer.of(0xc0, 12, 0, 1, 0, 1)]);
    expect(decode(loop).questions).toEqual([]);
  });

  it('keeps what it could read of a cut or malformed datagram, and never throws', () => {
    const q = query(3, [['example.org', 1]]);
    expect(decode(q.subarray(0, q.length - 2))).toMatchObject({ id: 3, questions: [] });
    expect(decode(q.subarray(0, 1))).toMatchObject({ id: 0, flags: 0, questions: [] });
    const bad = Buffer.from(q);
    bad[12] = 0x80; // a label length with reserved high bits
    expect(decode(bad).questions).toEqual([]);
    for (let seed = 1; seed < 200; seed++) {
      const junk = Buffer.from(q.map((b, i) => (i * seed) % 7 === 0 ? (b ^ seed) & 0xff : b));
      expect(() => decode(junk)).not.toThrow();
    }
  });

  it('keeps bytes that are not UTF-8 (escaped only when printed)', () => {
    const q = query(4, [['ab.c', 1]]);
    q[14] = 0xff; // 'b' -> an invalid byte
    expect(decode(q).questions[0]!.name).toBe('a\udcff.c');
  });
});
