// Export and fleet consumption against a real nats-server (no mock server):
// the kernel side is the mock binding (a fake only below @kmon/native), fed
// with encoded records; the kernel end to end is in @kmon/cli's export test.
import { ABI, createKmon, type KmonEvent, type KmonMessage, type LostNotice } from '@kmon/rx';
import { concatBatch, createMockBinding, encodeRecord, type MockBinding } from '@kmon/rx/testing';
import { lastValueFrom, toArray } from 'rxjs';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { CONSUMER_CLOCK, natsBinding } from './binding.js';
import { KmonNatsError } from './errors.js';
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
  const exporter = await createNatsExporter({ host: 'h1', bootId: 'boot-1', ackTimeoutMs: 1000, retryMs: 100, flushTimeoutMs: 20_000, ...options });
  const mock = createMockBinding({ clock: CONSUMER_CLOCK }); // the fleet side has no other (the hosts' are not exported yet)
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

const events = (messages: KmonMessage[]) => messages.filter((m): m is KmonEvent => m.kind !== 'lost');
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

  it('retrying a publish whose ack was lost does not duplicate the records (message ids)', async () => {
    const { url } = await server();
    const batch = processes(20);
    const sent: number[] = [];
    // The same host and boot sending the same records again: what a retry after a lost ack is.
    for (let attempt = 0; attempt < 2; attempt++) {
      const { exporter, kmon, local, session } = await exportSession({ servers: url });
      session.deliver(batch);
      kmon.stop();
      await local;
      sent.push((await exporter.close()).duplicates);
    }
    expect(sent).toEqual([0, 40]);
    const received = await consume(url);
    expect(received).toHaveLength(40);
  });

  describe('the server stopped during an export, then restarted with its store', () => {
    /** A steady workload (20 processes every 10 ms) across a 2 s outage; returns what was produced and received. */
    async function outage(bufferBytes: number) {
      const nats = await server();
      const { exporter, kmon, local, session } = await exportSession({ servers: nats.url, bufferBytes, maxOutstanding: 64 });
      let produced = 0;
      const steady = setInterval(() => session.deliver(processes(20, (produced += 20) - 20)), 10);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await nats.stop();
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await nats.restart();
      await new Promise((resolve) => setTimeout(resolve, 300));
      clearInterval(steady);
      kmon.stop();
      const exported = await local;
      const stats = await exporter.close();
      const received = await consume(nats.url);
      const figures = {
        produced: events(exported).length,
        delivered: events(received).length,
        lost: losses(received).reduce((n, l) => n + l.count, 0),
        buffered: stats.buffered,
        stats,
      };
      console.log(`outage with a ${bufferBytes}-byte buffer: produced ${figures.produced}, delivered ${figures.delivered}, lost ${figures.lost} (exporter: published ${stats.published}, acknowledged ${stats.acknowledged}, duplicates ${stats.duplicates}, buffered ${stats.buffered}, lost ${stats.lost})`);
      return { ...figures, exported, received };
    }

    const identity = (m: KmonMessage) => (m.kind === 'lost' ? 'lost' : `${m.cpu}.${m.seq}`);

    it('delivers everything produced meanwhile when the buffer suffices', async () => {
      const run = await outage(64 * 1024 ** 2);
      expect(run.stats.lost).toBe(0);
      expect(run.buffered).toBe(0);
      expect(losses(run.received)).toEqual([]);
      expect(run.delivered).toBe(run.produced);
      expect(new Set(run.received.map(identity)).size).toBe(run.delivered); // each once
      const bySeq = (list: KmonMessage[]) => events(list).sort((a, b) => a.seq - b.seq);
      expect(bySeq(run.received)).toEqual(bySeq(run.exported));
    }, 30_000);

    it('with a tiny buffer, reports the exact number dropped as an export loss: produced = delivered + lost', async () => {
      const run = await outage(64 * 1024);
      expect(run.buffered).toBe(0);
      expect(run.lost).toBeGreaterThan(0);
      expect(run.lost).toBe(run.stats.lost);
      expect(losses(run.received).every((l) => l.cause === 'export' && l.host === 'h1')).toBe(true);
      expect(run.produced).toBe(run.delivered + run.lost);
      expect(new Set(events(run.received).map(identity)).size).toBe(run.delivered);
      // The local stream had the same notices, as they were sealed.
      expect(losses(run.exported).reduce((n, l) => n + l.count, 0)).toBe(run.lost);
    }, 30_000);
  });

  describe('credentials', () => {
    const secret = 'pa55-w0rd-never-printed';

    it('a wrong password is a KmonNatsError naming the server, never the password', async () => {
      const { url, port } = await server({ user: 'kmon', pass: 'right-one' });
      const attempts = [
        () => createNatsExporter({ servers: url, user: 'kmon', pass: secret }),
        () => createNatsExporter({ servers: `nats://kmon:${secret}@127.0.0.1:${port}` }),
        () => consume(url, { user: 'kmon', pass: secret }),
      ];
      for (const attempt of attempts) {
        const error = await attempt().then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(KmonNatsError);
        const { message, hint } = error as KmonNatsError;
        expect(message).toContain(`nats://127.0.0.1:${port}`);
        expect(message).toMatch(/refused the credentials/u);
        expect(hint).toContain(`nats://127.0.0.1:${port}`);
        expect(`${message} ${hint} ${(error as Error).stack}`).not.toContain(secret);
      }
    });

    it('user/password and token reach the server', async () => {
      const withUser = await server({ user: 'kmon', pass: secret });
      await (await createNatsExporter({ servers: withUser.url, user: 'kmon', pass: secret })).close();
      const withToken = await server({ token: secret });
      await (await createNatsExporter({ servers: withToken.url, token: secret })).close();
      await expect(createNatsExporter({ servers: withToken.url, token: 'wrong' })).rejects.toThrow(KmonNatsError);
    });
  });

  it('starts at a stream sequence, a time or what is new; refuses a stream that does not take the prefix and a host that cannot be a subject token', async () => {
    const { url } = await server();
    const { exporter, kmon, local, session } = await exportSession({ servers: url });
    session.deliver(processes(5));
    kmon.stop();
    await local;
    await exporter.close();
    const fromSixth = await consume(url, { from: { seq: 6 } });
    expect(fromSixth.map((m) => m.kind !== 'lost' && m.seq)).toEqual([5, 6, 7, 8, 9]);
    expect(await consume(url, { from: { time: new Date(Date.now() - 60_000) } })).toHaveLength(10);
    expect(await consume(url, { from: { time: new Date(Date.now() + 60_000) } })).toEqual([]);
    expect(await consume(url, { from: 'new' })).toEqual([]);

    const other = createNatsExporter({ servers: url, prefix: 'elsewhere' });
    await expect(other).rejects.toThrow(/NATS stream KMON exists but does not take elsewhere\.>/u);
    await expect(createNatsExporter({ servers: url, host: 'web.1' })).rejects.toThrow(/host "web.1" cannot be part of a NATS subject/u);
  });

  it('reports a foreign message under the prefix as a malformed record of its host, and goes on', async () => {
    const { url } = await server();
    const { exporter, kmon, local, session } = await exportSession({ servers: url });
    session.deliver(processes(1));
    kmon.stop();
    await local;
    await exporter.close();
    const nc = await connect({ servers: url });
    await jetstream(nc).publish('kmon.h1.lost', new TextEncoder().encode('{"not":"a notice"}'));
    await nc.close();
    const received = await consume(url);
    expect(received.map((m) => m.kind)).toEqual(['exec', 'exit', 'lost']);
    expect(received[2]).toMatchObject({ cause: 'malformed', count: 1, host: 'h1', error: { message: expect.stringMatching(/message 3 on kmon.h1.lost is not a kmon loss notice/u) } });
  });
});
