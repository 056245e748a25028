import { mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { concatBatch, createMockBinding, encodeRecord, type MockBinding } from 'kmon/testing';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CaptureReader, CaptureWriter, readCaptureHeader } from '@kmon/capture';
import { memoryIo } from '../test/memory-io.js';
import { createProgram } from './program.js';

const dir = mkdtempSync(join(tmpdir(), 'kmon-cli-capture-'));
let files = 0;
const scratch = () => join(dir, `c${files++}.kmon`);

const exit = (seq: number, tgid: number, code = 0) =>
  encodeRecord({ kind: 'exit', header: { seq, tgid, tid: tgid, ts_ns: 9_000_000n }, body: { exit_code: code, comm: tgid === 7 ? 'bash' : 'sh' } });
const exec = (seq: number, tgid: number) =>
  encodeRecord({ kind: 'exec', header: { seq, tgid, tid: tgid }, body: { ppid: 1, comm: 'sh', argc: 1 }, vars: ['/bin/sh', 'sh\0'] });

/** Runs a command in-process; `drive` feeds the mock once the session is attached. */
async function run(argv: string[], binding?: MockBinding, drive?: (b: MockBinding, interrupt: () => void) => void) {
  const mem = memoryIo();
  const done = createProgram(mem.io, { ...(binding && { binding }), graceMs: 0 }).run(argv);
  await new Promise((r) => setImmediate(r));
  if (binding && drive) drive(binding, mem.interrupt);
  return { code: await done, ...mem };
}

/** Records four events and a drop of two into a new capture. */
async function recordSample(path: string) {
  return run(['record', '-o', path, '--kinds', 'exec,exit'], createMockBinding(), (b, interrupt) => {
    b.current!.deliver(concatBatch([exec(0, 7), exit(1, 7, 3)]));
    b.current!.deliver(concatBatch([exit(2, 8), exit(5, 9)])); // a gap: the counters say why
    b.current!.setStats({ cpus: [{ attempted: 6, dropped: [0, 0, 2, 0, 0, 0, 0], truncated: 0 }] });
    interrupt();
  });
}

