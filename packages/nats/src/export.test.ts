// Export and fleet consumption against a real nats-server (no mock server):
// the kernel side is the mock binding (a fake only below @kmon/native), fed
// with encoded records; the kernel end to end is in @kmon/cli's export test.
import { ABI, createKmon, type KmonMessage, type LostNotice } from '@kmon/rx';
import { concatBatch, createMockBinding, encodeRecord, type MockBinding } from '@kmon/rx/testing';
import { lastValueFrom, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { natsBinding } from './binding.js';
import { createNatsExporter, exportToNats, type ExportOptions, type NatsExporter } from './exporter.js';
import { startNatsServer, type NatsServer } from './testing/server.js';

const KINDS = ['exec', 'exit', 'fork'] as const;
let servers: NatsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.dispose()));
  servers = [];
});

async function server(options?: Parameters<typeof startNatsServer>[0]) {
  const s = await startNatsServer(options);
  servers.push(s);
  return s;
}

/** Records of `n` short processes on CPU `cpu`: exec then exit, numbered from `first`. */
function processes(n: number, first = 0, cpu = 0): Uint8Array {
  const records: Uint8Array[] = [];
  for (let i = first; i < first + n; i++) {
    const pid = 1000 + i;
    const header = (seq: number, ts: bigint) => ({ cpu, seq: BigInt(seq), ts_ns: ts, tgid: pid, tid: pid, cgroup_id: 1n });
    records.push(
      encodeRecord({
        kind: 'exec',
        header: header(2 * i, 1_000_000n * BigInt(i) + 1n),
        body: { start_ns: 1_000_000n * BigInt(i), ppid: 1, uid: 0, gid: 0, argc: 2, comm: 'true' },
        vars: ['/bin/true', `true\0${i}\0`, '/usr/bin/true', '/'],
      }),
      encodeRecord({
        kind: 'exit',
        header: header(2 * i + 1, 1_000_000n * BigInt(i) + 2n),
        body: { start_ns: 1_000_000n * BigInt(i), exit_code: i % 3, signal: 0, comm: 'true' },
      }),
    );
  }
  return concatBatch(records);
}

/** An export over the mock binding: what the local consumer saw, and the exporter. */
async function exportSession(options: ExportOptions) {
  const exporter = await createNatsExporter({ host: 'h1', bootId: 'boot-1', ackTimeoutMs: 1000, retryMs: 100, ...options });
  const mock = createMockBinding();
  const kmon = createKmon({ kinds: [...KINDS] }, { binding: exporter.binding(mock), statsIntervalMs: 20 });
  const local = lastValueFrom(exportToNats(kmon.events$, exporter).pipe(toArray()));
  await until(() => mock.current !== undefined);
  return { exporter, kmon, local, session: mock.current! as NonNullable<MockBinding['current']> };
}

/** Everything the stream holds for the fleet, through natsBinding, until caught up. */
function consume(url: string, options: Partial<Parameters<typeof natsBinding>[0]> = {}) {
  const fleet = createKmon({ kinds: [...KINDS] }, { binding: natsBinding({ servers: url, follow: false, ...options }) });
  return lastValueFrom(fleet.events$.pipe(toArray()));
}

async function until(condition: () => boolean, timeoutMs = 8000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const events = (messages: KmonMessage[]) => messages.filter((m) => m.kind !== 'lost');
const losses = (messages: KmonMessage[]) => messages.filter((m): m is LostNotice => m.kind === 'lost');

describe('export to NATS and natsBinding', () => {
  it('delivers the same typed events and loss notices, in order, with the host on the notices', async () => {
    const { url } = await server();
    const { exporter, kmon, local, session } = await exportSession({ servers: url });
    session.deliver(processes(50));
    session.setStats({ cpus: [{ attempted: 103, dropped: Object.assign(new Array(ABI.kindCount).fill(0), { [ABI.kinds.exec]: 3 }), truncated: 0 }] });
    await until(() => exporter.stats().published === 101); // 100 records and the ring-full notice
    session.deliver(processes(10, 50));
    kmon.stop();
    const exported = await local;
    const stats = await exporter.close();
    expect(stats).toMatchObject({ published: 121, acknowledged: 121, duplicates: 0, buffered: 0, lost: 0 });

    const received = await consume(url);
    expect(events(exported)).toHaveLength(120);
    expect(received).toEqual(exported.map((m) => (m.kind === 'lost' ? { ...m, host: 'h1' } : m)));
    expect(losses(received)).toEqual([{ kind: 'lost', cause: 'ring-full', count: 3, byKind: { exec: 3 }, host: 'h1' }]);
  });

  it('selects hosts and kinds', async () => {
    const { url } = await server();
    for (const host of ['a', 'b']) {
      const { exporter, kmon, local, session } = await exportSession({ servers: url, host });
      session.deliver(processes(5));
      kmon.stop();
      await local;
      await exporter.close();
    }
    const onlyB = await consume(url, { hosts: ['b'] });
    expect(onlyB).toHaveLength(10);
    const execs = await consume(url, { kinds: ['exec'] });
    expect(execs.map((m) => m.kind)).toEqual(new Array(10).fill('exec'));
  });
});
