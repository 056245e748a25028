import type { KmonMessage, LostNotice } from '@kmon/core';
import { concatBatch, encodeRecord } from '@kmon/core/testing';
import { decodeBatch } from '@kmon/core';
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ofKind, whereComm, wherePid } from './operators.js';

const lost: LostNotice = { kind: 'lost', cause: 'ring-full', count: 1, byKind: {} };
const messages: KmonMessage[] = [
  ...decodeBatch(
    concatBatch([
      encodeRecord({ kind: 'exec', header: { tgid: 1 }, body: { comm: 'sh' }, vars: ['/bin/sh', 'sh\0'] }),
      encodeRecord({ kind: 'exit', header: { tgid: 2 }, body: { comm: 'ls' } }),
      encodeRecord({ kind: 'fork', header: { tgid: 3 }, body: { child_tgid: 4, comm: 'bash' } }),
    ]),
  ).events,
  lost,
];

const run = <T>(op: (s: ReturnType<typeof from<KmonMessage[]>>) => import('rxjs').Observable<T>) =>
  lastValueFrom(op(from(messages)).pipe(toArray()));

describe('operators', () => {
  it('ofKind keeps the named kinds and narrows the type', async () => {
    const exits = await run((s) => s.pipe(ofKind('exit')));
    expect(exits.map((e) => e.pid)).toEqual([2]);
    expectTypeOf(exits[0]!.exitCode).toEqualTypeOf<number>();
    expect((await run((s) => s.pipe(ofKind('exec', 'lost')))).map((m) => m.kind)).toEqual(['exec', 'lost']);
  });

  it('wherePid matches the process, or the child of a fork, and never hides loss', async () => {
    expect((await run((s) => s.pipe(wherePid(2, 4)))).map((m) => m.kind)).toEqual(['exit', 'fork', 'lost']);
  });

  it('whereComm matches the process name and never hides loss', async () => {
    expect((await run((s) => s.pipe(whereComm('sh')))).map((m) => m.kind)).toEqual(['exec', 'lost']);
  });
});
