// The vocabulary every event kind is defined with. A kind is written once, as
// a table of its C struct's members in C order (keyed by the event property
// each becomes); the decoder's layout, the zod schema, the event type, the
// kind list, the counter sizes and the field reference are all derived from
// that table, and abi.test.ts checks it member by member against the C
// header's BTF.
import { z } from 'zod';
import { decodeText } from '../text.js';

/** Fixed-width C member types of kmon_abi.h (kmon_u8 ... kmon_u64, char[16] comm). */
export type CType = 'u8' | 'u16' | 'u32' | 's32' | 'u64' | 's64' | 'comm' | 'struct';

/** What every member of a record struct knows about its C side. */
interface Member {
  /**
   * A cheap test the decoder may run instead of the schema on what its
   * reader produced: it must accept only values the schema accepts
   * (decoder.differential.test.ts checks it against the schema).
   */
  readonly valid?: (value: never) => boolean;
  /** Member name in the C struct. */
  readonly cName: string;
  readonly cType: CType;
  /** Bytes the member takes in the struct. */
  readonly size: number;
  /** Its natural alignment (the struct's layout follows C's rule). */
  readonly align: number;
}

/**
 * Reads a member's value from a record at a byte offset of the batch:
 * `view` and `buf` see the batch, `words` its 64-bit words (the batch starts
 * 8-byte aligned, and so does every u64 member of a record).
 */
export type MemberReader<T> = (view: DataView, buf: Buffer, offset: number, words: BigUint64Array) => T;

/** A fixed member that becomes an event property. */
export interface ValueField<T = unknown> extends Member {
  readonly role: 'value';
  readonly schema: z.ZodType<T>;
  readonly read: MemberReader<T>;
  /** `read` as JavaScript source over `view`, for an offset expression (C integers): the compiled decoder inlines it. */
  readonly source?: (at: string) => string;
  /**
   * A u64 the same on every event of a process (its start time, its cgroup):
   * the compiled decoder keeps the last value with its two 32-bit halves and
   * gives it again for the same bytes, sparing a bigint per event.
   */
  readonly repeats?: true;
}

/** A u16 length member whose bytes follow the body (a variable-length field). */
export interface VarField<T = unknown> extends Member {
  readonly role: 'var';
  readonly schema: z.ZodType<T>;
  /** Decodes the field's bytes `buf[start, end)`; `flags` are the record header's (some decodings depend on a flag). */
  readonly decode: (buf: Buffer, start: number, end: number, flags: number) => T;
  /** Each element ends with NUL, the last one too unless the field was cut (flagged). */
  readonly nulTerminated?: boolean;
}

/** A member that is not on the event: reserved padding, or header framing. */
export interface HiddenField extends Member {
  readonly role: 'hidden';
}

export type Field = ValueField | VarField | HiddenField;
export type Fields = Readonly<Record<string, Field>>;

/** A header flag bit (KMON_F_*) that becomes a boolean property. */
export interface FlagBit {
  /** The C enum member or macro naming the mask, e.g. KMON_F_THREAD. */
  readonly cName: string;
  readonly bit: number;
}
export type Flags = Readonly<Record<string, FlagBit>>;

// ---- schemas of the C integer types -------------------------------------------------

const U64_MAX = 0xffff_ffff_ffff_ffffn;
export const schemas = {
  u8: z.number().int().min(0).max(0xff),
  u16: z.number().int().min(0).max(0xffff),
  u32: z.number().int().min(0).max(0xffff_ffff),
  s32: z.number().int().min(-0x8000_0000).max(0x7fff_ffff),
  u64: z.bigint().min(0n).max(U64_MAX),
  s64: z.bigint().min(-(2n ** 63n)).max(2n ** 63n - 1n),
};

/**
 * A C integer member, its read given as JavaScript source over `view` (the
 * batch's DataView) and the member's offset expression: the compiled decoder
 * inlines it (a call per field measured costlier than the rest of the
 * field), and `read` is made from the same source.
 */
const scalar = <T>(cName: string, cType: CType, size: number, schema: z.ZodType<T>, source: (at: string) => string): ValueField<T> => ({
  role: 'value',
  cName,
  cType,
  size,
  align: size,
  schema,
  // Built from the constant sources below only, never from input.
  read: new Function('view', 'buf', 'at', 'words', `return ${source('at')};`) as MemberReader<T>,
  source,
});

// ---- fixed members ----------------------------------------------------------------------

