// The record ABI as the decoder sees it, derived from the kind definitions
// (./kinds). abi.test.ts compiles packages/driver/include/kmon_abi.h to BTF and
// checks every member, constant and kind number below against it.
import type { CType, StructLayout } from './kinds/define.js';
import { COMM_LEN } from './kinds/define.js';
import { KIND_DEFINITIONS, type AnyKindDefinition } from './kinds/index.js';
import { RECORD_ALIGN, headerLayout } from './kinds/kind.js';

export type { CType as FieldType } from './kinds/define.js';

export interface FieldLayout {
  readonly offset: number;
  readonly type: CType;
  readonly size: number;
}

/** A C struct as offsets by C member name. */
export interface CStructLayout {
  /** Name of the C struct in kmon_abi.h. */
  readonly cName: string;
  readonly size: number;
  readonly fields: Readonly<Record<string, FieldLayout>>;
}

export interface RecordLayout extends CStructLayout {
  /** Length members of the variable-length data that follows the body, in order. */
  readonly varFields: readonly string[];
}

type FlagKeys = AnyKindDefinition extends infer D ? (D extends { flags: infer G } ? keyof G & string : never) : never;

/** Every event kind's name, in kind-number order. */
export type EventKind = AnyKindDefinition['name'];
export const EVENT_KINDS = KIND_DEFINITIONS.map((d) => d.name) as unknown as readonly [EventKind, ...EventKind[]];

const byCName = (layout: StructLayout): CStructLayout => ({
  cName: layout.struct,
  size: layout.size,
  fields: Object.fromEntries(
    layout.members.map((m) => [m.field.cName, { offset: m.offset, type: m.field.cType, size: m.field.size }]),
  ),
});

const recordLayout = (d: AnyKindDefinition): RecordLayout => ({
  ...byCName(d.layout),
  varFields: d.vars.map((v) => v.field.cName),
});

type HeaderMember = 'abi_version' | 'kind' | 'size' | 'flags' | 'cpu' | 'seq' | 'ts_ns' | 'tgid' | 'tid' | 'cgroup_id';

const PATH_MAX = 4096;
const ARGV_MAX = 32768;
const alignUp = (n: number) => Math.ceil(n / RECORD_ALIGN) * RECORD_ALIGN;
const kindCount = Math.max(...KIND_DEFINITIONS.map((d) => d.number)) + 1;
const allFlags = KIND_DEFINITIONS.flatMap((d) => Object.entries(d.flags as Record<string, { bit: number }>));

export const ABI = {
  version: 2,
  align: RECORD_ALIGN,
  commLen: COMM_LEN,
  kinds: Object.fromEntries(KIND_DEFINITIONS.map((d) => [d.name, d.number])) as Record<EventKind, number>,
  /** Bound of the per-kind counter arrays (kind 0 is never used). */
  kindCount,
  flags: {
    /** Bit N: variable field N of the body was cut at its cap. */
    truncatedMask: 0xff,
    ...(Object.fromEntries(allFlags.map(([key, f]) => [key, 1 << f.bit])) as Record<FlagKeys, number>),
  } as { truncatedMask: number } & Record<FlagKeys, number>,
  limits: {
    pathMax: PATH_MAX,
    argvMax: ARGV_MAX,
    argvDefault: 4096,
    payloadMax: 4096,
    keyMax: 1024,
    /** The largest record any driver writes: an exec with a full path and argv. */
    recordMax: alignUp(recordOf('exec').size + 3 * PATH_MAX + ARGV_MAX), // exec: path, argv, exe, cwd
  },
  header: byCName(headerLayout) as CStructLayout & { fields: Record<HeaderMember, FieldLayout> },
  records: Object.fromEntries(KIND_DEFINITIONS.map((d) => [d.name, recordLayout(d)])) as Record<EventKind, RecordLayout>,
  /** struct kmon_cpu_stats: attempted, dropped[kindCount], truncated. */
  cpuStats: { cName: 'kmon_cpu_stats', size: 8 * (2 + kindCount) },
} as const;

function recordOf(name: EventKind): StructLayout {
  return KIND_DEFINITIONS.find((d) => d.name === name)!.layout;
}

const definitionByNumber = new Map<number, AnyKindDefinition>(KIND_DEFINITIONS.map((d) => [d.number, d]));

/** The kind definition a header's kind number names, or undefined for an unknown number. */
export function definitionOfNumber(n: number): AnyKindDefinition | undefined {
  return definitionByNumber.get(n);
}

/** The event kind a header's kind number names, or undefined for an unknown number. */
export function kindOfNumber(n: number): EventKind | undefined {
  return definitionByNumber.get(n)?.name;
}
