// The record header every kind shares, and defineKind: one call per event
// kind, from which its layout, schema and type follow.
import { z } from 'zod';
import {
  hidden,
  layOut,
  u32,
  u64,
  u64AsNumber,
  u64Repeating,
  type Fields,
  type FieldValues,
  type Flags,
  type FlagValues,
  type StructLayout,
  type Truncation,
  type VarField,
} from './define.js';

/** Records are padded to a multiple of this many bytes. */
export const RECORD_ALIGN = 8;

/** struct kmon_header: framing (hidden) and the fields every event carries. */
export const headerFields = {
  _abiVersion: hidden('abi_version', 'u16'),
  _kind: hidden('kind', 'u16'),
  _size: hidden('size', 'u32'),
  _flags: hidden('flags', 'u32'),
  /** CPU the driver recorded the event on. */
  cpu: u32('cpu'),
  /** Per-CPU sequence number: a gap on one CPU means records were dropped there. */
  seq: u64AsNumber('seq'),
  /** Kernel monotonic clock (CLOCK_MONOTONIC; Windows: interrupt time) in ns, exact. */
  time: u64('ts_ns'),
  /** Process (thread group) id of the task that caused the event. */
  pid: u32('tgid'),
  /** Thread id of that task. */
  tid: u32('tid'),
  /** cgroup v2 id of that task (0 on Windows). */
  cgroupId: u64Repeating('cgroup_id'),
} satisfies Fields;

export const headerLayout: StructLayout = layOut('kmon_header', 0, RECORD_ALIGN, headerFields);

/** The properties every event has, from the header. */
export type HeaderValues = FieldValues<typeof headerFields>;

export interface KindSpec<N extends string, F extends Fields, G extends Flags> {
  /** What users type in `--kinds` and `ofKind`. */
  readonly name: N;
  /** Its `enum kmon_kind` value in kmon_abi.h. */
  readonly number: number;
  /** Its C struct in kmon_abi.h (the header member `hdr` comes first). */
  readonly struct: string;
  /** One line for people: what happened. */
  readonly doc: string;
  /** The struct's members after `hdr`, in C order, keyed by event property (`_name` for hidden ones). */
  readonly fields: F;
  /** Header flag bits this kind gives a meaning, as boolean properties. */
  readonly flags?: G;
}

export interface KindDefinition<N extends string = string, F extends Fields = Fields, G extends Flags = Flags>
  extends Required<KindSpec<N, F, G>> {
  readonly layout: StructLayout;
  /** Variable-length fields in order: field i's truncation flag is bit i of the header flags. */
  readonly vars: ReadonlyArray<{ readonly key: string; readonly field: VarField; readonly lengthOffset: number }>;
  /** Validates a decoded event of this kind. */
  readonly schema: z.ZodType<EventOf<KindDefinition<N, F, G>>>;
}

/** The typed event a kind definition describes. */
export type EventOf<D extends { name: string; fields: Fields; flags: Flags }> = { kind: D['name'] } & HeaderValues &
  FieldValues<D['fields']> &
  FlagValues<D['flags']> &
  Truncation<D['fields']>;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Defines an event kind. Throws at load time on a table that cannot be right. */
export function defineKind<const N extends string, const F extends Fields, const G extends Flags = {}>(
  spec: KindSpec<N, F, G>,
): KindDefinition<N, F, G> {
  const flags = (spec.flags ?? {}) as G;
  for (const key of [...Object.keys(spec.fields), ...Object.keys(flags)]) {
    if (!IDENTIFIER.test(key)) throw new Error(`kind ${spec.name}: '${key}' is not an identifier`);
  }
  const layout = layOut(spec.struct, headerLayout.size, RECORD_ALIGN, spec.fields);
  const vars = layout.members
    .filter((m) => m.field.role === 'var')
    .map((m) => ({ key: m.key, field: m.field as VarField, lengthOffset: m.offset }));
  return { ...spec, flags, layout, vars, schema: eventSchema(spec.name, spec.fields, flags, vars) as never };
}

const shapeOf = (fields: Fields) =>
  Object.fromEntries(
    Object.entries(fields).flatMap(([key, field]) => (field.role === 'hidden' ? [] : [[key, field.schema]])),
  ) as z.ZodRawShape;

function eventSchema(name: string, fields: Fields, flags: Flags, vars: ReadonlyArray<{ key: string }>) {
  const shape: Record<string, z.ZodType> = {
    kind: z.literal(name),
    ...shapeOf(headerFields),
    ...shapeOf(fields),
    ...Object.fromEntries(Object.keys(flags).map((key) => [key, z.boolean()])),
  };
  if (vars.length > 0) shape.truncated = z.object(Object.fromEntries(vars.map((v) => [v.key, z.boolean()])));
  return z.object(shape);
}
