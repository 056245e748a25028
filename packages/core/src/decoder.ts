// Batch decoder: walks whole records back to back in one buffer, reading
// fields in place (no per-record copy) and decoding each string once.
import { z } from 'zod';
import { ABI, definitionOfNumber, type EventKind } from './abi.js';
import { KmonProtocolError } from './errors.js';
import type { KmonEvent } from './events.js';
import { schemas, type MemberLayout, type MemberReader, type ValueField, type VarField } from './kinds/define.js';
import { KIND_DEFINITIONS, type AnyKindDefinition } from './kinds/index.js';
import { headerLayout } from './kinds/kind.js';
import { EVENT_CONTEXT_KEYS } from './process/context.js';

const HEADER = ABI.header.fields;
const HEADER_SIZE = ABI.header.size;

export interface DecodedBatch {
  events: KmonEvent[];
  /** One error per record that could not be decoded, in batch order. */
  faults: KmonProtocolError[];
  /**
   * The last fault was in the framing itself (size, ABI version): the rest of
   * the batch could not be split into records, so it stands for at least one.
   * A record whose size is readable is skipped alone and decoding goes on.
   */
  stoppedEarly: boolean;
}

/**
 * Makes the event object of one record, for one kind, from the fields read
 * in place. Generated once per kind from its definition (like zod's compiled
 * parsers): one object literal in the schema's key order, so V8 allocates
 * every event of a kind at its final size with one hidden class, and the
 * event's keys come in the order zod's output had. A generic loop with
 * computed keys measured several times slower; an object spread made V8
 * build slow dictionary objects. `start<i>`/`end<i>` bound variable field i
 * in the batch. A repeating u64 (ValueField.repeats) reads its two halves
 * and gives its last value again for the same ones: `state` gets the
 * declarations of what it keeps, the function's `lo` and `hi` its halves.
 */
function eventLiteral(d: AnyKindDefinition, readers: MemberReader<unknown>[], state: string[], slots: readonly string[] = []): string {
  const value = (m: MemberLayout): string[] => {
    if (m.field.role === 'value') {
      const field = m.field as ValueField;
      const at = `at + ${m.offset}`;
      if (field.source && field.repeats) {
        const last = `last${state.length}`;
        state.push(`let ${last}Lo = -1, ${last}Hi = -1, ${last} = 0n;`);
        // `&`, not `&&`: both halves are read, as the new value keeps both.
        const same = `(lo = view.getUint32(${at}, true)) === ${last}Lo & (hi = view.getUint32(${at} + 4, true)) === ${last}Hi`;
        return [`${m.key}: ${same} ? ${last} : (${last}Lo = lo, ${last}Hi = hi, ${last} = ${field.source(at)}),`];
      }
      if (field.source) return [`${m.key}: ${field.source(at)},`];
      readers.push(field.read);
      return [`${m.key}: r[${readers.length - 1}](view, buf, ${at}, words),`];
    }
    const i = d.vars.findIndex((v) => v.key === m.key);
    return i < 0 ? [] : [`${m.key}: d[${i}](buf, start${i}, end${i}, flags),`];
  };
  const lines = [`kind: ${JSON.stringify(d.name)},`, ...headerLayout.members.flatMap(value), ...d.layout.members.flatMap(value)];
  for (const [key, bit] of Object.entries(d.flags as Record<string, { bit: number }>)) lines.push(`${key}: (flags & ${1 << bit.bit}) !== 0,`);
  if (d.vars.length > 0) lines.push(`truncated: { ${d.vars.map((v, i) => `${v.key}: (flags & ${1 << i}) !== 0`).join(', ')} },`);
  for (const key of slots) lines.push(`${key}: undefined,`);
  return `{\n${lines.join('\n')}\n}`;
}

/**
 * Builds a function from the static kind tables only (keys are checked
 * identifiers), never from input; `state` is declared around it, kept from
 * call to call.
 */
function generate<F>(name: string, params: string, body: string, scope: Record<string, unknown>, state: string[]): F {
  const source = `${state.join('\n')}\nreturn function ${name}(${params}) {\nlet lo = 0, hi = 0;\n${body}\n};`;
  return new Function(...Object.keys(scope), source)(...Object.values(scope)) as F;
}

