// Where the kmon path spends its time per event, layer by layer, in this
// process with no kernel: the same synthetic records the driver writes,
// encoded with @kmon/core's test encoder, run through
//   zod     the kind's whole compiled schema (eventValidator) on ready-made events
//   decode  decodeBatch (framing + field reads + strings + the field checks)
//   whole   the same validating each event with the whole schema (what decodeBatch did before
//           it checked only the properties its reads cannot vouch for)
//   rx      createKmon (mock binding) -> events$ subscriber counting
//   (a typical run: node dist/micro.js [MS_PER_STAGE] [--json])
//   DataView a minimal hand-written decoder of the same fields (DataView reads,
//           no checks): the "floor", which decodeBatch now runs below
//           (it reads u64 members as BigUint64Array elements)
// CPU ns per event and the share of wall time spent in GC (perf_hooks 'gc' entries).
import { execFileSync } from 'node:child_process';
import { PerformanceObserver } from 'node:perf_hooks';
import { createKmon, decodeBatch, decodeBatchWholeSchema, eventValidator } from 'kmon';
import { concatBatch, createMockBinding, encodeRecord } from 'kmon/testing';

export interface MicroRow {
  stage: string;
  /** RecordSort.name */
  records: string;
  nsPerEvent: number;
  gcPct: number;
}

let gcMs = 0;
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
});

/** Records of one sort, encoded as the driver writes them: synth with `payload` bytes, open with a real path, a TCP connect over IPv4. */
export interface RecordSort {
  name: string;
  kind: 'synth' | 'open' | 'connect';
  payload: number;
}
export const SORTS: RecordSort[] = [
  { name: 'synth 64 B', kind: 'synth', payload: 0 },
  { name: 'synth 320 B', kind: 'synth', payload: 256 },
  { name: 'open', kind: 'open', payload: 0 },
  { name: 'connect', kind: 'connect', payload: 0 },
];
/** The path of the open records: as long and deep as a library's (the bench's live open runs open a binary). */
const OPEN_PATH = '/usr/lib/x86_64-linux-gnu/libstdc++.so.6';

/** A struct kmon_sockaddr for IPv4: family, host-order port, scope id, address bytes. */
function sockaddr4(port: number, addr: number[]): Uint8Array {
  const bytes = new Uint8Array(24);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, 2, true);
  view.setUint16(2, port, true);
  bytes.set(addr, 8);
  return bytes;
}

/** The pid of every record, and its start time (the open records carry it). */
const PID = 4242;
const START_NS = 5n;

/**
 * The attach snapshot's record of the records' process: a live session's
 * table knows the generator from it, so the rx stage resolves every event
 * through a known process, as the live runs do.
 */
function snapshotBatch(): Uint8Array {
  const header = { cpu: 0xffff_ffff, seq: 0, ts_ns: 1n, tgid: PID, tid: PID, cgroup_id: 1n };
  const body = { start_ns: START_NS, parent_start_ns: 1n, ppid: 1, uid: 0, gid: 0, argc: 2, comm: 'loadgen' };
  return encodeRecord({ kind: 'process', header, body, vars: ['/usr/local/bin/loadgen', '/root', 'loadgen\0--rate\0'] });
}

function makeBatch(sort: RecordSort, n: number): Buffer {
  const records: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const header = { cpu: 1, seq: i, ts_ns: 1_000_000_000n + BigInt(i), tgid: PID, tid: PID, cgroup_id: 1n };
    const make = {
      synth: () => encodeRecord({ kind: 'synth', header, body: { value: i }, vars: [new Uint8Array(sort.payload)] }), // the kernel's filler is zero bytes
      open: () => encodeRecord({ kind: 'open', header, body: { start_ns: START_NS, ino: 1234n, dev: 2049, flags: 0o100000, result: 3, comm: 'loadgen' }, vars: [OPEN_PATH] }),
      connect: () =>
        encodeRecord({
          kind: 'connect',
          header,
          body: { start_ns: START_NS, comm: 'loadgen', local: sockaddr4(44012, [10, 0, 0, 5]), remote: sockaddr4(443, [93, 184, 216, 34]), result: 0, fd: 3, type: 1, protocol: 6 },
        }),
    };
    records.push(make[sort.kind]());
  }
  const b = concatBatch(records);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Runs fn (which handles `perCall` events) for about `ms`, returns CPU ns per
 * event (the process's, GC threads included: wall time on a shared machine
 * counts the neighbours) and the share of wall time spent in GC.
 */