describe('kmon record and kmon replay (mock binding)', () => {
  let path: string;
  beforeEach(() => (path = scratch()));

  it('record writes a capture and ends with an exact summary of it', async () => {
    const r = await recordSample(path);
    expect(r.code).toBe(0);
    expect(r.out()).toBe(''); // events go to the file, not stdout
    const size = statSync(path).size;
    expect(r.err()).toMatch(
      new RegExp(`kmon record: recorded 4 events, 2 lost \\(ring-full 2\\) in [\\d.]+ s: 2 batches \\(\\d+ bytes of records\\), \\d+ counter readings, ${size} bytes in 1 blocks to ${path}\\n$`),
    );
  });

  it('replay prints what watch printed live, with the losses, and applies watch filters', async () => {
    const live = await run(['watch', '-f', 'jsonl', '--kinds', 'exec,exit'], createMockBinding(), (b, interrupt) => {
      b.current!.deliver(concatBatch([exec(0, 7), exit(1, 7, 3)]));
      b.current!.deliver(concatBatch([exit(2, 8), exit(5, 9)]));
      b.current!.setStats({ cpus: [{ attempted: 6, dropped: [0, 0, 2, 0, 0, 0, 0], truncated: 0 }] });
      interrupt();
    });
    await recordSample(path);
    const replayed = await run(['replay', path, '-f', 'jsonl']);
    expect(replayed.code).toBe(0);
    expect(replayed.out()).toBe(live.out());
    expect(replayed.err()).toMatch(/kmon replay: 4 events, 2 lost \(ring-full 2\)\n$/);

    const exits = await run(['replay', path, '-f', 'jsonl', '--kinds', 'exit', '--comm', 'sh']);
    expect(exits.out().trim().split('\n').map((l) => JSON.parse(l) as { kind: string; pid?: number })).toEqual([
      expect.objectContaining({ kind: 'exit', pid: 8 }),
      expect.objectContaining({ kind: 'exit', pid: 9 }),
      expect.objectContaining({ kind: 'lost', count: 2 }), // found by the gap in that batch
    ]);
    const two = await run(['replay', path, '-f', 'jsonl', '--count', '2']);
    expect(two.out().trim().split('\n')).toHaveLength(2);
  });

  it('replay of a cut capture prints what it holds and says how much was cut', async () => {
    const many = concatBatch(Array.from({ length: 20_000 }, (_, i) => exit(i, 100 + (i % 1000))));
    await run(['record', '-o', path, '-q'], createMockBinding(), (b, interrupt) => {
      b.current!.deliver(many); // more than a block: the next batch starts block 1
      b.current!.deliver(exit(20_000, 7));
      interrupt();
    });
    const size = statSync(path).size;
    truncateSync(path, size - 10);
    const r = await run(['replay', path, '-f', 'jsonl']);
    expect(r.code).toBe(0);
    expect(r.out().trim().split('\n')).toHaveLength(20_000);
    expect(r.err()).toMatch(new RegExp(`kmon replay: the capture was cut \\(no end marker\\): read \\d+ bytes; its last \\d+ bytes \\(an incomplete block\\) were dropped\n$`));
  });

  it('a file that is not a capture is one clear error with a hint, exit 1', async () => {
    writeFileSync(path, 'not a capture at all, but long enough');
    const r = await run(['replay', path]);
    expect(r.code).toBe(1);
    expect(r.err()).toMatch(/kmon replay: not a kmon capture .*\(capture byte 0\)\n {2}hint: record one with `kmon record -o FILE`/);
  });

  it('record --max-size stops once the capture has reached the size', async () => {
    const big = (n: number) => concatBatch(Array.from({ length: 2000 }, (_, i) => exit(n * 2000 + i, 100 + i)));
    const r = await run(['record', '-o', path, '--max-size', '50k', '-q'], createMockBinding(), (b) => {
      for (let n = 0; n < 200 && !b.current!.closed; n++) b.current!.deliver(big(n));
    });
    expect(r.code).toBe(0);
    expect(statSync(path).size).toBeGreaterThanOrEqual(50 * 1024);
    expect(statSync(path).size).toBeLessThan(200 * 1024);
    expect(readFileSync(path).length).toBe(statSync(path).size);
  });

  it.each([
    [['record'], /required option '-o, --output <file>'/],
    [['record', '-o', 'x', '--max-size', 'lots'], /expected a size/],
    [['replay', 'x', '--speed', '0'], /expected 'max' or a positive number/],
    [['replay'], /missing required argument 'file'/],
  ])('%j is a usage error (exit 2)', async (argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.err()).toMatch(message);
  });

  describe("replay applies watch's filters to the recorded events", () => {
    /** A struct kmon_sockaddr for an IPv4 address. */
    const inet = (address: string, port: number) => {
      const bytes = new Uint8Array(24);
      new DataView(bytes.buffer).setUint16(0, 2, true);
      new DataView(bytes.buffer).setUint16(2, port, true);
      bytes.set(address.split('.').map(Number), 8);
      return bytes;
    };
    const snapshot = (pid: number, uid: number, seq: number) =>
      encodeRecord({ kind: 'process', header: { tgid: pid, seq, cpu: 0xffff_ffff }, body: { start_ns: 1n, uid, comm: `p${pid}` } });
    const open = (pid: number, path: string) => encodeRecord({ kind: 'open', header: { tgid: pid }, body: { start_ns: 1n, comm: `p${pid}` }, vars: [path] });
    const connect = (pid: number, address: string, port: number) =>
      encodeRecord({ kind: 'connect', header: { tgid: pid }, body: { start_ns: 1n, comm: `p${pid}`, remote: inet(address, port), type: 1, protocol: 6 }, vars: [''] });
    const rename = (pid: number, from: string, to: string) => encodeRecord({ kind: 'rename', header: { tgid: pid }, body: { start_ns: 1n, comm: `p${pid}` }, vars: [from, to] });

    const capture = scratch();
    beforeAll(() =>
      run(['record', '-o', capture, '-q', '--kinds', 'all'], createMockBinding(), (b, interrupt) => {
        b.current!.deliver(concatBatch([snapshot(7, 1000, 0), snapshot(8, 0, 1)]));
        const events = [open(7, '/etc/passwd'), open(8, '/tmp/x'), connect(7, '10.1.2.3', 443), connect(8, '127.0.0.1', 8080)];
        b.current!.deliver(concatBatch([...events, rename(8, '/tmp/a', '/etc/b')]));
        interrupt();
      }),
    );
    /** The events a replay with these flags prints, each as "kind pid what". */
    const replayed = async (...flags: string[]) => {
      const r = await run(['replay', capture, '-f', 'jsonl', '--kinds', 'file,network', ...flags]);
      expect(r.err()).not.toMatch(/error/);
      return r
        .out()
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { kind: string; pid: number; path?: string; oldPath?: string; remote?: { address: string; port: number } })
        .map((e) => `${e.kind} ${e.pid} ${e.remote ? `${e.remote.address}:${e.remote.port}` : (e.oldPath ?? e.path)}`);
    };
    const all = ['open 7 /etc/passwd', 'open 8 /tmp/x', 'connect 7 10.1.2.3:443', 'connect 8 127.0.0.1:8080', 'rename 8 /tmp/a'];

    it.each([
      [[], all],
      [['--uid', '1000'], ['open 7 /etc/passwd', 'connect 7 10.1.2.3:443']],
      [['--path', '/etc'], ['open 7 /etc/passwd', 'connect 7 10.1.2.3:443', 'connect 8 127.0.0.1:8080', 'rename 8 /tmp/a']], // a rename passes by either path
      [['--path', '/', '--exclude-path', '/etc'], ['open 8 /tmp/x', 'connect 7 10.1.2.3:443', 'connect 8 127.0.0.1:8080', 'rename 8 /tmp/a']],
      [['--path', '/etc', '--exclude-path', '/etc/passwd'], ['connect 7 10.1.2.3:443', 'connect 8 127.0.0.1:8080', 'rename 8 /tmp/a']], // the longest prefix decides
      [['--cidr', '10.0.0.0/8'], ['open 7 /etc/passwd', 'open 8 /tmp/x', 'connect 7 10.1.2.3:443', 'rename 8 /tmp/a']],
      [['--exclude-cidr', '10.1.0.0/16'], ['open 7 /etc/passwd', 'open 8 /tmp/x', 'connect 8 127.0.0.1:8080', 'rename 8 /tmp/a']],
      [['--no-loopback'], ['open 7 /etc/passwd', 'open 8 /tmp/x', 'connect 7 10.1.2.3:443', 'rename 8 /tmp/a']],
      [['--port', '8080'], ['open 7 /etc/passwd', 'open 8 /tmp/x', 'connect 8 127.0.0.1:8080', 'rename 8 /tmp/a']],
    ])('%j', async (flags, expected) => {
      expect(await replayed(...flags)).toEqual(expected);
    });

    it('--container keeps the events of processes in that container, by id prefix', async () => {
      const path = scratch();
      const inCgroup = (pid: number, cgroup_id: bigint, file: string) =>
        encodeRecord({ kind: 'open', header: { tgid: pid, cgroup_id }, body: { start_ns: 1n, comm: `p${pid}` }, vars: [file] });
      await run(['record', '-o', path, '-q'], createMockBinding(), (b, interrupt) => {
        b.current!.deliver(concatBatch([inCgroup(7, 5n, '/srv/app'), inCgroup(8, 6n, '/home/me')]));
        interrupt();
      });
      const cgroups = new Map([[5n, `/system.slice/docker-${'ab'.repeat(32)}.scope`], [6n, '/user.slice/session-1.scope']]);
      const mem = memoryIo();
      await createProgram(mem.io, { graceMs: 0, host: { cgroupPath: (id) => cgroups.get(id) } }).run(['replay', path, '-f', 'jsonl', '--kinds', 'file', '--container', 'abab']);
      expect(mem.out().trim().split('\n').map((line) => (JSON.parse(line) as { path: string }).path)).toEqual(['/srv/app']);
    });

    it("names users (and cgroups) with this host's lookups only in a capture of this boot", async () => {
      const here = scratch();
      await run(['record', '-o', here, '-q'], createMockBinding(), (b, interrupt) => {
        b.current!.deliver(concatBatch([snapshot(7, 1000, 0), encodeRecord({ kind: 'exit', header: { tgid: 7 }, body: { start_ns: 1n, comm: 'p7' } })]));
        interrupt();
      });
      const header = await readCaptureHeader(here);
      const elsewhere = scratch();
      const writer = new CaptureWriter(elsewhere);
      writer.header({ ...header, host: { ...header.host, bootId: 'another-machine' } });
      for await (const entry of (await CaptureReader.open(here)).entries()) if (entry.type === 'batch') writer.batch(entry.batch);
      writer.end();
      const users = async (path: string) => {
        const mem = memoryIo();
        await createProgram(mem.io, { graceMs: 0, host: { userName: (uid) => (uid === 1000 ? 'alice' : undefined) } }).run(['replay', path, '-f', 'jsonl']);
        return mem.out().trim().split('\n').map((line) => (JSON.parse(line) as { process: { uid?: number; user?: string } }).process);
      };
      expect(await users(here)).toEqual([expect.objectContaining({ uid: 1000, user: 'alice' })]);
      const [seen] = await users(elsewhere);
      expect(seen).toMatchObject({ uid: 1000 });
      expect(seen).not.toHaveProperty('user'); // a name of this host's would be a guess
    });

    it('refuses a bad value as watch does: a usage error naming the flag', async () => {
      const r = await run(['replay', capture, '--port', '99999']);
      expect(r.code).toBe(2);
      expect(r.err()).toMatch(/^kmon replay: --port 99999: /);
    });
  });
});
