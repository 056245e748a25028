import { readFileSync } from 'node:fs';
import { ABI, KmonPermissionError, PRIVILEGE_HINT } from 'kmon';
import { concatBatch, createMockBinding, encodeRecord, type MockBinding } from 'kmon/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { memoryIo } from '../test/memory-io.js';
import { createProgram } from './program.js';

const exec = (tgid: number, args: string[]) =>
  encodeRecord({
    kind: 'exec',
    header: { tgid, tid: tgid, ts_ns: 5_000_000n },
    body: { ppid: 1, comm: 'sh', argc: args.length },
    vars: ['/bin/sh', args.join('\0') + '\0'],
  });
const exit = (tgid: number, code: number, signal = 0) =>
  encodeRecord({
    kind: 'exit',
    header: { tgid, tid: tgid, ts_ns: 9_000_000n },
    body: { exit_code: code, signal, start_ns: 1_000_000n, comm: 'sh' },
  });
const ESC = /\x1b\[/;

/** Runs a kmon command against the mock, delivering `batches` once it has attached. */
async function runWith(
  binding: MockBinding,
  argv: string[],
  batches: Uint8Array[] = [],
  interrupt = true,
  terminal: Parameters<typeof memoryIo>[0] = {},
) {
  const mem = memoryIo(terminal);
  const done = createProgram(mem.io, { binding, graceMs: 0 }).run(argv);
  await new Promise((r) => setImmediate(r));
  for (const batch of batches) binding.current?.deliver(batch);
  if (interrupt) mem.interrupt();
  return { code: await done, ...mem };
}

/** A struct kmon_sockaddr for an IPv4 address. */
function inet(address: string, port: number): Uint8Array {
  const bytes = new Uint8Array(24);
  new DataView(bytes.buffer).setUint16(0, 2, true);
  new DataView(bytes.buffer).setUint16(2, port, true);
  bytes.set(address.split('.').map(Number), 8);
  return bytes;
}

describe('kmon watch (mock binding)', () => {
  let binding: MockBinding;
  beforeEach(() => (binding = createMockBinding()));

  it('--kinds network, --port, --cidr and --no-loopback become the session kinds and network filter', async () => {
    const r = await runWith(binding, ['watch', '--kinds', 'network,exec', '--port', '443', '--cidr', '10.1.2.3/8', '--no-loopback']);
    expect(r.code).toBe(0);
    expect(binding.current!.options.kinds).toEqual(['connect', 'accept', 'listen', 'bind', 'close', 'send', 'dns', 'exec', 'process']);
    expect(binding.current!.options.filters.network).toEqual({
      include: ['10.0.0.0/8'],
      exclude: [],
      ports: [443],
      excludePorts: [],
      loopback: false,
    });
  });

  it('refuses a prefix that is not one: a usage error naming the flag and the value typed', async () => {
    const r = await runWith(binding, ['watch', '--kinds', 'network', '--cidr', '10.0.0.0/8', '--cidr', '10.0.0.0/40'], [], false);
    expect(r.code).toBe(2);
    expect(r.err()).toMatch(/^kmon watch: --cidr 10.0.0.0\/40: '10.0.0.0\/40' is not an address prefix/);
  });

  it('text shows who connected where and how it went', async () => {
    const connect = encodeRecord({
      kind: 'connect',
      header: { tgid: 1234, tid: 1234 },
      body: { comm: 'curl', local: inet('10.0.0.5', 44012), remote: inet('93.184.216.34', 443), result: 0, type: 1, protocol: 6 },
      vars: [''],
    });
    const refused = encodeRecord({
      kind: 'connect',
      header: { tgid: 1234, tid: 1234 },
      body: { comm: 'curl', local: inet('10.0.0.5', 0), remote: inet('10.0.0.9', 81), result: -111, type: 1, protocol: 6 },
      vars: [''],
    });
    const r = await runWith(binding, ['watch', '--kinds', 'connect'], [concatBatch([connect, refused])]);
    expect(r.out()).toMatch(/ connect +1234 +curl +10.0.0.5:44012 -> 93.184.216.34:443 ok\n/);
    expect(r.out()).toMatch(/ connect +1234 +curl +10.0.0.5:0 -> 10.0.0.9:81 ECONNREFUSED\n/);
  });

  it('--format jsonl prints one valid JSON object per line, 64-bit values as exact strings', async () => {
    const r = await runWith(binding, ['watch', '--format', 'jsonl'], [concatBatch([exec(7, ['sh', '-c', 'exit 3']), exit(7, 3)])]);
    expect(r.code).toBe(0);
    const lines = r.out().trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.kind)).toEqual(['exec', 'exit']);
    expect(lines[0]).toMatchObject({ pid: 7, argv: ['sh', '-c', 'exit 3'], time: '5000000' });
    expect(lines[1]).toMatchObject({ exitCode: 3 });
    expect(r.err()).toMatch(/^kmon watch: 2 events, 0 lost$/m);
  });

  it('--format json prints one valid JSON array', async () => {
    const r = await runWith(binding, ['watch', '--format', 'json'], [exit(7, 0)]);
    expect(JSON.parse(r.out())).toHaveLength(1);
  });

  it('text shows the command line quoted for a shell, and loss in-band where it happened', async () => {
    const mem = memoryIo();
    const done = createProgram(mem.io, { binding, graceMs: 0 }).run(['watch']);
    await new Promise((r) => setImmediate(r));
    binding.current!.deliver(exec(7, ['echo', 'a b', "it's"])); // seq 0
    const dropped = new Array<number>(ABI.kindCount).fill(0);
    dropped[ABI.kinds.exec] = 2;
    binding.current!.setStats({ cpus: [{ attempted: 4, dropped, truncated: 0 }] });
    binding.current!.deliver(encodeRecord({ kind: 'exit', header: { tgid: 7, tid: 7, seq: 3 }, body: { comm: 'sh' } }));
    mem.interrupt();
    expect(await done).toBe(0);
    const [, ...lines] = mem.out().trimEnd().split('\n'); // after the header
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain(`echo 'a b' 'it'\\''s'`);
    // The gap in seq is seen on the record after it: the notice follows that record's batch.
    expect(lines[1]).toMatch(/ exit +7 +sh +code=0 /);
    expect(lines[2]).toMatch(/^ +lost +- +- +2 record\(s\) lost \(ring-full\)$/);
    expect(mem.err()).toMatch(/kmon watch: 2 events, 2 lost/);
  });

  it('text escapes what the traced program chose (argv, path, comm): no terminal control gets through', async () => {
    const hostile = encodeRecord({
      kind: 'exec',
      header: { tgid: 7, tid: 7, ts_ns: 5_000_000n },
      body: { ppid: 1, comm: 'x\x1b[31mEVIL', argc: 4 },
      vars: ['/tmp/fake\nline', ['true', '\x1b[2J\x1b[H', 'a\nb', 'x\rOVERWRITE'].join('\0') + '\0'],
    });
    const hostileExit = encodeRecord({ kind: 'exit', header: { tgid: 7, tid: 7 }, body: { comm: 'x\x1b[31mEVIL\r' } });
    const r = await runWith(binding, ['watch'], [concatBatch([hostile, hostileExit])]);
    const lines = r.out().split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines).toHaveLength(4); // the header, two events
    expect(r.out()).not.toMatch(/[\x1b\r]/);
    expect(lines[1]).toContain(`/tmp/fake\\nline true $'\\e[2J\\e[H' $'a\\nb' $'x\\rOVERWRITE'`);
    expect(lines[2]).toContain(' x\\e[31mEVIL\\r ');
  });

  it('--duration 3000000 (beyond what one Node timer can wait) runs until Ctrl-C, with its summary', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const mem = memoryIo();
    const done = createProgram(mem.io, { binding, graceMs: 0 }).run(['watch', '--duration', '3000000', '-f', 'jsonl']);
    await new Promise((r) => setImmediate(r));
    binding.current!.deliver(exit(1, 0));
    await new Promise((resolve) => setTimeout(resolve, 20)); // an overflowed timer fires after 1 ms
    expect(binding.current!.closed).toBe(false);
    process.off('warning', onWarning);
    expect(warnings.map((w) => w.name)).not.toContain('TimeoutOverflowWarning');
    mem.interrupt();
    expect(await done).toBe(0);
    expect(mem.err()).toMatch(/kmon watch: 1 events, 0 lost/);
  });

  it('--count stops by itself after n events', async () => {
    const r = await runWith(binding, ['watch', '--count', '1', '--format', 'jsonl'], [concatBatch([exit(1, 0), exit(2, 0)])], false);
    expect(r.code).toBe(0);
    expect(r.out().trim().split('\n')).toHaveLength(1);
    expect(binding.current!.closed).toBe(true);
  });

  it('--pid, --no-children, --uid, --container and --comm become the kernel process filter; --kinds the kinds', async () => {
    const argv = ['watch', '--pid', '2', '--no-children', '-u', '0', '--container', 'abcd', '-c', 'sh', '--kinds', 'exit', '-f', 'jsonl'];
    const r = await runWith(binding, argv, [concatBatch([exit(1, 0), exit(2, 0)])]);
    expect(binding.current!.options.kinds).toEqual(['exit', 'process']);
    expect(binding.current!.options.filters.process).toEqual({ pids: [2], children: false, uids: [0], cgroups: [], containers: ['abcd'], comms: ['sh'] });
    // The kernel filters: what it delivers is printed as is.
    expect(r.out().trim().split('\n').map((l) => JSON.parse(l).pid)).toEqual([1, 2]);
  });

  it('watch -- <command> runs it, follows its tree from kmon\'s own, and exits with its exit code', async () => {
    const mem = memoryIo();
    const code = await createProgram(mem.io, { binding, graceMs: 0 }).run(['watch', '-q', '--', 'sh', '-c', 'exit 4']);
    expect(code).toBe(4);
    const narrowed = binding.current!.filters.process; // from kmon's own tree to the command's
    expect(narrowed).toMatchObject({ pids: [expect.any(Number)], children: true });
    expect(narrowed.pids[0]).not.toBe(process.pid);
    expect(mem.err()).toMatch(/watching sh -c exit 4/);
  });

  it('--kinds takes groups, and --path / --exclude-path / --failed become the kernel file filters', async () => {
    await runWith(binding, ['watch', '--kinds', 'process,file', '--path', '/etc', '--exclude-path', '/etc/ssl/', '--failed', '-n', '1'], [
      concatBatch([exit(1, 0)]),
    ]);
    expect(binding.current!.options.kinds).toEqual(['exec', 'exit', 'fork', 'open', 'unlink', 'rename', 'mkdir', 'chmod', 'chown', 'link', 'process']);
    expect(binding.current!.options.filters.file).toEqual({ include: ['/etc/'], exclude: ['/etc/ssl/'], failed: true, writesOnly: false });
  });

  it('prints drops in-band and counts them in the summary', async () => {
    const mem = memoryIo();
    const done = createProgram(mem.io, { binding, graceMs: 0 }).run(['watch', '-f', 'jsonl']);
    await new Promise((r) => setImmediate(r));
    binding.current!.setStats({ cpus: [{ attempted: 3, dropped: [0, 0, 2, 0, 0, 0, 0], truncated: 0 }], bindingDropped: 0 });
    mem.interrupt();
    expect(await done).toBe(0);
    expect(JSON.parse(mem.out().trim())).toEqual({ kind: 'lost', cause: 'ring-full', count: 2, byKind: { exit: 2 } });
    expect(mem.err()).toMatch(/0 events, 2 lost/);
  });

  it('a missing privilege is one clear message naming the command, with the ambient-capability hint, exit code 1', async () => {
    binding.failNextOpen(new KmonPermissionError('the kernel refused to load the BPF programs (EPERM)'));
    const r = await runWith(binding, ['watch'], [], false);
    expect(r.code).toBe(1);
    expect(r.err()).toBe(`kmon watch: the kernel refused to load the BPF programs (EPERM)\n  hint: ${PRIVILEGE_HINT}\n`);
    expect(PRIVILEGE_HINT).toMatch(/--inh-caps=\+bpf,\+perfmon --ambient-caps=\+bpf,\+perfmon .*AmbientCapabilities=CAP_BPF CAP_PERFMON/);
    expect(PRIVILEGE_HINT).not.toMatch(/setcap cap_/);
  });

  it.each([
    [['watch', '--bogus'], /unknown option '--bogus'/],
    [['watch', '--kinds', 'exec,opne'], /unknown kind opne/],
    [['watch', '--format', 'xml'], /Allowed choices are text, json, jsonl/],
    [['watch', '--pid', 'abc'], /positive whole number/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('%j is a usage error (exit 2) that says what is wrong', async (argv, message) => {
    const r = await runWith(binding, argv, [], false);
    expect(r.code).toBe(2);
    expect(r.err()).toMatch(message);
    expect(binding.sessions).toHaveLength(0);
  });

  it.each([
    [['watch', '--pid', '99999999999'], /not a pid: pids are 32-bit/],
    [['watch', '--comm', 'a-name-of-16-byt'], /16 bytes: the kernel keeps only the first 15 bytes[\s\S]*use "a-name-of-16-by"/],
  ])('%j is refused, saying why it could never match', async (argv, message) => {
    const r = await runWith(binding, argv, [], false);
    expect(r.code).toBe(2);
    expect(r.err()).toMatch(message);
  });

  it.each([
    [['--ring-bytes', String(2 ** 30)], `--ring-bytes ${2 ** 30}: at most 256 MiB (268435456): the kernel maps the ring twice`],
    [['--ring-bytes', '1000'], '--ring-bytes 1000: Too small: expected number to be >=65536'],
    [['--ring-bytes', String(3 << 20)], `--ring-bytes ${3 << 20}: must be a power of two`],
    [['--argv-bytes', String(ABI.limits.argvMax + 1)], `--argv-bytes ${ABI.limits.argvMax + 1}: Too big: expected number to be <=${ABI.limits.argvMax}`],
  ])('a session option out of range (%j) is a usage error naming the flag typed and its limit', async (args, message) => {
    const r = await runWith(binding, ['watch', ...args], [], false);
    expect(r.code).toBe(2);
    expect(r.err()).toContain(message);
    expect(r.err()).not.toMatch(/argvBytes|ringBytes|sessionOptionsSchema/);
    expect(binding.sessions).toHaveLength(0);
  });

  it('--kinds process is the exec, exit and fork group; the snapshot kind is process-snapshot, and --help says both', async () => {
    await runWith(binding, ['watch', '--kinds', 'process-snapshot']);
    expect(binding.current!.options.kinds).toEqual(['process']);
    await runWith(binding, ['watch', '--kinds', 'process']);
    expect(binding.current!.options.kinds).toEqual(['exec', 'exit', 'fork', 'process']);
    const help = (await runWith(binding, ['watch', '--help'], [], false)).out().replace(/\s+/g, ' ');
    expect(help).toMatch(/groups \(process = exec,exit,fork; file, network, all\)/);
    expect(help).toMatch(/, exec-failed, process-snapshot\)/);
    expect(help).not.toMatch(/, process[,)]/);
  });

  it('repeated --kinds accumulate', async () => {
    await runWith(binding, ['watch', '--kinds', 'exec', '--kinds', 'exit,exec']);
    expect(binding.current!.options.kinds).toEqual(['exec', 'exit', 'process']);
  });

  it('text gives every kind a readable DETAIL: exec-failed, file calls (cut paths marked, errno names)', async () => {
    const header = { tgid: 42, tid: 42 };
    const rows = [
      encodeRecord({ kind: 'exec-failed', header, body: { error: 13, argc: 2, comm: 'make' }, vars: ['./build.sh', './build.sh\0--fast\0'] }),
      encodeRecord({ kind: 'open', header, body: { flags: 0o1101, result: 3, comm: 'cc' }, vars: ['/tmp/out.o'] }),
      encodeRecord({ kind: 'unlink', header: { ...header, flags: 0b1 }, body: { result: -13, comm: 'rm' }, vars: ['b/c'] }),
      encodeRecord({ kind: 'rename', header, body: { result: 0, comm: 'mv' }, vars: ['/t/a', '/t/b'] }),
      encodeRecord({ kind: 'chown', header, body: { uid: 1000, gid: 0xffff_ffff, result: 0, comm: 'chown' }, vars: ['/t/f'] }),
    ];
    const r = await runWith(binding, ['watch', '--kinds', 'exec-failed,file'], [concatBatch(rows)]);
    const details = r.out().trimEnd().split('\n').slice(1).map((line) => line.replace(/^.* 42 +\S+ +/, ''));
    expect(details).toEqual([
      "failed EACCES ./build.sh ./build.sh --fast",
      'opened /tmp/out.o write fd=3',
      'removed …/b/c failed EACCES',
      'renamed /t/a -> /t/b',
      'chown /t/f uid=1000 gid=-',
    ]);
  });

  it('text is aligned columns under one header, with signal names', async () => {
    const r = await runWith(binding, ['watch'], [concatBatch([exec(7, ['true']), exit(7, 0), exit(123456, 0, 9)])]);
    const [header, ...rows] = r.out().trimEnd().split('\n');
    expect(header).toMatch(/^TIME +EVENT +PID +COMM +DETAIL$/);
    const columnStarts = (line: string) => ['EVENT', 'PID', 'COMM', 'DETAIL'].map((t) => line[header!.indexOf(t) - 1]);
    for (const row of rows) expect(columnStarts(row), row).toEqual([' ', ' ', ' ', ' ']);
    expect(rows[1]!.slice(header!.indexOf('PID')).startsWith('7 ')).toBe(true);
    expect(rows[1]).toMatch(/ sh +code=0 lifetime=/);
    expect(rows[2]).toMatch(/ 123456 +sh +signal=SIGKILL lifetime=/);
  });

  it.each([
    ['a terminal', { isTTY: true, env: {} }, [], true],
    ['NO_COLOR=1 on a terminal', { isTTY: true, env: { NO_COLOR: '1' } }, [], false],
    ['a pipe', { isTTY: false, env: {} }, [], false],
    ['FORCE_COLOR=1 through a pipe', { isTTY: false, env: { FORCE_COLOR: '1' } }, [], true],
    ['--color always through a pipe', { isTTY: false, env: { NO_COLOR: '1' } }, ['--color', 'always'], true],
    ['--color never on a terminal', { isTTY: true, env: { FORCE_COLOR: '1' } }, ['--color', 'never'], false],
  ])('colour: %s', async (_what, terminal, flags, coloured) => {
    const r = await runWith(binding, [...flags, 'watch'], [exit(7, 0)], true, terminal);
    expect(r.code).toBe(0);
    expect(ESC.test(r.out())).toBe(coloured);
  });
});