async function time(perCall: number, ms: number, fn: () => void): Promise<{ ns: number; gcPct: number }> {
  for (let i = 0; i < 5; i++) fn(); // warm up / optimise
  await new Promise((r) => setImmediate(r));
  gcMs = 0;
  const start = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const deadline = start + BigInt(ms) * 1_000_000n;
  let calls = 0;
  let now = start;
  while (now < deadline) {
    fn();
    calls++;
    now = process.hrtime.bigint();
  }
  const cpu = process.cpuUsage(cpu0);
  const elapsedNs = Number(now - start);
  await new Promise((r) => setTimeout(r, 20)); // let the observer see the last GCs
  return { ns: ((cpu.user + cpu.system) * 1000) / (calls * perCall), gcPct: Math.min(100, (gcMs * 1e6 * 100) / elapsedNs) };
}

/** A plain decoder of these objects: DataView field reads, one string, one object, no checks. */
function dataViewDecode(buf: Buffer): unknown[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: unknown[] = [];
  for (let off = 0; off < buf.length; ) {
    const size = view.getUint32(off + 4, true);
    const len = view.getUint16(off + 56, true);
    out.push({
      kind: 'synth',
      cpu: view.getUint32(off + 12, true),
      seq: Number(view.getBigUint64(off + 16, true)),
      time: view.getBigUint64(off + 24, true),
      pid: view.getUint32(off + 32, true),
      tid: view.getUint32(off + 36, true),
      cgroupId: view.getBigUint64(off + 40, true),
      value: view.getBigUint64(off + 48, true),
      payload: buf.toString('utf8', off + 64, off + 64 + len),
      truncated: { payload: false },
    });
    off += size;
  }
  return out;
}

export async function micro(msPerStage = 400, sorts: RecordSort[] = SORTS): Promise<MicroRow[]> {
  obs.observe({ entryTypes: ['gc'] });
  const rows: MicroRow[] = [];
  const N = 4096;
  try {
    for (const sort of sorts) {
      const batch = makeBatch(sort, N);
      const candidates = decodeBatch(batch).events.map((e) => ({ ...e }));
      if (candidates.length !== N) throw new Error(`micro: decoded ${candidates.length} of ${N} ${sort.name}`);
      const add = (stage: string, r: { ns: number; gcPct: number }) => rows.push({ stage, records: sort.name, nsPerEvent: r.ns, gcPct: r.gcPct });

      const validator = eventValidator(sort.kind);
      add('zod safeParse, whole schema', await time(N, msPerStage, () => {
        for (const c of candidates) if (!validator.safeParse(c).success) throw new Error('micro: invalid');
      }));
      add('decodeBatch, whole schema (before)', await time(N, msPerStage, () => {
        if (decodeBatchWholeSchema(batch).events.length !== N) throw new Error('micro: decode');
      }));
      add('decodeBatch (field checks)', await time(N, msPerStage, () => {
        if (decodeBatch(batch).events.length !== N) throw new Error('micro: decode');
      }));
      if (sort.kind === 'synth') {
        add('DataView decoder (no checks)', await time(N, msPerStage, () => {
          if (dataViewDecode(batch).length !== N) throw new Error('micro: DataView decoder');
        }));
      }
      const binding = createMockBinding();
      const kmon = createKmon({ kinds: [sort.kind], synthetic: { tgid: 1 } }, { binding, statsIntervalMs: 60_000 });
      let seen = 0;
      const sub = kmon.events$.subscribe(() => seen++);
      const session = binding.current!;
      session.deliver(snapshotBatch());
      if (kmon.processes()?.lookup(PID) === undefined) throw new Error('micro: the snapshot did not seed the process table');
      add('rx events$ (decode + rx)', await time(N, msPerStage, () => session.deliver(batch)));
      sub.unsubscribe();
      kmon.stop();
      if (seen === 0) throw new Error('micro: rx delivered nothing');
    }
  } finally {
    obs.disconnect();
  }
  return rows;
}

/**
 * Each sort of records in a process of its own (`--sort NAME`): decoding one
 * sort after another in one process measured the later ones several times
 * slower (V8's code shared by every kind had seen them all), which no
 * session of a single kind would see.
 */
function eachSortAlone(ms: number): MicroRow[] {
  return SORTS.flatMap((sort) => {
    const out = execFileSync(process.execPath, [process.argv[1]!, String(ms), '--json', '--sort', sort.name], { encoding: 'utf8' });
    return JSON.parse(out.trim().split('\n').pop()!) as MicroRow[];
  });
}

if (process.argv[1]?.endsWith('micro.js')) {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const ms = Number(args.find((a) => /^\d+$/.test(a)) ?? 400);
  const only = args.includes('--sort') ? SORTS.filter((s) => s.name === args[args.indexOf('--sort') + 1]) : undefined;
  const rows = only ? await micro(ms, only) : eachSortAlone(ms);
  if (json) console.log(JSON.stringify(rows));
  else for (const r of rows) console.log(`${r.stage.padEnd(36)} ${r.records.padEnd(12)} ${r.nsPerEvent.toFixed(0).padStart(6)} ns/event  gc ${r.gcPct.toFixed(0)}%`);
}
