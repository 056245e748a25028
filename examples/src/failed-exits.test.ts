import { ABI, createKmon } from 'kmon';
import { concatBatch, createMockBinding, encodeRecord } from 'kmon/testing';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { describeFailure, failedExits } from './failed-exits.js';

const exec = (pid: number, start: bigint, argv: string[]) =>
  encodeRecord({ kind: 'exec', header: { tgid: pid }, body: { start_ns: start, comm: 'sh' }, vars: ['/bin/sh', argv.join('\0') + '\0'] });
const exit = (pid: number, start: bigint, code: number, signal = 0) =>
  encodeRecord({ kind: 'exit', header: { tgid: pid, ts_ns: start + 2_000_000n }, body: { start_ns: start, exit_code: code, signal, comm: 'sh' } });

describe('failed-exits example', () => {
  it('gives failed exits their command line from the process context (a reused pid is another process), ignoring clean exits', async () => {
    const binding = createMockBinding();
    const kmon = createKmon({}, { binding, graceMs: 0 });
    const found = lastValueFrom(kmon.events$.pipe(failedExits(), toArray()));
    binding.current!.deliver(
      concatBatch([
        exec(10, 1n, ['sh', '-c', 'exit 3']),
        exec(11, 1n, ['true']),
        exec(10, 5n, ['reused', 'pid']), // same pid, another process
        exit(11, 1n, 0),
        exit(10, 1n, 3),
        exit(10, 5n, 0, 9),
        exit(12, 1n, 1), // unknown to the session (no snapshot from the mock): no command line known
      ]),
    );
    const dropped = new Array<number>(ABI.kindCount).fill(0);
    dropped[ABI.kinds.exit] = 2;
    binding.current!.setStats({ cpus: [{ attempted: 0, dropped, truncated: 0 }] });
    kmon.stop();
    const out = await found;
    expect(out).toMatchObject([
      { pid: 10, comm: 'sh', argv: ['sh', '-c', 'exit 3'], exitCode: 3, signal: 0, lifetimeNs: 2_000_000n },
      { pid: 10, comm: 'sh', argv: ['reused', 'pid'], exitCode: 0, signal: 9, lifetimeNs: 2_000_000n },
      { pid: 12, comm: 'sh', argv: undefined, exitCode: 1, signal: 0, lifetimeNs: 2_000_000n },
      { kind: 'lost', cause: 'ring-full', count: 2, byKind: { exit: 2 } },
    ]);
    expect(describeFailure(out[1]!)).toMatch(/killed by signal 9 .* pid 10 {2}reused pid/);
    expect(describeFailure(out[3]!)).toMatch(/2 record\(s\) lost/);
  });
});
