import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { kmonEventSchema, processKey, type EventOfKind, type KmonEvent } from './events.js';

describe('event schemas', () => {
  it('compile to the fast path (z.compile refuses nothing in them)', () => {
    expect(() => z.compile(kmonEventSchema, { strict: true })).not.toThrow();
  });

  it('narrow the union by kind', () => {
    expectTypeOf<EventOfKind<'exit'>>().toHaveProperty('exitCode');
    expectTypeOf<Extract<KmonEvent, { kind: 'exec' }>['argv']>().toEqualTypeOf<string[]>();
  });

  it('identify a process by pid and start time', () => {
    expect(processKey(42, 2n ** 60n)).toBe(`42@${2n ** 60n}`);
    expect(processKey(42, 1n)).not.toBe(processKey(42, 2n));
  });
});
