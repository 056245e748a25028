// Export and fleet consumption against a real nats-server (no mock server):
// the kernel side is the mock binding (a fake only below @kmon/native), fed
// with encoded records; the kernel end to end is in @kmon/cli's export test.
import { ABI, createKmon, processKey, type ContextMessage, type KmonEvent, type KmonMessage, type LostNotice, type SessionClock } from '@kmon/rx';
import { concatBatch, createMockBinding, encodeRecord, type MockBinding } from '@kmon/rx/testing';
import { lastValueFrom, toArray } from 'rxjs';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers } from '@nats-io/transport-node';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { natsBinding } from './binding.js';
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

/** The clock of host h1's session (the exporters' default here). */
const H1_CLOCK: SessionClock = { bootId: 'boot-1', realtimeOffsetNs: 1_700_000_000_000_000_000n };

/** Records of `n` short processes on CPU `cpu`: exec of `name` then exit, numbered from `first`. */
function processes(n: number, first = 0, cpu = 0, name = 'true'): Uint8Array {
  const records: Uint8Array[] = [];
  for (let i = first; i < first + n; i++) {
    const pid = 1000 + i;
    const header = (seq: number, ts: bigint) => ({ cpu, seq: BigInt(seq), ts_ns: ts, tgid: pid, tid: pid, cgroup_id: 1n });
    records.push(
      encodeRecord({
        kind: 'exec',
        header: header(2 * i, 1_000_000n * BigInt(i) + 1n),
        body: { start_ns: 1_000_000n * BigInt(i), ppid: 1, uid: 0, gid: 0, argc: 2, comm: name },
        vars: [`/bin/${name}`, `${name}\0${i}\0`, `/usr/bin/${name}`, '/'],
      }),
      encodeRecord({
        kind: 'exit',
        header: header(2 * i + 1, 1_000_000n * BigInt(i) + 2n),
        body: { start_ns: 1_000_000n * BigInt(i), exit_code: i % 3, signal: 0, comm: name },
      }),
    );
  }
  return concatBatch(records);
}

/** An export over the mock binding: what the local consumer saw, and the exporter. */
async function exportSession(options: ExportOptions, clock = H1_CLOCK) {
  const exporter = await createNatsExporter({ host: 'h1', ackTimeoutMs: 1000, retryMs: 100, flushTimeoutMs: 20_000, ...options });
  const mock = createMockBinding({ clock });
  const kmon = createKmon({ kinds: [...KINDS] }, { binding: exporter.binding(mock), statsIntervalMs: 20 });
  const local = lastValueFrom(exportToNats(kmon.events$, exporter).pipe(toArray()));
  await until(() => mock.current !== undefined);
  return { exporter, kmon, local, session: mock.current! as NonNullable<MockBinding['current']> };
}

/** Everything the stream holds for the fleet, through natsBinding, until caught up. */
function consume(url: string, options: Partial<Parameters<typeof natsBinding>[0]> = {}) {
  return consumeFleet(url, options).received;
}

function consumeFleet(url: string, options: Partial<Parameters<typeof natsBinding>[0]> = {}) {
  const fleet = createKmon({ kinds: [...KINDS] }, { binding: natsBinding({ servers: url, follow: false, ...options }) });
  return { fleet, received: lastValueFrom(fleet.events$.pipe(toArray())) };
}

/** What a fleet consumer sees of a host's session: its messages, each saying the host. */
const fromHost = (host: string, messages: ContextMessage[]) => messages.map((m) => ({ ...m, host }));