/** The reference decoder's filler: the event of one record whose variable fields were found at `vars`. */
type FillEvent = (view: DataView, buf: Buffer, words: BigUint64Array, at: number, flags: number, vars: number[]) => Record<string, unknown>;

function compileFiller(d: AnyKindDefinition): FillEvent {
  const readers: MemberReader<unknown>[] = [];
  const state: string[] = [];
  const literal = eventLiteral(d, readers, state);
  const bounds = d.vars.map((_, i) => `const start${i} = vars[${2 * i}], end${i} = vars[${2 * i + 1}];`);
  return generate(
    `fill${d.number}`,
    'view, buf, words, at, flags, vars',
    [...bounds, `return ${literal};`].join('\n'),
    { r: readers, d: d.vars.map((v) => v.field.decode) },
    state,
  );
}

type Validator = { safeParse(value: unknown): { success: true; data: unknown } | { success: false; error: z.ZodError } };

/**
 * How the compiled decoder knows a property valid without its schema:
 * `implied`, the schema accepts every value the reader can produce (a C
 * integer read with that type's own reader into that type's schema, a
 * string schema without checks filled by a decoder typed to return a
 * string, a comm: COMM_LEN bytes decode to at most COMM_LEN UTF-16 units,
 * under its schema's maximum); `test`, the field's own `valid` test accepts
 * only values its schema accepts; `schema`, neither: the schema itself runs.
 * The kind, flags and `truncated` are booleans and literals the decoder
 * writes itself. decoder.differential.test.ts proves the shortcuts change no
 * result.
 */
function proofOf(field: ValueField | VarField): 'implied' | 'test' | 'schema' {
  const own = (schemas as Record<string, z.ZodType>)[field.cType];
  if (field.role === 'value' && own !== undefined && field.schema === own) return 'implied';
  if (field.cType === 'comm') return 'implied';
  if (field.valid) return 'test';
  const def = (field.schema as z.ZodType)._zod.def as { type: string; checks?: unknown[] };
  return def.type === 'string' && !def.checks?.length ? 'implied' : 'schema';
}

/**
 * The compiled decoder of one kind: the record's event, or undefined when
 * anything about the record is not as a clean record of this kind is (a flag
 * it has no use for, a length beyond the record, a missing NUL, padding or a
 * reserved member not zero, a property its schema or test refuses). The
 * reference decoder (decodeRecord) then decodes the record again and says
 * what is wrong, so faults are the reference's by construction, and a clean
 * record costs no closure, array or zod call beyond its own fields'.
 */
type DecodeClean = (view: DataView, buf: Buffer, words: BigUint64Array, at: number, size: number, flags: number) => Record<string, unknown> | undefined;

function compileDecoder(d: AnyKindDefinition, slots: readonly string[]): DecodeClean {
  const readers: MemberReader<unknown>[] = [];
  const state: string[] = [];
  const literal = eventLiteral(d, readers, state, slots);
  const flagMask = flagMaskOf(d);
  const lines = [`if (size < ${d.layout.size} || (flags & ${~flagMask}) !== 0) return undefined;`, `const end = at + size;`, `let cursor = at + ${d.layout.size};`];
  d.vars.forEach((v, i) => {
    lines.push(`const start${i} = cursor;`, `const end${i} = cursor += view.getUint16(at + ${v.lengthOffset}, true);`, `if (cursor > end) return undefined;`);
    if (v.field.nulTerminated) lines.push(`if ((flags & ${1 << i}) === 0 && end${i} > start${i} && buf[end${i} - 1] !== 0) return undefined;`);
  });
  lines.push(`while (cursor < end) if (buf[cursor++] !== 0) return undefined;`);
  for (const m of d.layout.members.filter((m) => m.field.role === 'hidden')) {
    const at = `at + ${m.offset}`;
    const read = { 1: `buf[${at}]`, 2: `view.getUint16(${at}, true)`, 4: `view.getUint32(${at}, true)`, 8: `(view.getUint32(${at}, true) | view.getUint32(${at} + 4, true))` }[m.field.size];
    lines.push(`if (${read} !== 0) return undefined;`);
  }
  lines.push(`const e = ${literal};`);
  const members = [...headerLayout.members, ...d.layout.members].filter((m) => m.field.role !== 'hidden') as Array<MemberLayout & { field: ValueField | VarField }>;
  const tests = members.filter((m) => proofOf(m.field) === 'test');
  tests.forEach((m, i) => lines.push(`if (!t[${i}](e.${m.key})) return undefined;`));
  const checked = members.filter((m) => proofOf(m.field) === 'schema');
  if (checked.length > 0) {
    // One object schema of those properties (one call: a call per property measured slower); its output is the event's value.
    lines.push(`const parsed = checks.safeParse(e);`, `if (!parsed.success) return undefined;`, ...checked.map((m) => `e.${m.key} = parsed.data.${m.key};`));
  }
  lines.push(`return e;`);
  const scope = {
    r: readers,
    d: d.vars.map((v) => v.field.decode),
    t: tests.map((m) => m.field.valid),
    checks: checked.length > 0 ? z.compile(z.object(Object.fromEntries(checked.map((m) => [m.key, m.field.schema as z.ZodType])))) : undefined,
  };
  return generate(`decode${d.number}`, 'view, buf, words, at, size, flags', lines.join('\n'), scope, state);
}