describe('kmon (every command)', () => {
  it('--version prints the package version', async () => {
    const r = await runWith(createMockBinding(), ['--version'], [], false);
    expect(r.code).toBe(0);
    expect(r.out().trim()).toBe(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version);
  });

  it('--color takes only auto, always or never (exit 2)', async () => {
    const r = await runWith(createMockBinding(), ['--color', 'sometimes', 'watch'], [], false);
    expect(r.code).toBe(2);
    expect(r.err()).toMatch(/Allowed choices are auto, always, never/);
  });
});

describe('kmon watch offers what the binding supports', () => {
  const windowsLike = () =>
    createMockBinding({
      capabilities: {
        platform: 'Windows',
        kinds: ['exec', 'exit', 'synth', 'image-load', 'registry-set'],
        wakeups: ['adaptive'],
        options: ['excludeSelf', 'batchBytes', 'windows'],
      },
    });

  it('--help lists only the kinds and options it honours', async () => {
    const r = await runWith(windowsLike(), ['watch', '--help'], [], false);
    expect(r.code).toBe(0);
    expect(r.out()).toMatch(/comma-separated \(exec, exit,\s+image-load,\s+registry-set\)/);
    expect(r.out()).toContain('--self');
    expect(r.out()).not.toMatch(/--threads|--argv-bytes|--ring-bytes|--wakeup/);
  });

  it.each([
    [['watch', '--kinds', 'exec,fork'], /Windows has no fork events \(known here: exec, exit, image-load, registry-set\)/],
    [['watch', '--kinds', 'process-snapshot'], /Windows has no process-snapshot events/],
    [['watch', '--threads'], /unknown option '--threads'/],
  ])('%j is a usage error that says what is wrong', async (argv, message) => {
    const binding = windowsLike();
    const r = await runWith(binding, argv, [], false);
    expect(r.code).toBe(2);
    expect(r.err()).toMatch(message);
    expect(binding.sessions).toHaveLength(0);
  });

  it('watches the default kinds it has', async () => {
    const binding = windowsLike();
    expect((await runWith(binding, ['watch'])).code).toBe(0);
    expect(binding.current!.options.kinds).toEqual(['exec', 'exit']);
  });
});