/** Stream messages: how many messages carried the records. */
async function streamMessages(url: string) {
  const nc = await connect({ servers: url });
  const info = await (await jetstreamManager(nc)).streams.info('KMON');
  await nc.close();
  return info.state.messages;
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
    // Same events, in the kernel's order (exec and exit interleaved, though they travel in separate messages).
    expect(received).toEqual(fromHost('h1', exported));
    expect(losses(received)).toEqual([{ kind: 'lost', cause: 'ring-full', count: 3, byKind: { exec: 3 }, host: 'h1' }]);
    // Records are packed: one message per kind of each batch's window, and the notice.
    expect(await streamMessages(url)).toBe(5);
  });

  it("each host's events carry that host's process keys and wall times; the same pid on two hosts stays two processes", async () => {
    const { url } = await server();
    const clocks: Record<string, SessionClock> = {
      a: { bootId: 'boot-a', realtimeOffsetNs: 1_600_000_000_000_000_000n },
      b: { bootId: 'boot-b', realtimeOffsetNs: 1_800_000_000_000_000_000n },
    };
    for (const host of ['a', 'b']) {
      const { exporter, kmon, local, session } = await exportSession({ servers: url, host }, clocks[host]);
      session.deliver(processes(3, 0, 0, `cmd-${host}`));
      kmon.stop();
      await local;
      await exporter.close();
    }
    const { fleet, received } = consumeFleet(url);
    const exits = events(await received).filter((e) => e.kind === 'exit') as Array<Extract<ContextMessage, { kind: 'exit' }>>;
    expect(exits.map((e) => [e.host, e.pid, e.process.key, e.wallTimeNs, e.process.argv?.[0]])).toEqual(
      ['a', 'b'].flatMap((host) =>
        [0, 1, 2].map((i) => [host, 1000 + i, processKey(clocks[host]!.bootId, 1000 + i, 1_000_000n * BigInt(i)), clocks[host]!.realtimeOffsetNs + 1_000_000n * BigInt(i) + 2n, `cmd-${host}`]),
      ),
    );
    expect(fleet.processes('a')?.lookup(1000, 0n)?.exe).toBe('/usr/bin/cmd-a');
    expect(fleet.processes('b')?.lookup(1000, 0n)?.exe).toBe('/usr/bin/cmd-b');
    expect(fleet.processes('b')?.bootId).toBe('boot-b');
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
    expect(sent).toEqual([0, 40]); // records (in 2 messages)
    const received = await consume(url);
    expect(received).toHaveLength(40);
  });

  describe('the server stopped during an export, then restarted with its store', () => {
    /** A steady workload (20 processes every 10 ms) across a 2 s outage; returns what was produced and received. */
    async function outage(bufferBytes: number, spool?: ExportOptions['spool']) {
      const nats = await server();
      const { exporter, kmon, local, session } = await exportSession({ servers: nats.url, bufferBytes, maxOutstanding: 64, ...(spool && { spool }) });
      let produced = 0;
      let spoolFile = { most: 0, messages: 0 };
      // Ticks alternate between two CPUs, each numbering its records in order.
      const steady = setInterval(() => {
        session.deliver(processes(20, (produced += 20) - 20, (produced / 20) % 2));
        if (spool) spoolFile = { most: Math.max(spoolFile.most, statSync(spool.file).size), messages: Math.max(spoolFile.messages, exporter.stats().spooled) };
      }, 10);
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
      return { ...figures, exported, received, spoolFile };
    }

    const identity = (m: KmonMessage) => (m.kind === 'lost' ? 'lost' : `${m.cpu}.${m.seq}`);
    /** Each CPU's records in sequence order, as the host produced them. */
    const inHostOrder = (list: KmonMessage[]) => {
      const last = new Map<number, number>();
      return events(list).every((e) => {
        const ordered = (last.get(e.cpu) ?? -1) < e.seq;
        last.set(e.cpu, e.seq);
        return ordered;
      });
    };

    it('delivers everything produced meanwhile when the buffer suffices', async () => {
      const run = await outage(64 * 1024 ** 2);
      expect(run.stats.lost).toBe(0);
      expect(run.buffered).toBe(0);
      expect(losses(run.received)).toEqual([]);
      expect(run.delivered).toBe(run.produced);
      expect(new Set(run.received.map(identity)).size).toBe(run.delivered); // each once
      expect(inHostOrder(run.received)).toBe(true);
      const bySeq = (list: KmonMessage[]) => events(list).sort((a, b) => a.seq - b.seq);
      expect(bySeq(run.received)).toEqual(bySeq(fromHost('h1', run.exported)));
    }, 30_000);

    it('with a tiny buffer and a spool file, delivers everything, in order, through the file; the file stays within its bound and is removed', async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'kmon-spool-')), 'export.spool');
      const run = await outage(64 * 1024, { file, bytes: 64 * 1024 ** 2 });
      expect(run.spoolFile.messages).toBeGreaterThan(0); // the memory buffer alone could not hold the outage
      expect(run.stats.lost).toBe(0);
      expect(losses(run.received)).toEqual([]);
      expect(run.delivered).toBe(run.produced);
      expect(new Set(events(run.received).map(identity)).size).toBe(run.delivered);
      expect(inHostOrder(run.received)).toBe(true);
      expect(existsSync(file)).toBe(false);
    }, 30_000);

    it('with a tiny buffer and a tiny spool, produced = delivered + lost, in order, and the file never passed its bound by more than a window', async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'kmon-spool-')), 'export.spool');
      const run = await outage(64 * 1024, { file, bytes: 128 * 1024 });
      expect(run.spoolFile.messages).toBeGreaterThan(0);
      expect(run.spoolFile.most).toBeLessThanOrEqual(128 * 1024 + 8 * 1024);
      expect(run.lost).toBeGreaterThan(0);
      expect(run.lost).toBe(run.stats.lost);
      expect(run.produced).toBe(run.delivered + run.lost);
      expect(inHostOrder(run.received)).toBe(true);
    }, 30_000);

    it('with a tiny buffer, reports the exact number dropped as an export loss: produced = delivered + lost', async () => {
      const run = await outage(64 * 1024);
      expect(run.buffered).toBe(0);
      expect(run.lost).toBeGreaterThan(0);
      expect(run.lost).toBe(run.stats.lost);
      expect(losses(run.received).every((l) => l.cause === 'export' && l.host === 'h1')).toBe(true);
      expect(run.produced).toBe(run.delivered + run.lost);
      expect(new Set(events(run.received).map(identity)).size).toBe(run.delivered);
      expect(inHostOrder(run.received)).toBe(true);
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
    // The batch travelled as two messages (execs, exits): from the second, the exits alone.
    const fromSecond = await consume(url, { from: { seq: 2 } });
    expect(fromSecond.map((m) => m.kind !== 'lost' && `${m.kind} ${m.seq}`)).toEqual(['exit 1', 'exit 3', 'exit 5', 'exit 7', 'exit 9']);
    expect(await consume(url, { from: { time: new Date(Date.now() - 60_000) } })).toHaveLength(10);
    expect(await consume(url, { from: { time: new Date(Date.now() + 60_000) } })).toEqual([]);
    expect(await consume(url, { from: 'new' })).toEqual([]);

    const other = createNatsExporter({ servers: url, prefix: 'elsewhere' });
    await expect(other).rejects.toThrow(/NATS stream KMON exists but does not take elsewhere\.>/u);
    await expect(createNatsExporter({ servers: url, host: 'web.1' })).rejects.toThrow(/host "web.1" cannot be part of a NATS subject/u);
  });

  /** Publishes `data` under kmon.h1.<token> with these kmon headers (none: wire format 1, as kmon wrote before). */
  async function publishRaw(url: string, token: string, data: Uint8Array, with_: Record<string, string> = {}) {
    const nc = await connect({ servers: url });
    const h = headers();
    Object.entries(with_).forEach(([k, v]) => h.set(k, v));
    await jetstream(nc).publish(`kmon.h1.${token}`, data, Object.keys(with_).length > 0 ? { headers: h } : {});
    await nc.close();
  }

  it('reports a foreign message under the prefix as a malformed record of its host, and goes on', async () => {
    const { url } = await server();
    const { exporter, kmon, local, session } = await exportSession({ servers: url });
    session.deliver(processes(1));
    kmon.stop();
    await local;
    await exporter.close();
    await publishRaw(url, 'lost', new TextEncoder().encode('{"not":"a notice"}'), { 'Kmon-Wire': '2', 'Kmon-Boot': 'boot-1', 'Kmon-Clock': '0' });
    const received = await consume(url);
    expect(received.map((m) => m.kind)).toEqual(['exec', 'exit', 'lost']);
    expect(received[2]).toMatchObject({ cause: 'malformed', count: 1, host: 'h1', error: { message: expect.stringMatching(/message 3 on kmon.h1.lost is not a kmon loss notice/u) } });
  });

  it('a message of an older or newer wire format is a KmonNatsError naming the format and the message', async () => {
    const record = processes(1).subarray(0, 0 + new DataView(processes(1).buffer).getUint32(ABI.header.fields.size.offset, true));
    for (const [wire, hint] of [[undefined, /older kmon/u], ['3', /newer kmon/u]] as const) {
      const { url } = await server();
      await (await createNatsExporter({ servers: url })).close(); // the stream
      await publishRaw(url, 'exec', record, wire ? { 'Kmon-Wire': wire, 'Kmon-Boot': 'b', 'Kmon-Clock': '0' } : {});
      const error = await consume(url).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(KmonNatsError);
      expect((error as KmonNatsError).message).toMatch(new RegExp(`message 1 on kmon.h1.exec is in kmon wire format ${wire ?? 1}; this kmon reads format 2 only`, 'u'));
      expect((error as KmonNatsError).hint).toMatch(hint);
    }
  });
});