/** Header flag bits a kind may carry: its truncation bits and its own flags. */
const flagMaskOf = (d: AnyKindDefinition) =>
  Object.values(d.flags as Record<string, { bit: number }>).reduce((mask, f) => mask | (1 << f.bit), (1 << d.vars.length) - 1);

interface KindDecoder {
  readonly definition: AnyKindDefinition;
  readonly fill: FillEvent;
  /** Reserved members of the body: zero in this ABI version, so any other value is corruption. */
  readonly reserved: readonly MemberLayout[];
  /** Header flag bits this kind may carry: its truncation bits and its own flags. */
  readonly flagMask: number;
  /** The kind's whole event schema. */
  readonly validate: Validator;
}

const decoders = new Map<number, KindDecoder>(
  KIND_DEFINITIONS.map((d) => [
    d.number,
    {
      definition: d,
      fill: compileFiller(d),
      reserved: d.layout.members.filter((m) => m.field.role === 'hidden'),
      flagMask: flagMaskOf(d),
      validate: z.compile(d.schema as z.ZodType),
    },
  ]),
);

/** The compiled decoders of each kind, by kind number: events as such, and with the context slots. */
const compiledDecoders = (slots: readonly string[]) => {
  const byNumber: Array<DecodeClean | undefined> = [];
  for (const d of KIND_DEFINITIONS) byNumber[d.number] = compileDecoder(d, slots);
  return byNumber;
};
const plainDecoders = compiledDecoders([]);
const contextDecoders = compiledDecoders(EVENT_CONTEXT_KEYS);

/**
 * The record at `at` decoded by its kind's compiled decoder, if its framing
 * is sound (what frameRecord checks) and that decoder accepts it; else
 * undefined, and the reference decoder says what is wrong. `length` is the
 * batch's (a byteLength getter per record showed in live profiles).
 */
function decodeClean(decoders: Array<DecodeClean | undefined>, view: DataView, buf: Buffer, words: BigUint64Array, at: number, length: number): KmonEvent | undefined {
  const left = length - at;
  if (left < HEADER_SIZE || view.getUint16(at + HEADER.abi_version.offset, true) !== ABI.version) return undefined;
  const size = view.getUint32(at + HEADER.size.offset, true);
  if (size % ABI.align !== 0 || size > left) return undefined; // the kind's decoder refuses a size below its body
  const decoder = decoders[view.getUint16(at + HEADER.kind.offset, true)];
  return decoder?.(view, buf, words, at, size, view.getUint32(at + HEADER.flags.offset, true)) as KmonEvent | undefined;
}

/** What the decoders read a batch through: its bytes, a DataView, and its 64-bit words. */
interface BatchViews {
  buf: Buffer;
  view: DataView;
  words: BigUint64Array;
}

/**
 * The views of a batch. Records are 8-byte aligned within a batch, and the
 * u64 members within a record, so a batch that starts 8-byte aligned (every
 * buffer the bindings allocate) has them all at word boundaries; one that
 * does not (a slice at an odd offset) is copied first.
 */