describe('kmon doctor (mock binding)', () => {
  it("renders the binding's own checks, then attaches a session per family; exit 1 when one fails", async () => {
    const binding = createMockBinding({ checks: [{ name: 'widget', ok: false, detail: 'no widget', fix: 'install a widget' }] });
    const r = await runWith(binding, ['doctor'], [], false);
    expect(r.code).toBe(1);
    expect(r.out()).toBe(
      '✗ widget: no widget\n    fix: install a widget\n' +
        '✓ attach process: mock: a session for exec, exit, fork opened, attached and closed\n' +
        '✓ attach file: mock: a session for open, unlink, rename, mkdir, chmod, chown, link opened, attached and closed\n' +
        '✓ attach network: mock: a session for connect, accept, listen, bind, close, send, dns opened, attached and closed\n',
    );
    // Each family's kinds, and 'process': rx asks a binding that can snapshot for the table's seed.
    expect(binding.sessions.map((s) => [s.options.kinds.length, s.closed])).toEqual([[4, true], [8, true], [8, true]]);
  });

  it('--format json: the checks as JSON; a family the kernel refuses fails with its hint', async () => {
    const binding = createMockBinding();
    binding.failNextOpen(new KmonPermissionError('the kernel refused (EPERM)'));
    const r = await runWith(binding, ['doctor', '--format', 'json'], [], false);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out())).toEqual([
      { name: 'attach process', ok: false, detail: 'the kernel refused (EPERM)', fix: PRIVILEGE_HINT },
      { name: 'attach file', ok: true, detail: expect.stringContaining('opened, attached and closed') },
      { name: 'attach network', ok: true, detail: expect.stringContaining('opened, attached and closed') },
    ]);
  });

  it('a binding without file or network kinds is attach-tested for what it has', async () => {
    const binding = createMockBinding({ capabilities: { platform: 'Windows', kinds: ['exec', 'exit'], wakeups: ['adaptive'], options: [] } });
    const r = await runWith(binding, ['doctor', '-f', 'json'], [], false);
    expect(JSON.parse(r.out()).map((c: { name: string }) => c.name)).toEqual(['attach process']);
    expect(r.code).toBe(0);
  });
});
