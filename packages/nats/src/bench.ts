// `pnpm --filter @kmon/nats bench`: events/s of the same records (exec and
// exit pairs, as drivers write them) through a local session, exported to a
// local nats-server (until every one is acknowledged), and consumed back
// through natsBinding. The session is the mock binding, so the figures are
// kmon's and the server's, not the kernel's.
//   node dist/bench.js [--records 50000]
import { createKmon, type KernelBinding, type KmonMessage } from '@kmon/rx';
import { concatBatch, createMockBinding, encodeRecord } from '@kmon/core/testing';
import { lastValueFrom, reduce, type Observable } from 'rxjs';
import { natsBinding } from './binding.js';
import { createNatsExporter, exportToNats } from './exporter.js';
import { startNatsServer } from './testing/server.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RECORDS = arg('records', 50_000);
const PER_BATCH = 1000;

function batches(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let first = 0; first < RECORDS; first += PER_BATCH) {
    const records: Uint8Array[] = [];
    for (let seq = first; seq < Math.min(first + PER_BATCH, RECORDS); seq++) {
      const header = { cpu: 0, seq: BigInt(seq), ts_ns: BigInt(seq + 1), tgid: 1000 + (seq >> 1), tid: 1000 + (seq >> 1) };
      records.push(
        seq % 2 === 0
          ? encodeRecord({ kind: 'exec', header, body: { start_ns: BigInt(seq), argc: 3, comm: 'cc1' }, vars: ['/usr/bin/cc', 'cc\0-c\0main.c\0', '/usr/bin/x86_64-linux-gnu-gcc-12', '/home/build/project'] })
          : encodeRecord({ kind: 'exit', header, body: { start_ns: BigInt(seq - 1), exit_code: 0, comm: 'cc1' } }),
      );
    }
    out.push(concatBatch(records));
  }
  return out;
}

/** Delivers every batch into a mock session over `wrap(mock)`; resolves with the events counted and the seconds taken. */
async function run(
  data: Uint8Array[],
  wrap: (b: KernelBinding) => KernelBinding,
  pipe: (events$: Observable<KmonMessage>) => Observable<KmonMessage> = (events$) => events$,
) {
  const mock = createMockBinding();
  const kmon = createKmon({ kinds: ['exec', 'exit'] }, { binding: wrap(mock), graceMs: 0 });
  const started = performance.now();
  const counted = lastValueFrom(pipe(kmon.events$).pipe(reduce((n, m) => (m.kind === 'lost' ? n : n + 1), 0)));
  for (const batch of data) mock.current!.deliver(batch);
  kmon.stop();
  const events = await counted;
  return { events, seconds: (performance.now() - started) / 1000 };
}

const fmt = (label: string, r: { events: number; seconds: number }) =>
  `${label.padEnd(40)}${Math.round(r.events / r.seconds).toString().padStart(10)} events/s   (${r.events} events in ${r.seconds.toFixed(2)} s)`;

const data = batches();
const server = await startNatsServer();
try {
  const local = await run(data, (b) => b);
  console.log(fmt('local session (createKmon, mock binding)', local));
  const exporter = await createNatsExporter({ servers: server.url, host: 'bench', bufferBytes: 1024 ** 3, flushTimeoutMs: 3_600_000 });
  const exported = await run(data, (b) => exporter.binding(b), (events$) => exportToNats(events$, exporter));
  const stats = exporter.stats();
  console.log(`${fmt('exported to nats-server (acknowledged)', exported)}   published ${stats.published}, acknowledged ${stats.acknowledged}, lost ${stats.lost}`);
  const fleet = createKmon({ kinds: ['exec', 'exit'] }, { binding: natsBinding({ servers: server.url, follow: false }) });
  const started = performance.now();
  const events = await lastValueFrom(fleet.events$.pipe(reduce((n, m) => (m.kind === 'lost' ? n : n + 1), 0)));
  const consumed = { events, seconds: (performance.now() - started) / 1000 };
  console.log(fmt('consumed through natsBinding', consumed));
  const rate = (r: { events: number; seconds: number }) => r.events / r.seconds;
  console.log(`exported / local ${(rate(exported) / rate(local)).toFixed(2)}, consumed / local ${(rate(consumed) / rate(local)).toFixed(2)} (same run)`);
} finally {
  await server.dispose();
}
