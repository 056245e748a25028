// `kmon export` and `kmon watch --from` against a real nats-server, on the mock binding.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer } from '@kmon/nats/testing';
import { concatBatch, createMockBinding, encodeRecord } from 'kmon/testing';
import { describe, expect, it } from 'vitest';
import { createProgram } from '../src/program.js';
import { memoryIo } from './memory-io.js';

describe('kmon export / watch --from (real nats-server)', () => {
  it('a wrong password (in the URL or the environment) fails naming the server, never printing the password', async () => {
    const server = await startNatsServer({ user: 'kmon', pass: 'right' });
    try {
      const secret = 'hunter2-secret';
      const where = `nats://127.0.0.1:${server.port}`;
      for (const args of [
        ['export', `nats://kmon:${secret}@127.0.0.1:${server.port}`],
        ['watch', '--from', `nats://kmon:${secret}@127.0.0.1:${server.port}`],
      ]) {
        const { io, out, err } = memoryIo();
        const code = await createProgram(io, { binding: createMockBinding() }).run(args);
        expect(code).toBe(1);
        expect(err()).toContain(`kmon ${args[0]}: NATS server ${where} refused the credentials`);
        expect(err()).toContain(`hint: check the user and password, token or .creds file for ${where}`);
        expect(out() + err()).not.toContain(secret);
      }
    } finally {
      await server.dispose();
    }
  });

  it('refuses what is not a NATS URL', async () => {
    const { io, err } = memoryIo();
    expect(await createProgram(io, { binding: createMockBinding() }).run(['export', 'http://u:pw@example'])).toBe(2); // a usage error
    expect(err()).toContain('kmon export: http://***@example is not a NATS server URL\n  hint: write nats://HOST:PORT');
  });

  it('refuses fleet flags on watch without --from, rather than ignoring them', async () => {
    const { io, err } = memoryIo();
    expect(await createProgram(io, { binding: createMockBinding() }).run(['watch', '--tls-ca', 'ca.pem'])).toBe(2); // a usage error
    expect(err()).toContain('kmon watch: --tls-ca applies to a fleet stream only\n  hint: add --from nats://HOST:PORT, or leave --tls-ca out');
  });

  it('on a terminal, the status line shows what was published, acknowledged, buffered and lost, live', async () => {
    const server = await startNatsServer();
    try {
      const { io, err, interrupt } = memoryIo();
      io.stderr = Object.assign({ ...io.stderr, isTTY: true }, { columns: 200 }); // wide: the line is not wrapped
      const mock = createMockBinding();
      const run = createProgram(io, { binding: mock }).run(['export', server.url, '--host', 'tty', '--kinds', 'exec,exit']);
      const until = async (condition: () => boolean, deadline = Date.now() + 20_000) => {
        while (!condition()) {
          if (Date.now() > deadline) throw new Error(`timed out; stderr so far: ${err().slice(-400)}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      await until(() => mock.current !== undefined && err().includes('exporting to'));
      const records = Array.from({ length: 30 }, (_, seq) => encodeRecord({ kind: 'exit', header: { tgid: 100 + seq, seq }, body: { start_ns: BigInt(seq), comm: 'x' } }));
      mock.current!.deliver(concatBatch(records));
      // Redrawn every second: the line that counts all 30 acknowledged comes (no timing asserted).
      await until(() => err().includes('nats published 30, acked 30, buffered 0, lost 0'));
      interrupt();
      expect(await run).toBe(0);
      expect(err()).toMatch(/kmon \d\d:\d\d:\d\d · .* · 30 events · lost 0 · nats published 30, acked 30, buffered 0, lost 0/u);
    } finally {
      await server.dispose();
    }
  }, 30_000);

  it('--spool FILE: the export runs with its spool file and removes it at the end; --spool-bytes alone is refused', async () => {
    const refused = memoryIo();
    expect(await createProgram(refused.io, { binding: createMockBinding() }).run(['export', 'nats://127.0.0.1:1', '--spool-bytes', '1M'])).toBe(2);
    expect(refused.err()).toContain('kmon export: --spool-bytes bounds a spool file, and no --spool was given\n  hint: add --spool FILE');
    const server = await startNatsServer();
    try {
      const file = join(mkdtempSync(join(tmpdir(), 'kmon-spool-')), 'export.spool');
      const { io, err, interrupt } = memoryIo();
      const mock = createMockBinding();
      const run = createProgram(io, { binding: mock }).run(['export', server.url, '--spool', file, '--spool-bytes', '1M', '--buffer', '1k', '--quiet']);
      for (let deadline = Date.now() + 20_000; !err().includes('exporting to'); ) {
        if (Date.now() > deadline) throw new Error(`timed out; stderr: ${err()}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(existsSync(file)).toBe(true);
      const records = Array.from({ length: 30 }, (_, seq) => encodeRecord({ kind: 'exit', header: { tgid: 100 + seq, seq }, body: { start_ns: BigInt(seq), comm: 'x' } }));
      mock.current!.deliver(concatBatch(records));
      interrupt();
      expect(await run).toBe(0);
      expect(err()).toMatch(/published 30, acknowledged 30, buffered 0, lost 0\n$/u);
      expect(existsSync(file)).toBe(false);
    } finally {
      await server.dispose();
    }
  }, 30_000);
});
