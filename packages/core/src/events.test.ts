import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { EVENT_KINDS } from './abi.js';
import { decodeBatch } from './decoder.js';
import { kmonEventSchema, type EventOfKind, type ExecEvent, type ExitEvent, type ForkEvent, type KmonEvent } from './events.js';
import { KIND_DEFINITIONS } from './kinds/index.js';
import { encodeRecord } from './testing/encode.js';

describe('event types follow the kind definitions', () => {
  it('pin each property type a definition declares', () => {
    expectTypeOf<ExecEvent['startTime']>().toEqualTypeOf<bigint>();
    expectTypeOf<ExecEvent['argv']>().toEqualTypeOf<string[]>();
    expectTypeOf<ExecEvent['truncated']>().toEqualTypeOf<{ filename: boolean; argv: boolean; exe: boolean; cwd: boolean }>();
    expectTypeOf<ExitEvent['exitCode']>().toEqualTypeOf<number>();
    expectTypeOf<ExitEvent['coreDumped']>().toEqualTypeOf<boolean>();
    expectTypeOf<ForkEvent['thread']>().toEqualTypeOf<boolean>();
    expectTypeOf<ForkEvent['seq']>().toEqualTypeOf<number>();
    expectTypeOf<EventOfKind<'exit'>>().toEqualTypeOf<ExitEvent>();
    // Hidden members (reserved slots, header framing) are not on events, and kinds without variable fields have no `truncated`.
    expectTypeOf<ExecEvent>().not.toHaveProperty('_reserved');
    expectTypeOf<ExecEvent>().not.toHaveProperty('_size');
    expectTypeOf<ExitEvent>().not.toHaveProperty('truncated');
    expectTypeOf<KmonEvent['kind']>().toEqualTypeOf<(typeof EVENT_KINDS)[number]>();
  });

  it.each(KIND_DEFINITIONS.map((d) => [d.name, d] as const))('%s: the schema has exactly the properties the decoder produces', (_name, d) => {
    const [event] = decodeBatch(encodeRecord({ kind: d.name })).events;
    const shape = (d.schema as unknown as z.ZodObject).shape;
    expect(Object.keys(event!).sort()).toEqual(Object.keys(shape).sort());
    expect(kmonEventSchema.safeParse(event).success).toBe(true);
  });

  it('the union schema rejects an event of one kind dressed as another', () => {
    const [exit] = decodeBatch(encodeRecord({ kind: 'exit' })).events;
    expect(kmonEventSchema.safeParse({ ...exit, kind: 'fork' }).success).toBe(false);
  });
});
