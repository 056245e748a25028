// Batches with an origin (a fleet binding's hosts): each host's events get
// that host's clock, process table and name; the session's own are unchanged.
import { processKey, type BatchOrigin, type ContextEvent, type ContextMessage } from '@kmon/core';
import { concatBatch, createMockBinding, encodeRecord } from '@kmon/core/testing';
import { describe, expect, it } from 'vitest';
import { createKmon } from './kmon.js';

const OWN = { bootId: 'own-boot', realtimeOffsetNs: 1_000_000_000_000_000_000n };
const WEB: BatchOrigin = { host: 'web', clock: { bootId: 'web-boot', realtimeOffsetNs: 1_700_000_000_000_000_000n } };
const DB: BatchOrigin = { host: 'db', clock: { bootId: 'db-boot', realtimeOffsetNs: 1_800_000_000_000_000_000n } };

/** pid 100 (started at 5000) execs `name` after its parent pid 1 (started at 10) was seen, then exits. */
const story = (name: string) =>
  concatBatch([
    encodeRecord({ kind: 'process', header: { tgid: 1, seq: 0, cpu: 0xffffffff }, body: { start_ns: 10n, comm: `init-${name}` } }),
    encodeRecord({ kind: 'exec', header: { tgid: 100, seq: 7, ts_ns: 5_100n }, body: { start_ns: 5_000n, parent_start_ns: 10n, ppid: 1, comm: name }, vars: [`/bin/${name}`, `${name}\0`, `/usr/bin/${name}`, '/'] }),
    encodeRecord({ kind: 'exit', header: { tgid: 100, seq: 9, ts_ns: 6_000n }, body: { start_ns: 5_000n, comm: name } }),
  ]);

/** A mock session fed as a fleet binding feeds one: batches with their origins. */
function fleet() {
  const binding = createMockBinding({ clock: OWN });
  const kmon = createKmon({ kinds: ['exec', 'exit'] }, { binding, graceMs: 0, host: { userName: () => 'local-user' } });
  const seen: ContextMessage[] = [];
  kmon.events$.subscribe((m) => seen.push(m));
  return { kmon, seen, deliver: (batch: Uint8Array, origin?: BatchOrigin) => binding.current!.deliver(batch, origin) };
}

const exitsOf = (seen: ContextMessage[]) => seen.filter((m): m is ContextEvent => m.kind === 'exit');

describe('batches from fleet hosts', () => {
  it("each host's events carry its host, boot's process key and wall time; local ones the session's", () => {
    const { seen, deliver } = fleet();
    deliver(story('nginx'), WEB);
    deliver(story('postgres'), DB);
    deliver(story('sh'));
    const [web, db, own] = exitsOf(seen);
    expect([web!.host, db!.host, own!.host]).toEqual(['web', 'db', undefined]);
    expect([web!.process.key, db!.process.key, own!.process.key]).toEqual([
      processKey('web-boot', 100, 5_000n),
      processKey('db-boot', 100, 5_000n),
      processKey('own-boot', 100, 5_000n),
    ]);
    expect([web!.wallTimeNs, db!.wallTimeNs, own!.wallTimeNs]).toEqual([1_700_000_000_000_006_000n, 1_800_000_000_000_006_000n, 1_000_000_000_000_006_000n]);
    expect(web!.process.parentKey).toBe(processKey('web-boot', 1, 10n));
    // Names of this machine's users are not the host's.
    expect([web!.process.user, own!.process.user]).toEqual([undefined, 'local-user']);
  });

  it('the same pid on two hosts stays two processes, each in its host table with its own ancestry', () => {
    const { kmon, seen, deliver } = fleet();
    deliver(story('nginx'), WEB);
    deliver(story('postgres'), DB);
    const [web, db] = exitsOf(seen);
    expect([web!.process.argv, db!.process.argv]).toEqual([['nginx'], ['postgres']]);
    expect(kmon.ancestry(web!).map((p) => p.comm)).toEqual(['init-nginx']);
    expect(kmon.ancestry(db!).map((p) => p.comm)).toEqual(['init-postgres']);
    expect(kmon.processes('web')?.lookup(100, 5_000n)?.comm).toBe('nginx');
    expect(kmon.processes('db')?.bootId).toBe('db-boot');
    expect(kmon.processes()?.lookup(100, 5_000n)).toBeUndefined();
  });

  it("a host's new boot gets a new table; a new session of the same boot keeps it, with its new wall-clock offset", () => {
    const { kmon, seen, deliver } = fleet();
    deliver(story('nginx'), WEB);
    const restarted = { host: 'web', clock: { ...WEB.clock, realtimeOffsetNs: WEB.clock.realtimeOffsetNs + 5n } };
    deliver(encodeRecord({ kind: 'exit', header: { tgid: 1, ts_ns: 7_000n }, body: { start_ns: 10n, comm: 'init' } }), restarted);
    expect(seen.at(-1)).toMatchObject({ wallTimeNs: 1_700_000_000_000_007_005n, process: { key: processKey('web-boot', 1, 10n) } });
    expect(kmon.processes('web')?.lookup(100, 5_000n)?.comm, 'the same table').toBe('nginx');
    deliver(story('redis'), { host: 'web', clock: { bootId: 'web-boot-2', realtimeOffsetNs: 0n } });
    expect(kmon.processes('web')?.bootId).toBe('web-boot-2');
    expect(exitsOf(seen).at(-1)!.process.key).toBe(processKey('web-boot-2', 100, 5_000n));
  });
});
