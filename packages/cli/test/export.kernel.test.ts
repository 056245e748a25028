// `kmon export` on the real kernel into a real nats-server, read back through
// natsBinding: the consumer gets the very events the local session decoded
// (deep-equal, in order), the workload's execs and exits among them, and no
// loss notice.
import { spawnSync } from 'node:child_process';
import { natsBinding } from '@kmon/nats';
import { startNatsServer } from '@kmon/nats/testing';
import { createKmon, decodeBatch, nativeBinding, type KernelBinding, type KmonEvent, type KmonMessage } from 'kmon';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createProgram } from '../src/program.js';
import { memoryIo } from './memory-io.js';

/** The native binding, keeping every batch it hands over: what the local session decoded is decodeBatch of these. */
function keeping(inner: KernelBinding) {
  const batches: Uint8Array[] = [];
  const binding: KernelBinding = {
    ...inner,
    name: inner.name,
    capabilities: inner.capabilities,
    open(options, sink) {
      const session = inner.open(options, { ...sink, onBatch: (batch) => (batches.push(batch.slice()), sink.onBatch(batch)) });
      return {
        read: () => {
          const batch = session.read();
          if (batch.length > 0) batches.push(batch.slice());
          return batch;
        },
        stats: () => session.stats(),
        setFilters: (filters) => session.setFilters(filters),
        pause: () => session.pause(),
        resume: () => session.resume(),
        detach: () => session.detach(),
        close: () => session.close(),
      };
    },
  };
  return { binding, events: () => batches.flatMap((b) => decodeBatch(b).events) };
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
      const local = kernel.events();
      expect(err()).toMatch(new RegExp(`exported ${local.length} events, 0 lost .* published ${local.length}, acknowledged ${local.length}, buffered 0, lost 0\\n$`, 'u'));

      const fleet = createKmon({ kinds: ['exec', 'exit'] }, { binding: natsBinding({ servers: server.url, follow: false }) });
      const received: KmonMessage[] = await lastValueFrom(fleet.events$.pipe(toArray()));
      expect(received).toEqual(local);
      expect(received.filter((m) => m.kind === 'lost')).toEqual([]);

      const workload = (received as KmonEvent[]).filter((e) => e.kind === 'exec' && e.argv[1] === marker);
      expect(workload.map((e) => e.kind === 'exec' && e.argv[2])).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
      for (const exec of workload) {
        expect(received).toContainEqual(expect.objectContaining({ kind: 'exit', pid: exec.pid, startTime: (exec as { startTime: bigint }).startTime }));
      }
    } finally {
      await server.dispose();
    }
  });
});
