// Runs in Windows node.exe under Wine (see wine-e2e.sh) with kmon.sys NOT
// loaded: what only Windows has, through @kmon/rx like any consumer.
//  - a missing driver fails as a typed KmonError whose hint says how to load it;
//  - with KMON_SYS naming kmon.sys, a session installs and starts the driver
//    service itself and at close stops it and removes the service it created;
//  - a JS thread too busy for the stream costs records, counted in-band as
//    'binding-queue' losses, never a stalled driver or a growing queue;
//  - the driver stopped under an open session fails the stream with a typed
//    error instead of hanging it.
// One JSON line per check on stdout.
import { execFileSync } from 'node:child_process';
import { createKmon } from '../../rx/dist/index.js';
import { nativeBinding } from '../dist/index.js';

const print = (line) => console.log(JSON.stringify(line));
const sys = process.env.KMON_SYS;

/** sc's report on the kmon service; Wine's sc prints nothing (exit 1) for a service that does not exist. */
function query() {
  try {
    return execFileSync('sc.exe', ['query', 'kmon'], { encoding: 'utf8', timeout: 30_000 });
  } catch (error) {
    return `${error.stdout ?? ''}${error.message}`;
  }
}
const serviceExists = () => /STATE/.test(query());

function assert(ok, message) {
  if (!ok) throw new Error(message);
}

