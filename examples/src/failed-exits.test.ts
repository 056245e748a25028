import { decodeBatch, type KmonMessage } from 'kmon';
import { concatBatch, encodeRecord } from 'kmon/testing';
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { describeFailure, failedExits } from './failed-exits.js';

const exec = (pid: number, start: bigint, argv: string[]) =>
  encodeRecord({ kind: 'exec', header: { tgid: pid }, body: { start_ns: start, comm: 'sh' }, vars: ['/bin/sh', argv.join('\0') + '\0'] });
const exit = (pid: number, start: bigint, code: number, signal = 0) =>
  encodeRecord({ kind: 'exit', header: { tgid: pid, ts_ns: start + 2_000_000n }, body: { start_ns: start, exit_code: code, signal, comm: 'sh' } });

describe('failed-exits example', () => {
  it('pairs failed exits with their command line by (pid, start time), ignoring clean exits', async () => {
    const messages: KmonMessage[] = decodeBatch(
      concatBatch([
        exec(10, 1n, ['sh', '-c', 'exit 3']),
        exec(11, 1n, ['true']),
        exec(10, 5n, ['reused', 'pid']), // same pid, another process
        exit(11, 1n, 0),
        exit(10, 1n, 3),
        exit(10, 5n, 0, 9),
        exit(12, 1n, 1), // started before kmon: no command line known
      ]),
    ).events;
    const out = await lastValueFrom(from([...messages, { kind: 'lost', cause: 'ring-full', count: 2, byKind: {} } as const]).pipe(failedExits(), toArray()));
    expect(out).toEqual([
      { pid: 10, comm: 'sh', argv: ['sh', '-c', 'exit 3'], exitCode: 3, signal: 0, lifetimeNs: 2_000_000n },
      { pid: 10, comm: 'sh', argv: ['reused', 'pid'], exitCode: 0, signal: 9, lifetimeNs: 2_000_000n },
      { pid: 12, comm: 'sh', argv: undefined, exitCode: 1, signal: 0, lifetimeNs: 2_000_000n },
      { kind: 'lost', cause: 'ring-full', count: 2, byKind: {} },
    ]);
    expect(describeFailure(out[1]!)).toMatch(/killed by signal 9 .* pid 10 {2}reused pid/);
    expect(describeFailure(out[3]!)).toMatch(/2 record\(s\) lost/);
  });
});