export const u8 = (cName: string, schema: z.ZodType<number> = schemas.u8) => scalar(cName, 'u8', 1, schema, (at) => `view.getUint8(${at})`);
export const u16 = (cName: string, schema: z.ZodType<number> = schemas.u16) =>
  scalar(cName, 'u16', 2, schema, (at) => `view.getUint16(${at}, true)`);
export const u32 = (cName: string, schema: z.ZodType<number> = schemas.u32) =>
  scalar(cName, 'u32', 4, schema, (at) => `view.getUint32(${at}, true)`);
export const s32 = (cName: string, schema: z.ZodType<number> = schemas.s32) =>
  scalar(cName, 's32', 4, schema, (at) => `view.getInt32(${at}, true)`);
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/**
 * A u64 member as a bigint, read as one element of the batch's 64-bit words:
 * V8 does not inline DataView's getBigUint64, and the element read cost half
 * as much per event (three u64 per record). The words are the host's byte
 * order, so a big-endian host reads through the DataView.
 */
export const u64 = (cName: string, schema: z.ZodType<bigint> = schemas.u64) =>
  scalar(cName, 'u64', 8, schema, (at) => (LITTLE_ENDIAN_HOST ? `words[(${at}) >>> 3]` : `view.getBigUint64(${at}, true)`));
export const s64 = (cName: string, schema: z.ZodType<bigint> = schemas.s64) =>
  scalar(cName, 's64', 8, schema, (at) => `view.getBigInt64(${at}, true)`);
/** A u64 that repeats across a process's events (see ValueField.repeats). */
export const u64Repeating = (cName: string): ValueField<bigint> => ({ ...u64(cName), repeats: true });
/** A u64 counter that stays far below 2^53 within a session (sequence numbers): a plain number. */
export const u64AsNumber = (cName: string): ValueField<number> => ({
  // Two u32 halves: one rounding of the exact sum, as Number(bigint) rounds, without allocating a bigint.
  ...scalar(cName, 'u64', 8, z.number().int().min(0), (at) => `view.getUint32(${at} + 4, true) * 4294967296 + view.getUint32(${at}, true)`),
  // The reader yields integers >= 0: the schema refuses only those beyond 2^53.
  valid: Number.isSafeInteger,
});

/** Bytes of a task name (comm): TASK_COMM_LEN, NUL-padded. */
export const COMM_LEN = 16;
/** A NUL-padded char[COMM_LEN] process name (at most 15 bytes in the kernel). */
export const comm = (cName: string): ValueField<string> => {
  const name = lastOf16Bytes((_view, buf, at) => fixedString(buf, at, COMM_LEN));
  return {
    role: 'value',
    cName,
    cType: 'comm',
    size: COMM_LEN,
    align: 1,
    schema: z.string().max(64),
    read: (view, buf, at) => name(view, buf, at, 0),
  };
};

/**
 * A member of a kind of its own (a nested C struct such as a socket address):
 * `size`/`align` are the C struct's, `read` turns its bytes into the value.
 */
export const custom = <T>(
  cName: string,
  size: number,
  align: number,
  schema: z.ZodType<T>,
  read: MemberReader<T>,
  /** A cheap test accepting only what `schema` accepts of what `read` makes (see Member.valid): the decoder runs it instead. */
  valid?: (value: T) => boolean,
): ValueField<T> => ({
  role: 'value',
  cName,
  cType: 'struct',
  size,
  align,
  schema,
  read,
  ...(valid && { valid: valid as (value: never) => boolean }),
});

/** A member in the C struct that is not on the event: reserved padding or header framing. */
export const hidden = (cName: string, cType: 'u8' | 'u16' | 'u32' | 'u64'): HiddenField => {
  const size = { u8: 1, u16: 2, u32: 4, u64: 8 }[cType];
  return { role: 'hidden', cName, cType, size, align: size };
};
/** Reserved padding: must be zero today, may become a field in a later ABI. */
export const reserved = hidden;

// ---- variable-length fields -------------------------------------------------------------

const varField = <T>(cLen: string, schema: z.ZodType<T>, decode: VarField<T>['decode']): VarField<T> => ({
  role: 'var',
  cName: cLen,
  cType: 'u16',
  size: 2,
  align: 2,
  schema,
  decode,
});

/** UTF-8 text (undecodable bytes kept, see text.ts), e.g. a path. */
export const text = (cLen: string) => varField(cLen, z.string(), (buf, start, end) => decodeText(buf, start, end));

/** NUL-separated strings, each ended by NUL (the last may be cut), e.g. argv. */
export const strings = (cLen: string): VarField<string[]> => ({
  ...varField(cLen, z.array(z.string()), splitNulTerminated),
  nulTerminated: true,
});

