// Network kinds on the real kernel, loopback only: each test subscribes, runs
// socket workloads (test/netload.py: one process per role, so events are
// checked against the pid that made them) and waits for the events they
// must produce (a missing event fails by timeout). Absence is checked
// against a marker: a record the kernel would have made before the marker's
// comes before it in the one ring. A role's libc may make connects of its own
// (with HOME unset, python resolves ~ through getpwuid, which asks nscd's unix
// socket), so each role's connect is picked by its destination, not its pid alone.
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { firstValueFrom, filter, scan, type Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createKmon, type Kmon, type KmonMessage } from '../src/index.js';

const NETLOAD = fileURLToPath(new URL('./netload.py', import.meta.url));
const NETWORK_KINDS = ['connect', 'accept', 'listen', 'bind', 'close', 'send', 'dns'] as const;

type Of<K extends KmonMessage['kind']> = Extract<KmonMessage, { kind: K }>;
const is =
  <K extends KmonMessage['kind']>(kind: K, match: (m: Of<K>) => boolean = () => true) =>
  (m: KmonMessage): m is Of<K> =>
    m.kind === kind && match(m as Of<K>);

function collectUntil(source: Observable<KmonMessage>, done: (seen: KmonMessage[]) => boolean): Promise<KmonMessage[]> {
  return firstValueFrom(
    source.pipe(
      scan((seen, m) => (seen.push(m), seen), [] as KmonMessage[]),
      filter(done),
    ),
  );
}

/** A netload.py role: its pid, its JSON lines as they come, and its exit. */
function netload(args: string[]) {
  const child = spawn('python3', [NETLOAD, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const exit = once(child, 'exit').then(([code]) => expect(code, `netload ${args.join(' ')}`).toBe(0));
  return {
    pid: () => child.pid!,
    next: async () => JSON.parse((await lines.next()).value as string) as Record<string, number>,
    exit,
  };
}

async function run(args: string[]): Promise<Record<string, number> & { pid: number }> {
  const role = netload(args);
  const out = await role.next();
  await role.exit;
  return { ...out, pid: role.pid() };
}

/** A free loopback TCP port: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** A DNS query as resolvers send it: id, recursion desired, one question of class IN. */
function dnsQuery(name: string, type: number): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.of(l.length), Buffer.from(l)]));
  return Buffer.concat([Buffer.of(0x12, 0x34, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0), ...labels, Buffer.of(0, 0, type, 0, 1)]);
}

