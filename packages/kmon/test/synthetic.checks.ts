// @kmon/rx over a real driver's synthetic source, written once for every OS.
// synthetic.linux.test.ts runs these on Linux (eBPF; the source is a
// generator process's getppid() calls) and synthetic.wine.test.ts runs them
// in Windows node.exe under Wine (kmon.sys's timer source, inverted call).
// No vitest here, only node:assert and type imports: node.exe runs this file
// (transpiled) without a test runner, and rx is handed in, not imported.
import assert from 'node:assert/strict';
import type { KernelBinding, KernelSession, KernelStats, KmonMessage, SessionClock, SessionOptionsInput, SynthEvent } from '@kmon/rx';
import type { Observable, Subscription } from 'rxjs';

/** The part of @kmon/rx's Kmon the checks use. */
export interface KmonLike {
  readonly events$: Observable<KmonMessage>;
  stats(): KernelStats;
  stop(): void;
}

export type CreateKmon = (
  options: SessionOptionsInput,
  config: { binding: KernelBinding; graceMs?: number; statsIntervalMs?: number },
) => KmonLike;

/** A source of exactly `count` synthetic records, made by the platform's harness. */
export interface SyntheticSource {
  /** The session's `synthetic` options that record this source. */
  options: NonNullable<SessionOptionsInput['synthetic']>;
  /** Called once the session is open: makes the records happen (Linux) or nothing (the driver's timer runs). */
  start(): Promise<void>;
  dispose(): Promise<void>;
}

export interface SyntheticEnv {
  /** @kmon/rx's createKmon. */
  createKmon: CreateKmon;
  /** The binding under test: @kmon/native's nativeBinding. */
  binding: KernelBinding;
  /** Session options the platform adds (e.g. windows.mechanism). */
  options?: SessionOptionsInput;
  source(count: number, payloadBytes: number): Promise<SyntheticSource>;
  /**
   * False when the driver's timestamps do not follow the clock the session's
   * clock() samples (Wine: see native/windows/wine-checks.mjs); the wall-clock
   * check is then skipped.
   */
  exactClock?: boolean;
  /** Throws unless nothing of a closed session is left in the kernel; returns what it checked. */
  assertDetached(): Promise<string>;
}

export interface SyntheticCheck {
  name: string;
  /** Resolves with a one-line summary of what was seen; throws (AssertionError) on failure. */
  run(env: SyntheticEnv): Promise<string>;
}

const RECORDS = 2000;
const WAIT_MS = 20_000;

/** Counts what the binding does, so checks can see opens and closes under rx. */
class CountingBinding implements KernelBinding {
  readonly name: string;
  readonly capabilities: KernelBinding['capabilities'];
  opens = 0;
  closes = 0;
  batches = 0;
  lastCloseMs = 0;
  /** The last session's clock, read when it opened. */
  clock: SessionClock | undefined;

  constructor(private readonly inner: KernelBinding) {
    this.name = inner.name;
    this.capabilities = inner.capabilities;
  }

  open: KernelBinding['open'] = (options, sink) => {
    this.opens += 1;
    const session: KernelSession = this.inner.open(options, {
      onBatch: (batch) => {
        this.batches += 1;
        sink.onBatch(batch);
      },
      onError: (error) => sink.onError(error),
    });
    this.clock = session.clock();
    let closed = false;
    return {
      clock: () => session.clock(),
      read: () => session.read(),
      stats: () => session.stats(),
      setFilters: (filters) => session.setFilters(filters),
      pause: () => session.pause(),
      resume: () => session.resume(),
      detach: () => session.detach(),
      close: () => {
        if (!closed) this.closes += 1;
        closed = true;
        const started = Date.now();
        session.close();
        this.lastCloseMs = Date.now() - started;
      },
    };
  };
}

function withTimeout<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Subscribes and collects messages until `count` synth events arrived (or a check fails). */
function collect(kmon: KmonLike, count: number, onSubscribed?: () => void) {
  const messages: KmonMessage[] = [];
  let subscription: Subscription | undefined;
  let statsWhileOpen: KernelStats | undefined;
  const done = new Promise<void>((resolve, reject) => {
    let synths = 0;
    subscription = kmon.events$.subscribe({
      next: (message) => {
        messages.push(message);
        if (message.kind === 'synth' && ++synths === count) {
          statsWhileOpen = kmon.stats();
          resolve();
        }
      },
      error: reject,
      complete: () => reject(new Error(`the stream completed after ${synths} of ${count} records`)),
    });
  });
  onSubscribed?.();
  return {
    messages,
    done: withTimeout(done, `${count} synthetic records`),
    stats: () => statsWhileOpen,
    unsubscribe: () => subscription?.unsubscribe(),
  };
}

const synthsOf = (messages: KmonMessage[]) => messages.filter((m): m is SynthEvent => m.kind === 'synth');

/** Sequence numbers count per CPU, on every binding: a gap is a record dropped (and counted) there. */
function assertNoSeqGaps(events: SynthEvent[]): string {
  const next = new Map<number, number>();
  for (const [i, e] of events.entries()) {
    const expected = next.get(e.cpu);
    if (expected !== undefined) {
      assert.ok(e.seq >= expected, `record #${i} (seq ${e.seq}) arrived after seq ${expected - 1}: out of order`);
      assert.equal(e.seq, expected, `gap in seq before record #${i}: ${expected}..${e.seq - 1} missing`);
    }
    next.set(e.cpu, e.seq + 1);
  }
  return `${next.size} CPU(s)`;
}

