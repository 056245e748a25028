// The record ABI as the decoder sees it. Mirrors packages/driver/include/kmon_abi.h;
// abi.test.ts compiles a dump of that header and fails on any difference, so
// the offsets below are checked, not trusted.

export type FieldType = 'u8' | 'u16' | 'u32' | 's32' | 'u64' | 'comm';

export interface FieldLayout {
  readonly offset: number;
  readonly type: FieldType;
}

export interface StructLayout {
  /** Name of the C struct in kmon_abi.h. */
  readonly cName: string;
  readonly size: number;
  readonly fields: Readonly<Record<string, FieldLayout>>;
}

export interface RecordLayout extends StructLayout {
  /** Length fields of the variable-length data that follows the body, in order. */
  readonly varFields: readonly string[];
}

const f = (offset: number, type: FieldType): FieldLayout => ({ offset, type });

const COMM_LEN = 16;
const EXEC_SIZE = 104;
const PATH_MAX = 4096;
const ARGV_MAX = 32768;
const ALIGN = 8;
const alignUp = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

export const EVENT_KINDS = ['exec', 'exit', 'fork', 'synth', 'image-load', 'registry-set'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

const header = {
  cName: 'kmon_header',
  size: 48,
  fields: {
    abi_version: f(0, 'u16'),
    kind: f(2, 'u16'),
    size: f(4, 'u32'),
    flags: f(8, 'u32'),
    cpu: f(12, 'u32'),
    seq: f(16, 'u64'),
    ts_ns: f(24, 'u64'),
    tgid: f(32, 'u32'),
    tid: f(36, 'u32'),
    cgroup_id: f(40, 'u64'),
  },
} satisfies StructLayout;

const records: Readonly<Record<EventKind, RecordLayout>> = {
  exec: {
    cName: 'kmon_exec',
    size: EXEC_SIZE,
    fields: {
      start_ns: f(48, 'u64'),
      parent_start_ns: f(56, 'u64'),
      ppid: f(64, 'u32'),
      uid: f(68, 'u32'),
      gid: f(72, 'u32'),
      argc: f(76, 'u32'),
      comm: f(80, 'comm'),
      path_len: f(96, 'u16'),
      argv_len: f(98, 'u16'),
    },
    varFields: ['path_len', 'argv_len'],
  },
  exit: {
    cName: 'kmon_exit',
    size: 80,
    fields: {
      start_ns: f(48, 'u64'),
      exit_code: f(56, 's32'),
      signal: f(60, 'u32'),
      comm: f(64, 'comm'),
    },
    varFields: [],
  },
  fork: {
    cName: 'kmon_fork',
    size: 88,
    fields: {
      parent_start_ns: f(48, 'u64'),
      child_start_ns: f(56, 'u64'),
      child_tgid: f(64, 'u32'),
      child_tid: f(68, 'u32'),
      comm: f(72, 'comm'),
    },
    varFields: [],
  },
  synth: {
    cName: 'kmon_synth',
    size: 64,
    fields: {
      value: f(48, 'u64'),
      payload_len: f(56, 'u16'),
    },
    varFields: ['payload_len'],
  },
  'image-load': {
    cName: 'kmon_image_load',
    size: 72,
    fields: {
      image_base: f(48, 'u64'),
      image_size: f(56, 'u64'),
      path_len: f(64, 'u16'),
    },
    varFields: ['path_len'],
  },
  'registry-set': {
    cName: 'kmon_registry_set',
    size: 64,
    fields: {
      value_type: f(48, 'u32'),
      data_size: f(52, 'u32'),
      key_len: f(56, 'u16'),
      value_name_len: f(58, 'u16'),
    },
    varFields: ['key_len', 'value_name_len'],
  },
};

export const ABI = {
  version: 1,
  align: ALIGN,
  commLen: COMM_LEN,
  kinds: {
    exec: 1,
    exit: 2,
    fork: 3,
    synth: 4,
    'image-load': 5,
    'registry-set': 6,
  } satisfies Record<EventKind, number>,
  kindCount: 21,
  flags: {
    truncatedMask: 0xff,
    thread: 1 << 8,
    coreDumped: 1 << 9,
  },
  limits: {
    pathMax: PATH_MAX,
    argvMax: ARGV_MAX,
    argvDefault: 4096,
    payloadMax: 4096,
    keyMax: 1024,
    recordMax: alignUp(EXEC_SIZE + PATH_MAX + ARGV_MAX),
  },
  header,
  records,
  cpuStats: { cName: 'kmon_cpu_stats', size: 8 * (2 + 21) },
} as const;

const kindByNumber = new Map<number, EventKind>(EVENT_KINDS.map((kind) => [ABI.kinds[kind], kind]));

/** The event kind a header's kind number names, or undefined for an unknown number. */
export function kindOfNumber(n: number): EventKind | undefined {
  return kindByNumber.get(n);
}
