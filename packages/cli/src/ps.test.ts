import type { KernelBinding } from 'kmon';
import { concatBatch, createMockBinding, encodeRecord, type MockSession } from 'kmon/testing';
import { describe, expect, it } from 'vitest';
import { memoryIo } from '../test/memory-io.js';
import { ps, snapshot } from './ps.js';

const DOCKER = 'c'.repeat(64);
const clock = { bootId: 'boot', realtimeOffsetNs: 1_700_000_000_000_000_000n };
const proc = (pid: number, ppid: number, start: bigint, parentStart: bigint, comm: string, argv: string[], extra: { uid?: number; cgroup?: bigint } = {}) =>
  encodeRecord({
    kind: 'process',
    header: { tgid: pid, cgroup_id: extra.cgroup ?? 1n, ts_ns: 5_000_000_000n },
    body: { start_ns: start, parent_start_ns: parentStart, ppid, uid: extra.uid ?? 0, comm },
    vars: [argv.length > 0 ? `/usr/bin/${comm}` : '', '/', argv.map((a) => `${a}\0`).join('')],
  });

/** A binding whose sessions hold this snapshot for the first read (as the Linux one does at attach). */
function snapshotBinding(): KernelBinding {
  const mock = createMockBinding({ clock });
  const batch = concatBatch([
    proc(1, 0, 1_000_000_000n, 0n, 'init', ['/sbin/init']),
    proc(2, 0, 1_000_000_000n, 0n, 'kthreadd', []),
    proc(300, 1, 2_000_000_000n, 1_000_000_000n, 'sshd', ['sshd', '-D']),
    proc(400, 300, 3_000_000_000n, 2_000_000_000n, 'bash', ['-bash'], { uid: 1000, cgroup: 9n }),
  ]);
  return { ...mock, open: (options, sink) => ((s) => (s.queue(batch), s))(mock.open(options, sink) as MockSession) };
}
const config = {
  binding: snapshotBinding(),
  host: { userName: (uid: number) => (uid === 1000 ? 'alice' : 'root'), cgroupPath: (id: bigint) => (id === 9n ? `/docker/${DOCKER}` : '/') },
};

describe('kmon ps', () => {
  it('reads the snapshot whole, with keys, users and containers', () => {
    const rows = snapshot(config);
    expect(rows.map((r) => r.pid)).toEqual([1, 2, 300, 400]);
    expect(rows[3]).toMatchObject({
      key: 'boot:400:3000000000',
      parentKey: 'boot:300:2000000000',
      user: 'alice',
      container: { id: DOCKER, runtime: 'docker' },
      argv: ['-bash'],
      started: '2023-11-14T22:13:23.000Z',
    });
  });

  it('text: one line per process, kernel threads in brackets, UTC with --utc', () => {
    const { io, out } = memoryIo();
    ps({ format: 'text', tree: false, utc: true }, io, config);
    const lines = out().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PID +PPID +USER +CONTAINER +STARTED +COMMAND +KEY$/);
    expect(lines[2]).toMatch(/^2 +0 +root +- +2023-11-14 22:13:21Z +\[kthreadd\] +boot:2:1000000000$/);
    expect(lines[4]).toMatch(/^400 +300 +alice +docker:cccccccccccc +2023-11-14 22:13:23Z +-bash +boot:400:3000000000$/);
  });

  it('--tree: children under their parents (text indented, json nested)', () => {
    const text = memoryIo();
    ps({ format: 'text', tree: true, utc: true }, text.io, config);
    expect(text.out()).toMatch(/\n300 .* {2}\\_ sshd -D .*\n400 .* {4}\\_ -bash /);
    const json = memoryIo();
    ps({ format: 'json', tree: true, utc: false }, json.io, config);
    const roots = JSON.parse(json.out()) as Array<{ pid: number; children: Array<{ pid: number; children: Array<{ pid: number }> }> }>;
    expect(roots.map((r) => r.pid)).toEqual([1, 2]);
    expect(roots[0]!.children[0]!.children[0]!.pid).toBe(400);
  });

  it('jsonl: one process per line, 64-bit values as strings', () => {
    const { io, out } = memoryIo();
    ps({ format: 'jsonl', tree: false, utc: false }, io, config);
    const rows = out().trimEnd().split('\n').map((l) => JSON.parse(l) as { startTime: string });
    expect(rows).toHaveLength(4);
    expect(rows[0]!.startTime).toBe('1000000000');
  });
});