/** A UDP "resolver" on a loopback address of its own: answers every query NXDOMAIN. */
async function startResolver() {
  const address = `127.53.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
  const socket = createSocket('udp4');
  socket.on('message', (query, peer) => {
    const answer = Buffer.from(query);
    answer[2] = 0x81; // response, recursion desired
    answer[3] = 0x83; // recursion available, NXDOMAIN
    socket.send(answer, peer.port, peer.address);
  });
  socket.bind(53, address);
  await once(socket, 'listening');
  return { address, close: () => socket.close() };
}

/**
 * Events and the kernel's attempted count agree: every attempted record was delivered (none lost).
 * The session must not follow processes (followProcesses: false): its exec, fork and exit records would count too.
 */
function expectExactAccounting(kmon: Kmon, seen: KmonMessage[]) {
  expect(seen.filter((m) => m.kind === 'lost')).toEqual([]);
  expect(kmon.stats().attempted).toBe(seen.length);
}

// Opening a session loads BPF programs: seconds on a loaded machine.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

beforeAll(() => {
  // The per-syscall exit tracepoints live in tracefs, which is not mounted at boot everywhere.
  if (!existsSync('/sys/kernel/tracing/events/syscalls')) execFileSync('mount', ['-t', 'tracefs', 'nodev', '/sys/kernel/tracing']);
});

describe('network events from the kernel through kmon', () => {
  const kmon = createKmon({ kinds: [...NETWORK_KINDS] }, { graceMs: 0 });
  afterAll(() => kmon.stop());

  it.each(['127.0.0.1', '::1'])('TCP on %s: connect, accept and both closes with their bytes, each for its own process', async (host) => {
    let port = -1; // known once the server listens: its bind and listen must be seen too
    // Attached first (subscribing loads the programs), then the server starts: its listen is not missed.
    // Events arrive from the event loop, after `server` below is set.
    const seen = collectUntil(
      kmon.events$,
      (s) => s.some(is('close', (c) => c.pid === server.pid())) && s.some(is('close', (c) => c.remote.port === port)),
    );
    const server = netload(['tcp-server', host, '1000', '300']);
    port = (await server.next()).port!;
    const client = await run(['tcp-client', host, String(port), '1000', '300']);
    await server.exit;
    const all = await seen;

    const connect = all.find(is('connect', (c) => c.pid === client.pid && c.remote.port === port));
    expect(connect).toMatchObject({ remote: { address: host, port }, result: 0, protocol: 6, socketType: 1 });
    expect(connect!.local.port).toBe(client.local_port);
    expect(all.find(is('listen', (l) => l.pid === server.pid()))).toMatchObject({ local: { address: host, port }, result: 0 });
    const accept = all.find(is('accept', (a) => a.pid === server.pid()));
    expect(accept).toMatchObject({ local: { address: host, port }, remote: { address: host, port: client.local_port } });
    expect(all.find(is('close', (c) => c.pid === client.pid))).toMatchObject({
      comm: 'python3',
      local: { port: client.local_port },
      remote: { address: host, port },
      bytesSent: 1000n,
      bytesReceived: 300n,
      inbound: false,
    });
    expect(all.find(is('close', (c) => c.pid === server.pid()))).toMatchObject({
      local: { port },
      remote: { address: host, port: client.local_port },
      bytesSent: 300n,
      bytesReceived: 1000n,
      inbound: true,
    });
  });

  it('a connect to a closed port reports ECONNREFUSED, a non-blocking one in progress', async () => {
    const port = await closedPort();
    const listener = createServer().listen(0, '127.0.0.1');
    await once(listener, 'listening');
    const open = (listener.address() as AddressInfo).port;
    const seen = collectUntil(kmon.events$, (s) => s.some(is('connect', (c) => c.remote.port === open)));
    const refused = await run(['connect', '127.0.0.1', String(port)]);
    const pending = await run(['connect', '127.0.0.1', String(open), 'nonblocking']);
    const all = await seen;
    listener.close();
    expect(refused.errno).toBe(111);
    expect(all.find(is('connect', (c) => c.pid === refused.pid && c.remote.port === port))).toMatchObject({ remote: { port }, result: -111 });
    expect(pending.errno).toBe(115);
    expect(all.find(is('connect', (c) => c.pid === pending.pid && c.remote.port === open))).toMatchObject({ remote: { port: open }, result: -115 });
  });

  it('an IPv4-mapped IPv6 connect is reported as IPv4 (the raw family kept)', async () => {
    const port = await closedPort();
    const seen = collectUntil(kmon.events$, (s) => s.some(is('connect', (c) => c.remote.port === port)));
    const { pid } = await run(['connect', '::ffff:127.0.0.1', String(port), 'v6socket']);
    const connect = (await seen).find(is('connect', (c) => c.pid === pid && c.remote.port === port));
    expect(connect).toMatchObject({ remote: { family: 10, address: '127.0.0.1', port }, result: -111 });
  });

  it('a unix socket connect reports its path, an abstract one its name', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'kmon-unix-')), 'sock');
    const abstract = `kmon-test-${process.pid}-${Date.now()}`;
    const seen = collectUntil(kmon.events$, (s) => s.some(is('accept', (a) => a.path === abstract)));
    const file = await run(['unix', path]);
    const named = await run(['unix', `@${abstract}`]);
    const all = await seen;
    expect(all.find(is('connect', (c) => c.pid === file.pid && c.path === path))).toMatchObject({ remote: { family: 1 }, path, abstract: false, result: 0 });
    expect(all.find(is('bind', (b) => b.pid === file.pid))).toMatchObject({ path, abstract: false, result: 0 });
    expect(all.find(is('connect', (c) => c.pid === named.pid && c.abstract))).toMatchObject({ path: abstract, abstract: true, result: 0 });
    expect(all.find(is('accept', (a) => a.pid === named.pid))).toMatchObject({ path: abstract, abstract: true });
  });

  describe('DNS to a resolver the test runs on loopback', () => {
    let resolver: Awaited<ReturnType<typeof startResolver>>;
    beforeAll(async () => (resolver = await startResolver()));
    afterAll(() => resolver.close());

    it('a query sent with sendto is a dns event with its name and type, and a send event', async () => {
      const query = dnsQuery('kmon-sendto.test', 28);
      const seen = collectUntil(kmon.events$, (s) => s.some(is('send', (d) => d.remote.address === resolver.address)));
      const { pid, local_port } = await run(['sendto', resolver.address, '53', query.toString('hex')]);
      const all = await seen;
      expect(all.find(is('dns', (d) => d.pid === pid))).toMatchObject({
        server: { address: resolver.address, port: 53 },
        local: { port: local_port },
        query: { id: 0x1234, questions: [{ name: 'kmon-sendto.test', type: 'AAAA' }] },
        truncated: { query: false },
      });
      expect(all.find(is('send', (d) => d.pid === pid))).toMatchObject({
        remote: { address: resolver.address, port: 53 },
        datagrams: 1,
        bytes: BigInt(query.length),
      });
    });

    it("glibc's A and AAAA queries sent with one sendmmsg are two dns events and one send event", async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kmon-resolv-'));
      writeFileSync(join(dir, 'resolv.conf'), `nameserver ${resolver.address}\noptions timeout:1 attempts:1\n`);
      // The send event follows the call's dns events.
      const seen = collectUntil(kmon.events$, (s) => s.some(is('send', (d) => d.remote.address === resolver.address)));
      // A mount namespace of its own, where /etc/resolv.conf names our resolver: nothing else on the machine sees it.
      const lookup = spawn('unshare', ['-m', 'sh', '-c', `mount --bind ${dir}/resolv.conf /etc/resolv.conf && exec getent ahosts kmon-mmsg.test`]);
      await once(lookup, 'exit');
      const all = await seen;
      const queries = all.filter(is('dns', (d) => d.pid === lookup.pid));
      expect(queries.map((d) => d.query.questions.map((q) => `${q.name} ${q.type}`))).toEqual([['kmon-mmsg.test A'], ['kmon-mmsg.test AAAA']]);
      expect(all.filter(is('send', (d) => d.pid === lookup.pid))[0]).toMatchObject({ remote: { address: resolver.address, port: 53 }, datagrams: 2 });
    });
  });
});

describe('network filters in the kernel', () => {
  const included = '127.77.0.1';
  const excluded = '127.88.0.1';

  it('a CIDR filter keeps out what it should, never counted as attempted, and a live change takes effect', async () => {
    const port = await closedPort();
    const kmon = createKmon({ kinds: ['connect'], filters: { network: { include: ['127.77.0.0/16'] } } }, { graceMs: 0, followProcesses: false });
    const attached = kmon.events$.subscribe(); // one session throughout: the change below is live
    const connectTo = (address: string) => (s: KmonMessage[]) => s.some(is('connect', (c) => c.remote.address === address));
    let seen = collectUntil(kmon.events$, connectTo(included));
    await run(['connect', excluded, String(port)]);
    await run(['connect', included, String(port)]); // the marker
    let all = await seen;
    expect(all.filter(is('connect', (c) => c.remote.address === excluded))).toEqual([]);
    expectExactAccounting(kmon, all);

    kmon.setFilters({ network: { include: ['127.0.0.0/8'], exclude: ['127.77.0.0/16'] } });
    seen = collectUntil(kmon.events$, connectTo(excluded));
    await run(['connect', included, String(port)]);
    await run(['connect', excluded, String(port)]); // now the marker
    all = await seen;
    expect(all.filter(is('connect', (c) => c.remote.address === included))).toEqual([]);
    attached.unsubscribe();
    kmon.stop();
  });

  it('loopback off (--no-loopback) keeps loopback out, with exact accounting', async () => {
    const port = await closedPort();
    const kmon = createKmon(
      { kinds: ['connect'], filters: { network: { loopback: false, include: ['127.0.0.0/8', '192.0.2.0/24'] } } },
      { graceMs: 0, followProcesses: false },
    );
    const attached = kmon.events$.subscribe();
    const seen = collectUntil(kmon.events$, (s) => s.some(is('connect', (c) => c.remote.address === '192.0.2.1')));
    await run(['connect', included, String(port)]);
    await run(['connect', '::1', String(port)]);
    await run(['connect', '::ffff:127.0.0.1', String(port), 'v6socket']);
    await run(['connect', '192.0.2.1', '9', 'nonblocking']); // TEST-NET: never answers; the marker
    const all = await seen;
    expect(all.filter((m) => m.kind === 'connect').map((c) => (c as Of<'connect'>).remote.address)).toEqual(['192.0.2.1']);
    expectExactAccounting(kmon, all);
    attached.unsubscribe();
    kmon.stop();
  });
});
