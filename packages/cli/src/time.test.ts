import { afterEach, describe, expect, it } from 'vitest';
import { dateTime, timeOfDay } from './time.js';

const NS = 1_700_000_000_123_456_789n; // 2023-11-14T22:13:20.123456789Z
const savedTz = process.env.TZ;
afterEach(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

describe('wall-clock times for people', () => {
  it('local time with its UTC offset, honouring TZ (also a half-hour zone and one west of UTC)', () => {
    process.env.TZ = 'Asia/Kolkata';
    expect(timeOfDay(NS)).toBe('03:43:20.123+05:30');
    expect(dateTime(NS)).toBe('2023-11-15 03:43:20+05:30');
    process.env.TZ = 'America/New_York';
    expect(timeOfDay(NS)).toBe('17:13:20.123-05:00');
  });

  it('UTC with utc, whatever TZ says', () => {
    process.env.TZ = 'Asia/Kolkata';
    expect(timeOfDay(NS, true)).toBe('22:13:20.123Z');
    expect(dateTime(NS, true)).toBe('2023-11-14 22:13:20Z');
  });
});
