import { describe, expect, it } from 'vitest';
import { createKmon, type ContextMessage } from 'kmon';
import { createMockBinding, encodeRecord } from 'kmon/testing';
import { colours } from './colour.js';
import { toJson, toText } from './format.js';

describe('format', () => {
  it('renders 64-bit values exactly in JSON', () => {
    const json = toJson({ kind: 'lost', cause: 'malformed', count: 1, byKind: {}, error: new Error('bad') });
    expect(JSON.parse(json)).toEqual({ kind: 'lost', cause: 'malformed', count: 1, byKind: {}, error: { name: 'Error', message: 'bad' } });
    expect(toJson({ time: 2n ** 63n + 1n } as never)).toBe(`{"time":"${2n ** 63n + 1n}"}`);
  });

  it('an event carries its wall time: ISO 8601 in JSON, local time with offset (or UTC) in text, from the session clock', () => {
    const binding = createMockBinding({ clock: { bootId: 'b', realtimeOffsetNs: 1_700_000_000_000_000_000n } });
    const seen: ContextMessage[] = [];
    const kmon = createKmon({}, { binding, graceMs: 0 });
    kmon.events$.subscribe((m) => seen.push(m));
    binding.current!.deliver(encodeRecord({ kind: 'exit', header: { tgid: 7, ts_ns: 123_456_789n }, body: { comm: 'sh' } }));
    kmon.stop();
    const json = JSON.parse(toJson(seen[0]!));
    expect(json).toMatchObject({ wallTime: '2023-11-14T22:13:20.123Z', wallTimeNs: '1700000000123456789' });
    const saved = process.env.TZ;
    process.env.TZ = 'Asia/Kolkata';
    try {
      expect(toText(seen[0]!, false, colours(false))).toMatch(/^03:43:20\.123\+05:30 +exit +7 /);
      expect(toText(seen[0]!, true, colours(false))).toMatch(/^22:13:20\.123Z +exit +7 /);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it("a fleet's event and loss notice say which host recorded them; a local event says nothing of a host", async () => {
    const binding = createMockBinding();
    const seen: ContextMessage[] = [];
    const kmon = createKmon({}, { binding, graceMs: 0 });
    kmon.events$.subscribe((m) => seen.push(m));
    const exit = encodeRecord({ kind: 'exit', header: { tgid: 7 }, body: { comm: 'sh' } });
    binding.current!.deliver(exit);
    binding.current!.deliver(exit, { host: 'web-1\u001b[2J', clock: { bootId: 'other', realtimeOffsetNs: 0n } });
    kmon.stop();
    const [local, fleet] = seen.map((m) => toText(m, true, colours(false)));
    expect(local).not.toMatch(/@/);
    expect(fleet).toMatch(/ sh +@web-1\\e\[2J code=0 /); // a host name is untrusted text: escapes shown, not obeyed
    const lost = toText({ kind: 'lost', cause: 'export', count: 3, byKind: {}, host: 'web-2' }, true, colours(false));
    expect(lost).toMatch(/ @web-2 3 record\(s\) lost \(export\)$/);
  });
});
