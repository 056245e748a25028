import { describe, expect, it } from 'vitest';
import { processIdentity, processKey } from './key.js';
import { BOOT, eventOf } from '../../test/process-events.js';

describe('processKey', () => {
  it('names a process by boot, pid and start time: a reused pid or another boot is another process', () => {
    expect(processKey(BOOT, 42, 2n ** 60n)).toBe(`${BOOT}:42:${2n ** 60n}`);
    expect(processKey(BOOT, 42, 1n)).not.toBe(processKey(BOOT, 42, 2n));
    expect(processKey(BOOT, 42, 1n)).not.toBe(processKey('another-boot', 42, 1n));
  });

  it("is the same for one process on every kind of event: exec, exit, file and network kinds, and fork's parent side", () => {
    const pid = 7;
    const startTime = 123_456_789n;
    const events = [
      eventOf('exec', { pid, startTime }),
      eventOf('exit', { pid, startTime }),
      eventOf('open', { pid, startTime }),
      eventOf('unlink', { pid, startTime }),
      eventOf('connect', { pid, startTime }),
      eventOf('close', { pid, startTime }),
      eventOf('fork', { pid, parentStartTime: startTime, childPid: 8, childStartTime: 999n }),
    ];
    const keys = events.map((e) => processIdentity(e)).map((id) => processKey(BOOT, id.pid, id.startTime!));
    expect(new Set(keys)).toEqual(new Set([processKey(BOOT, pid, startTime)]));
  });

  it('kinds without a start time (a failed exec) name their process by pid alone', () => {
    expect(processIdentity(eventOf('exec-failed', { pid: 9 }))).toEqual({ pid: 9, startTime: undefined });
  });
});