/** Subscribes; resolves with every message once `done(messages)` holds, then unsubscribes. */
function collect(kmon, done, ms = 20_000) {
  return new Promise((resolve, reject) => {
    const messages = [];
    let subscription;
    const timer = setTimeout(() => {
      subscription?.unsubscribe();
      reject(new Error(`timed out; ${messages.length} messages`));
    }, ms);
    subscription = kmon.events$.subscribe({
      next: (m) => {
        messages.push(m);
        if (done(messages)) {
          clearTimeout(timer);
          subscription?.unsubscribe();
          resolve(messages);
        }
      },
      error: (e) => {
        clearTimeout(timer);
        reject(e);
      },
    });
  });
}
const synths = (messages) => messages.filter((m) => m.kind === 'synth').length;
/** Records the seq gaps of the synthetic records say were lost: per CPU, as on every binding. */
function seqGaps(messages) {
  const next = new Map();
  let missing = 0;
  for (const m of messages.filter((m) => m.kind === 'synth')) {
    if (next.has(m.cpu)) missing += m.seq - next.get(m.cpu);
    next.set(m.cpu, m.seq + 1);
  }
  return missing;
}
const tick = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const checks = [
  {
    name: 'a missing kmon.sys fails as KmonDriverError with a hint to load it',
    async run() {
      assert(!serviceExists(), 'the kmon service should not exist yet');
      delete process.env.KMON_SYS; // no .sys to load: the session must fail, not load one
      const kmon = createKmon({ kinds: ['synth'], synthetic: { count: 10 } }, { binding: nativeBinding, graceMs: 0 });
      let error;
      try {
        await collect(kmon, () => true, 5000);
      } catch (e) {
        error = e;
      } finally {
        process.env.KMON_SYS = sys;
      }
      // By name and code, not instanceof: under Wine node.exe does not resolve pnpm's symlinks, so rx
      // and native each load their own copy of @kmon/core (on Windows, junctions resolve to one).
      assert(error?.name === 'KmonDriverError' && error.code === 'KMON_DRIVER', `expected KmonDriverError, got ${error?.name}: ${error?.message}`);
      assert(/not loaded/.test(error.message) && /kmonctl install/.test(error.hint), `message/hint: ${error.describe()}`);
      return error.describe();
    },
  },
  {
    name: 'a session loads a missing kmon.sys from KMON_SYS and removes the service it created at close',
    async run() {
      assert(sys, 'KMON_SYS must name kmon.sys');
      assert(!serviceExists(), 'the kmon service should not exist yet');
      const kmon = createKmon({ kinds: ['synth'], synthetic: { count: 500, perTick: 50 } }, { binding: nativeBinding, graceMs: 0 });
      let during = '';
      const seen = await collect(kmon, (messages) => {
        if (synths(messages) === 1) during = query();
        return synths(messages) === 500;
      });
      await tick(50); // the 0 ms grace period, then close()
      assert(/RUNNING/.test(during), `kmon should run while the session is open:\n${during}`);
      assert(!serviceExists(), `the service should be gone after close:\n${query()}`);
      return `${synths(seen)} records; service RUNNING while open, gone after close`;
    },
  },
  {
    name: 'a blocked JS thread costs records counted in-band as binding-queue losses, never a stall',
    async run() {
      const total = 20_000;
      const kmon = createKmon(
        {
          kinds: ['synth'],
          synthetic: { count: total, perTick: 500, periodMs: 1 },
          windows: { queueBatches: 2, pendingRequests: 4 },
        },
        { binding: nativeBinding, graceMs: 0, statsIntervalMs: 50 },
      );
      let blocked = false;
      let last;
      const messages = await collect(kmon, (ms) => {
        if (!blocked) {
          blocked = true; // first batch: hog the JS thread while kmon.sys emits everything
          const until = Date.now() + 1500;
          while (Date.now() < until);
        }
        const stats = kmon.stats();
        last = stats;
        const lost = ms.filter((m) => m.kind === 'lost').reduce((n, m) => n + m.count, 0);
        return synths(ms) + lost >= total;
      });
      const values = new Set(messages.filter((m) => m.kind === 'synth').map((m) => m.value));
      assert(values.size === synths(messages), 'no record delivered twice');
      const lost = messages.filter((m) => m.kind === 'lost');
      const queueLost = lost.filter((m) => m.cause === 'binding-queue').reduce((n, m) => n + m.count, 0);
      const ringLost = lost.filter((m) => m.cause === 'ring-full').reduce((n, m) => n + m.count, 0);
      assert(queueLost > 0, `expected binding-queue losses; notices: ${JSON.stringify(lost.map(({ error, ...m }) => m))}`);
      assert(synths(messages) + queueLost + ringLost === total, `delivered ${synths(messages)} + lost ${queueLost}+${ringLost} != ${total}`);
      // A gap is lost records, counted: never more than the counters say (losses after a CPU's last record show none).
      assert(seqGaps(messages) <= queueLost + ringLost, `seq gaps of ${seqGaps(messages)} records, ${queueLost + ringLost} counted lost`);
      await tick(50); // the 0 ms grace period, then close(), which removes the service it loaded
      assert(!serviceExists(), `the service should be gone after close:\n${query()}`);
      return `${total} records: ${synths(messages)} delivered, ${queueLost} dropped at the 2-batch JS queue, ${ringLost} at the ring, all reported in-band, seq gaps ${seqGaps(messages)} (stats while open: attempted ${last?.attempted}, bindingDropped ${last?.bindingDropped})`;
    },
  },
  {
    name: 'kmon.sys stopping under an open session errors the stream with a typed error, and the session cleans up',
    async run() {
      assert(!serviceExists(), 'the kmon service should not exist yet');
      const kmon = createKmon({ kinds: ['synth'], synthetic: { count: 0, perTick: 1, periodMs: 5 } }, { binding: nativeBinding, graceMs: 0 });
      let stopped = false;
      let error;
      try {
        await collect(kmon, (messages) => {
          if (!stopped && synths(messages) >= 10) {
            stopped = true;
            execFileSync('sc.exe', ['stop', 'kmon'], { encoding: 'utf8', timeout: 30_000 }); // under the session
          }
          return false;
        }, 15_000);
      } catch (e) {
        error = e;
      }
      assert(stopped, 'records arrived before the stop');
      assert(error?.name === 'KmonDriverError' && error.code === 'KMON_DRIVER', `expected KmonDriverError, got ${error?.name}: ${error?.message}`);
      // The pump sees its WAITs cancelled, or a stats read meets the vanished device first: either way, said so.
      assert(/was it stopped|is the driver stopping/.test(error.message) && /stopped or unloaded/.test(error.hint), `message: ${error.describe()}`);
      await tick(50);
      assert(!serviceExists(), `the session created the service, so it removed it when the error closed it:\n${query()}`);
      return error.describe();
    },
  },
];

for (const check of checks) {
  const started = Date.now();
  try {
    const detail = await check.run();
    print({ check: check.name, ok: true, ms: Date.now() - started, detail });
  } catch (error) {
    print({ check: check.name, ok: false, ms: Date.now() - started, error: String(error?.stack ?? error) });
  }
}
print({ done: true });