async function decodedInOrder(env: SyntheticEnv, payloadBytes: number): Promise<string> {
  const source = await env.source(RECORDS, payloadBytes);
  const binding = new CountingBinding(env.binding);
  const opened = Date.now();
  const kmon = env.createKmon({ ...env.options, kinds: ['synth'], synthetic: source.options }, { binding, graceMs: 0 });
  try {
    const run = collect(kmon, RECORDS);
    await source.start();
    await run.done;
    const received = Date.now();
    run.unsubscribe();
    const lost = run.messages.filter((m) => m.kind === 'lost');
    assert.deepEqual(lost, [], 'no loss notices (ring-full, binding-queue or malformed)');
    const events = synthsOf(run.messages);
    assert.equal(events.length, RECORDS, 'every message is a synthetic record');
    for (const e of events) {
      assert.equal(typeof e.value, 'bigint');
      assert.equal(typeof e.payload, 'string');
      assert.equal(e.truncated.payload, false, 'payload not cut');
      if (payloadBytes === 0) assert.equal(e.payload, '');
      else assert.ok(e.payload.length > 0, 'payload decoded');
    }
    const values = events.map((e) => Number(e.value)).sort((a, b) => a - b);
    assert.deepEqual(values, Array.from({ length: RECORDS }, (_, i) => i), 'values 0..N-1, each once');
    const stats = run.stats();
    assert.ok(stats, 'stats read while attached');
    assert.equal(stats.dropped, 0, 'driver dropped nothing');
    assert.equal(stats.bindingDropped, 0, 'binding dropped nothing');
    const domains = assertNoSeqGaps(events);
    // The session clock turns kernel times into wall-clock times: every record was made between open and receipt.
    const offset = binding.clock!.realtimeOffsetNs;
    for (const e of env.exactClock === false ? [] : [events[0]!, events.at(-1)!]) {
      const wallMs = Number((e.time + offset) / 1_000_000n);
      assert.ok(wallMs >= opened - 5 && wallMs <= received + 5, `record seq ${e.seq} at ${wallMs}, outside ${opened}..${received} (ms)`);
    }
    assert.equal(binding.opens, 1);
    return `${events.length} records, payload ${payloadBytes} B, in ${binding.batches} batches, seq ${events[0]!.seq}..${events.at(-1)!.seq} (${domains}), values 0..${RECORDS - 1}`;
  } finally {
    kmon.stop();
    await source.dispose();
  }
}

export const syntheticChecks: SyntheticCheck[] = [
  {
    name: 'synthetic records arrive decoded and validated, in order, with no sequence gaps',
    run: (env) => decodedInOrder(env, 0),
  },
  {
    name: 'records with a payload decode the same way',
    run: (env) => decodedInOrder(env, 100),
  },
  {
    name: 'two subscribers share one kernel session and see the same records',
    async run(env) {
      const source = await env.source(RECORDS, 0);
      const binding = new CountingBinding(env.binding);
      const kmon = env.createKmon({ ...env.options, kinds: ['synth'], synthetic: source.options }, { binding, graceMs: 0 });
      try {
        const first = collect(kmon, RECORDS);
        const second = collect(kmon, RECORDS);
        await source.start();
        await Promise.all([first.done, second.done]);
        first.unsubscribe();
        second.unsubscribe();
        assert.equal(binding.opens, 1, 'one session for both subscribers');
        const key = (m: KmonMessage) => (m.kind === 'synth' ? `${m.cpu}/${m.seq}/${m.value}` : m.kind);
        assert.deepEqual(second.messages.map(key), first.messages.map(key), 'same records in the same order');
        return `${RECORDS} records seen by both subscribers through 1 open`;
      } finally {
        kmon.stop();
        await source.dispose();
      }
    },
  },
  {
    name: 'unsubscribing closes the session promptly and leaves nothing in the kernel',
    async run(env) {
      const source = await env.source(RECORDS, 0);
      const binding = new CountingBinding(env.binding);
      const kmon = env.createKmon({ ...env.options, kinds: ['synth'], synthetic: source.options }, { binding, graceMs: 0 });
      try {
        const run = collect(kmon, 10);
        await source.start();
        await run.done;
        run.unsubscribe();
        await new Promise((resolve) => setTimeout(resolve, 50)); // the 0 ms grace period runs on a timer
        assert.equal(binding.closes, 1, 'the last unsubscribe closed the session');
        assert.ok(binding.lastCloseMs < 2000, `close() took ${binding.lastCloseMs} ms: in-flight requests were not cancelled`);
        const detached = await env.assertDetached();
        return `closed in ${binding.lastCloseMs} ms after ${synthsOf(run.messages).length} records; ${detached}`;
      } finally {
        kmon.stop();
        await source.dispose();
      }
    },
  },
  {
    name: 'stop() completes every subscriber and detaches',
    async run(env) {
      const source = await env.source(RECORDS, 0);
      const binding = new CountingBinding(env.binding);
      const kmon = env.createKmon({ ...env.options, kinds: ['synth'], synthetic: source.options }, { binding, graceMs: 0 });
      try {
        let completed = false;
        const seen: KmonMessage[] = [];
        const finished = new Promise<void>((resolve, reject) => {
          kmon.events$.subscribe({ next: (m) => seen.push(m), error: reject, complete: () => ((completed = true), resolve()) });
        });
        await source.start();
        await withTimeout(
          (async () => {
            while (synthsOf(seen).length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
          })(),
          'the first record',
        );
        kmon.stop();
        await withTimeout(finished, 'completion');
        assert.ok(completed);
        assert.equal(binding.closes, 1, 'stop() closed the session');
        const detached = await env.assertDetached();
        return `completed after ${synthsOf(seen).length} records; ${detached}`;
      } finally {
        await source.dispose();
      }
    },
  },
];