function viewsOf(batch: Uint8Array): BatchViews {
  const aligned = batch.byteOffset % 8 === 0 ? batch : new Uint8Array(batch);
  const buf = Buffer.isBuffer(aligned) ? aligned : Buffer.from(aligned.buffer, aligned.byteOffset, aligned.byteLength);
  return {
    buf,
    view: new DataView(buf.buffer, buf.byteOffset, buf.byteLength),
    words: new BigUint64Array(buf.buffer, buf.byteOffset, buf.byteLength >>> 3),
  };
}

/**
 * One record through the compiled decoders alone (undefined: they do not
 * accept it), for decoder.differential.test.ts to see that they accept what
 * they should; not part of the package's exports.
 */
export function decodeCleanRecord(record: Uint8Array): KmonEvent | undefined {
  const { view, buf, words } = viewsOf(record);
  return decodeClean(plainDecoders, view, buf, words, 0, buf.byteLength);
}

/** The compiled zod validator the decoder runs on every record of `kind` (benchmarks time it alone). */
export function eventValidator(kind: EventKind): Validator {
  return [...decoders.values()].find((k) => k.definition.name === kind)!.validate;
}

const fault = (index: number, offset: number, field: string, problem: string) =>
  new KmonProtocolError({ record: index, offset, field }, problem);

/**
 * Start and end (in the batch) of each variable field, in order, or a fault
 * naming the length that overflows. The padding after the last one must be
 * zero: every byte of a record is either decoded or checked.
 */
function varRanges(view: DataView, d: AnyKindDefinition, index: number, offset: number, size: number, flags: number): number[] | KmonProtocolError {
  const ranges: number[] = [];
  let cursor = offset + d.layout.size;
  const recordEnd = offset + size;
  for (const [i, v] of d.vars.entries()) {
    const length = view.getUint16(offset + v.lengthOffset, true);
    if (cursor + length > recordEnd) {
      return fault(index, offset, `${d.name}.${v.field.cName}`, `is ${length}: the field would end ${cursor + length - recordEnd} bytes beyond the record`);
    }
    const cut = (flags & (1 << i)) !== 0;
    if (v.field.nulTerminated && !cut && length > 0 && view.getUint8(cursor + length - 1) !== 0) {
      return fault(index, offset, `${d.name}.${v.field.cName}`, `is ${length}: the field does not end with NUL and is not flagged as cut`);
    }
    ranges.push(cursor, cursor + length);
    cursor += length;
  }
  for (; cursor < recordEnd; cursor++) {
    if (view.getUint8(cursor) !== 0) return fault(index, offset, `${d.name}.padding`, `has byte ${view.getUint8(cursor)} at record offset ${cursor - offset}: padding is zero`);
  }
  return ranges;
}

/** The first reserved member that is not zero, as a fault. */
function reservedFault(view: DataView, decoder: KindDecoder, index: number, offset: number): KmonProtocolError | undefined {
  for (const m of decoder.reserved) {
    const at = offset + m.offset;
    const value = m.field.size === 8 ? view.getBigUint64(at, true) : m.field.size === 4 ? view.getUint32(at, true) : m.field.size === 2 ? view.getUint16(at, true) : view.getUint8(at);
    if (value !== 0 && value !== 0n) {
      return fault(index, offset, `${decoder.definition.name}.${m.field.cName}`, `is ${value}: reserved members are zero in ABI ${ABI.version}`);
    }
  }
  return undefined;
}

/** Checks the framing of the record at `offset`: its size, if it can be trusted, or a fault. */
function frameRecord(view: DataView, index: number, offset: number): number | KmonProtocolError {
  const framingFault = (field: string, problem: string) => fault(index, offset, field, problem);
  const left = view.byteLength - offset;
  if (left < HEADER_SIZE) return framingFault('hdr', `is cut short: ${left} bytes left, a header needs ${HEADER_SIZE}`);
  const version = view.getUint16(offset + HEADER.abi_version.offset, true);
  if (version !== ABI.version) return framingFault('hdr.abi_version', `is ${version}, this decoder reads version ${ABI.version}`);
  const size = view.getUint32(offset + HEADER.size.offset, true);
  if (size < HEADER_SIZE || size % ABI.align !== 0) {
    return framingFault('hdr.size', `is ${size}: not a multiple of ${ABI.align} of at least ${HEADER_SIZE}`);
  }
  if (size > left) return framingFault('hdr.size', `is ${size}, beyond the ${left} bytes left in the batch`);
  const known = definitionOfNumber(view.getUint16(offset + HEADER.kind.offset, true));
  if (known !== undefined && size < known.layout.size) {
    return framingFault('hdr.size', `is ${size}, smaller than a ${known.name} body (${known.layout.size})`);
  }
  return size;
}