/** Raw bytes (a copy, so the batch buffer can be reused). */
export const bytes = (cLen: string) =>
  varField(cLen, z.instanceof(Uint8Array), (buf, start, end) => new Uint8Array(buf.subarray(start, end)));

/** Variable-length bytes with a decoding of their own (e.g. a DNS query). */
export const varCustom = <T>(cLen: string, schema: z.ZodType<T>, decode: VarField<T>['decode']) => varField(cLen, schema, decode);

// ---- flags ------------------------------------------------------------------------------

/** A header flag bit: `cName` is the mask's name in kmon_abi.h, `bit` its bit number. */
export const flag = (cName: string, bit: number): FlagBit => ({ cName, bit });

// ---- decoding helpers shared by the constructors -----------------------------------------

/**
 * `read`, remembering the value it made last with the 16 bytes at `at` (as
 * four words) and a key beside them (an address family), and giving that
 * value again for the same bytes and key. Records come in runs of one
 * process, so the name or address one event decoded mostly serves the next:
 * decoding a comm, or making an address's text, was ~10% of a live open or
 * connect event; comparing four words costs a few ns. One per field.
 */
export function lastOf16Bytes<T>(read: (view: DataView, buf: Buffer, at: number, key: number) => T): typeof read {
  let lastKey = NaN; // no key equals it: the first call reads
  let w0 = 0;
  let w1 = 0;
  let w2 = 0;
  let w3 = 0;
  let last!: T;
  return (view, buf, at, key) => {
    const a = view.getUint32(at, true);
    const b = view.getUint32(at + 4, true);
    const c = view.getUint32(at + 8, true);
    const d = view.getUint32(at + 12, true);
    if (key !== lastKey || a !== w0 || b !== w1 || c !== w2 || d !== w3) {
      [lastKey, w0, w1, w2, w3] = [key, a, b, c, d];
      last = read(view, buf, at, key);
    }
    return last;
  };
}

/** The bytes before the first NUL of a char[max] (buf.indexOf costs more than scanning 16 bytes here). */
function fixedString(buf: Buffer, start: number, max: number): string {
  let end = start;
  while (end < start + max && buf[end] !== 0) end++;
  return decodeText(buf, start, end);
}

function splitNulTerminated(buf: Buffer, start: number, end: number): string[] {
  const parts: string[] = [];
  while (start < end) {
    let stop = buf.indexOf(0, start);
    if (stop < 0 || stop > end) stop = end;
    parts.push(decodeText(buf, start, stop));
    start = stop + 1;
  }
  return parts;
}

// ---- layout --------------------------------------------------------------------------------

/** Where a member sits, as computed from the table with C's natural-alignment rule. */
export interface MemberLayout {
  /** Event property (or `_name` for hidden members). */
  readonly key: string;
  readonly field: Field;
  readonly offset: number;
}

export interface StructLayout {
  /** C struct name in kmon_abi.h. */
  readonly struct: string;
  readonly size: number;
  readonly members: readonly MemberLayout[];
}

const alignUp = (n: number, to: number) => Math.ceil(n / to) * to;

/** Lays members out after `start` bytes the way a C compiler does, and rounds the size to `align`. */
export function layOut(struct: string, start: number, align: number, fields: Fields): StructLayout {
  let offset = start;
  let maxAlign = align;
  const members = Object.entries(fields).map(([key, field]) => {
    offset = alignUp(offset, field.align);
    maxAlign = Math.max(maxAlign, field.align);
    const member = { key, field, offset };
    offset += field.size;
    return member;
  });
  return { struct, size: alignUp(offset, maxAlign), members };
}

// ---- the event type each table defines ------------------------------------------------------

type ValueOf<F> = F extends ValueField<infer T> ? T : F extends VarField<infer T> ? T : never;

/** Event properties of a member table: every member but the hidden ones, with its doc comment. */
export type FieldValues<F extends Fields> = {
  -readonly [K in keyof F as F[K] extends HiddenField ? never : K]: ValueOf<F[K]>;
};

type VarKeys<F extends Fields> = { [K in keyof F]: F[K] extends VarField ? K : never }[keyof F];

/** `truncated.<field>`: the variable field was cut at its cap (only kinds that have variable fields). */
export type Truncation<F extends Fields> = [VarKeys<F>] extends [never]
  ? unknown
  : {
      /** Which variable-length fields the driver cut at their cap. */
      truncated: { [K in VarKeys<F>]: boolean };
    };

export type FlagValues<G extends Flags> = { -readonly [K in keyof G]: boolean };
