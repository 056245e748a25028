// `kmon export` on the real kernel into a real nats-server, read back through
// natsBinding: the consumer gets the very events the local session decoded
// (deep-equal, in order), the workload's execs and exits among them, and no
// loss notice.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { natsBinding } from '@kmon/nats';
import { startNatsServer } from '@kmon/nats/testing';
import { createKmon, decodeBatch, nativeBinding, tappedBinding, type ContextMessage, type KernelBinding, type KmonMessage } from 'kmon';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createProgram } from '../src/program.js';
import { memoryIo } from './memory-io.js';

/** The native binding, keeping every batch it hands over: what the local session decoded is decodeBatch of these. */
function keeping(inner: KernelBinding) {
  const batches: Uint8Array[] = [];
  const binding = tappedBinding(inner, (batch) => batches.push(batch.slice()));
  return { binding, events: () => batches.flatMap((b) => decodeBatch(b).events) };
}

/** An event as decoded from its record, without the context the session adds. */
function recordOf(m: ContextMessage): KmonMessage {
  if (m.kind === 'lost') return m;
  const { process: _process, wallTime: _wallTime, wallTimeNs: _wallTimeNs, host: _host, ...record } = m;
  return record as KmonMessage;
}

async function until(condition: () => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('kmon export (real kernel, real nats-server)', () => {
  it("a workload's exec and exit events arrive through natsBinding deep-equal and in order, with no loss", async () => {
    const server = await startNatsServer();
    try {
      const { io, err, interrupt } = memoryIo();
      const kernel = keeping(nativeBinding);
      const run = createProgram(io, { binding: kernel.binding }).run(['export', server.url, '--host', 'kernel-test', '--kinds', 'exec,exit', '--quiet']);
      await until(() => err().includes('exporting to'));
      const marker = `kmon-export-${process.pid}`;
      for (let i = 0; i < 10; i++) spawnSync('/bin/echo', [marker, String(i)]);
      await until(() => kernel.events().filter((e) => e.kind === 'exit' && e.comm === 'echo').length >= 10);
      interrupt();
      expect(await run).toBe(0);
      // The process snapshot is published (a fleet consumer seeds its table from it) but not shown.
      const published = kernel.events().length;
      const local = kernel.events().filter((e) => e.kind !== 'process');
      expect(err()).toMatch(new RegExp(`exported ${local.length} events, 0 lost .* published ${published}, acknowledged ${published}, buffered 0, lost 0\\n$`, 'u'));

      const fleet = createKmon({ kinds: ['exec', 'exit'] }, { binding: natsBinding({ servers: server.url, follow: false }) });
      const received: ContextMessage[] = await lastValueFrom(fleet.events$.pipe(toArray()));
      // The records are the ones the kernel wrote; the context is the exporting host's (its name, boot and wall clock).
      expect(received.map(recordOf)).toEqual(local);
      const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
      expect(new Set(received.map((m) => m.kind !== 'lost' && [m.host, m.process.key?.split(':')[0]].join(' ')))).toEqual(new Set([`kernel-test ${bootId}`]));
      expect(received.filter((m) => m.kind === 'lost')).toEqual([]);

      const workload = received.filter((e) => e.kind === 'exec' && e.argv[1] === marker);
      expect(workload.map((e) => e.kind === 'exec' && e.argv[2])).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
      // Each exec's process exits, under the same process key.
      for (const exec of workload) {
        if (exec.kind !== 'exec') continue;
        const exit = received.find((m) => m.kind === 'exit' && m.pid === exec.pid && m.startTime === exec.startTime);
        expect(exit?.kind === 'exit' && exit.process.key).toBe(exec.process.key);
      }
    } finally {
      await server.dispose();
    }
  });
});