/**
 * Decodes one framed record, or says why it cannot: the reference decoder,
 * interpreting the kind's definition and validating the event with its whole
 * schema. Records the compiled decoder does not accept come here.
 */
function decodeRecord({ buf, view, words }: BatchViews, index: number, offset: number, size: number): KmonEvent | KmonProtocolError {
  const kindNumber = view.getUint16(offset + HEADER.kind.offset, true);
  const decoder = decoders.get(kindNumber);
  if (decoder === undefined) return fault(index, offset, 'hdr.kind', `is ${kindNumber}, not a known event kind`);
  const d = decoder.definition;
  const flags = view.getUint32(offset + HEADER.flags.offset, true);
  if ((flags & ~decoder.flagMask) !== 0) {
    return fault(index, offset, 'hdr.flags', `is 0x${flags.toString(16)}: a ${d.name} record has no flag 0x${(flags & ~decoder.flagMask).toString(16)}`);
  }
  const vars = varRanges(view, d, index, offset, size, flags);
  if (vars instanceof KmonProtocolError) return vars;
  const reserved = reservedFault(view, decoder, index, offset);
  if (reserved) return reserved;
  const parsed = decoder.validate.safeParse(decoder.fill(view, buf, words, offset, flags, vars));
  return parsed.success ? (parsed.data as KmonEvent) : validationFault(index, offset, d, parsed.error);
}

function validationFault(index: number, offset: number, d: AnyKindDefinition, error: z.ZodError): KmonProtocolError {
  const issue = error.issues[0]!;
  return fault(index, offset, `${d.name}.${issue.path.map(String).join('.')}`, `failed validation: ${issue.message}`);
}

export interface DecodeOptions {
  /**
   * Give each event EventContext's properties, undefined, for a context
   * resolver to fill in place (what sessions do): the event is allocated
   * with its final shape.
   */
  withContext?: boolean;
}

/**
 * Decodes a batch of records. Never throws on bad input: each malformed
 * record becomes a KmonProtocolError in `faults`, and decoding goes on with
 * the next record wherever the framing allows.
 */
export function decodeBatch(batch: Uint8Array, options: DecodeOptions = {}): DecodedBatch {
  return decode(batch, options.withContext ? contextDecoders : plainDecoders);
}

/** decodeBatch validating each event with its kind's whole zod schema: the reference for decoder.differential.test.ts. */
export function decodeBatchWholeSchema(batch: Uint8Array): DecodedBatch {
  return decode(batch, undefined);
}

/** Decodes with `decoders`, or with the reference decoder alone when undefined. */
function decode(batch: Uint8Array, decoders: Array<DecodeClean | undefined> | undefined): DecodedBatch {
  const views = viewsOf(batch);
  const { buf, view, words } = views;
  const length = buf.byteLength;
  const result: DecodedBatch = { events: [], faults: [], stoppedEarly: false };
  let offset = 0;
  for (let index = 0; offset < length; index++) {
    const clean = decoders && decodeClean(decoders, view, buf, words, offset, length);
    if (clean !== undefined) {
      result.events.push(clean);
      offset += view.getUint32(offset + HEADER.size.offset, true);
      continue;
    }
    const size = frameRecord(view, index, offset);
    if (size instanceof KmonProtocolError) {
      result.faults.push(size);
      result.stoppedEarly = true;
      break;
    }
    const decoded = decodeRecord(views, index, offset, size);
    if (decoded instanceof KmonProtocolError) {
      result.faults.push(decoded);
    } else {
      result.events.push(decoded);
    }
    offset += size;
  }
  return result;
}
