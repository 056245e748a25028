// The aggregator's figures for two exporting hosts, through a real nats-server
// (the hosts' kernels are the mock binding: records encoded as drivers write them).
import { createNatsExporter, exportToNats } from '@kmon/nats';
import { startNatsServer } from '@kmon/nats/testing';
import { createKmon } from '@kmon/rx';
import { concatBatch, createMockBinding, encodeRecord } from '@kmon/rx/testing';
import { lastValueFrom, toArray } from 'rxjs';
import { expect, it } from 'vitest';
import { fleet } from './fleet.js';
import { FleetTally, formatFigures } from './tally.js';

/** `n` processes of `host`; every `failEvery`-th exits with status 1. */
function processes(n: number, failEvery: number) {
  return concatBatch(
    Array.from({ length: n }, (_, i) => {
      const header = (seq: number) => ({ cpu: 0, seq: BigInt(seq), ts_ns: BigInt(seq + 1), tgid: 100 + i, tid: 100 + i });
      return [
        encodeRecord({ kind: 'exec', header: header(2 * i), body: { start_ns: BigInt(i), argc: 1, comm: 'job' }, vars: ['/bin/job', 'job\0', '/bin/job', '/'] }),
        encodeRecord({ kind: 'exit', header: header(2 * i + 1), body: { start_ns: BigInt(i), exit_code: (i + 1) % failEvery === 0 ? 1 : 0, comm: 'job' } }),
      ];
    }).flat(),
  );
}

async function exportAs(url: string, host: string, batch: Uint8Array) {
  const exporter = await createNatsExporter({ servers: url, host });
  const mock = createMockBinding();
  const kmon = createKmon({ kinds: ['exec', 'exit'] }, { binding: exporter.binding(mock) });
  const done = lastValueFrom(exportToNats(kmon.events$, exporter).pipe(toArray()));
  while (!mock.current) await new Promise((resolve) => setTimeout(resolve, 5));
  mock.current.deliver(batch);
  kmon.stop();
  await done;
}

it('per host: process starts and failed exits, attributed by host', async () => {
  const server = await startNatsServer();
  try {
    await exportAs(server.url, 'web-1', processes(30, 3));
    await exportAs(server.url, 'web-2', processes(8, 4));
    const hosts = fleet({ servers: server.url, from: 'all', follow: false }, ['web-1', 'web-2']);
    const tally = new FleetTally();
    const now = Date.now();
    for (const { host, message } of await lastValueFrom(hosts.messages$.pipe(toArray()))) tally.add(host, message, now);
    const figures = tally.figures(now);
    expect(figures).toEqual([
      { host: 'web-1', startsPerMinute: 30, failedExitsPerMinute: 10, starts: 30, failedExits: 10, lost: 0 },
      { host: 'web-2', startsPerMinute: 8, failedExitsPerMinute: 2, starts: 8, failedExits: 2, lost: 0 },
    ]);
    expect(tally.figures(now + 61_000).map((f) => [f.startsPerMinute, f.failedExitsPerMinute])).toEqual([[0, 0], [0, 0]]);
    console.log(formatFigures(figures));
  } finally {
    await server.dispose();
  }
});
