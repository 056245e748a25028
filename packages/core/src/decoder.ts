// Batch decoder: walks whole records back to back in one buffer, reading
// fields in place (no per-record copy) and decoding each string once.
import { z } from 'zod';
import { ABI, definitionOfNumber, type EventKind } from './abi.js';
import { KmonProtocolError } from './errors.js';
import type { KmonEvent } from './events.js';
import { schemas, type MemberLayout, type MemberReader, type ValueField, type VarField } from './kinds/define.js';
import { KIND_DEFINITIONS, type AnyKindDefinition } from './kinds/index.js';
import { headerLayout } from './kinds/kind.js';

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
 * Fills an event object from one record, for one kind. Generated once per
 * kind from its definition (like zod's compiled parsers): each property is a
 * plain `e.name = ...` store in the schema's key order, so V8 gives every
 * event of a kind one hidden class and monomorphic stores, and the event's
 * keys come in the order zod's output had. A generic loop with computed keys
 * measured several times slower; an object spread made V8 build slow
 * dictionary objects.
 */
type FillEvent = (e: Record<string, unknown>, view: DataView, buf: Buffer, at: number, flags: number, vars: number[]) => void;

/** The code and the readers it calls for one table of members (a var field reads its range). */
function fillerSource(members: readonly MemberLayout[], readers: MemberReader<unknown>[], vars: ReadonlyArray<{ key: string }>): string[] {
  return members.flatMap((m) => {
    if (m.field.role === 'value') {
      readers.push((m.field as ValueField).read);
      return [`e.${m.key} = r[${readers.length - 1}](view, buf, at + ${m.offset});`];
    }
    const i = vars.findIndex((v) => v.key === m.key);
    return i < 0 ? [] : [`e.${m.key} = d[${i}](buf, vars[${2 * i}], vars[${2 * i + 1}]);`];
  });
}

function compileFiller(d: AnyKindDefinition): FillEvent {
  const readers: MemberReader<unknown>[] = [];
  const decoders = d.vars.map((v) => v.field.decode);
  const lines = [
    `e.kind = ${JSON.stringify(d.name)};`,
    ...fillerSource(headerLayout.members, readers, []),
    ...fillerSource(d.layout.members, readers, d.vars),
  ];
  for (const [key, bit] of Object.entries(d.flags as Record<string, { bit: number }>)) {
    lines.push(`e.${key} = (flags & ${1 << bit.bit}) !== 0;`);
  }
  if (d.vars.length > 0) {
    const cut = d.vars.map((v, i) => `${v.key}: (flags & ${1 << i}) !== 0`).join(', ');
    lines.push(`e.truncated = { ${cut} };`);
  }
  // Built from the static kind tables only (keys are checked identifiers), never from input.
  const make = new Function('r', 'd', `return function fill${d.number}(e, view, buf, at, flags, vars) {\n${lines.join('\n')}\n};`);
  return make(readers, decoders) as FillEvent;
}

type Validator = { safeParse(value: unknown): { success: true; data: unknown } | { success: false; error: z.ZodError } };

/** The properties the filler cannot vouch for, and one compiled schema of just those. */
interface FieldChecks {
  readonly keys: readonly string[];
  readonly validate: Validator;
}

/**
 * Whether the schema of a field accepts every value the filler can store in
 * it, so that checking it would be a no-op: a C integer read with that type's
 * own reader into that type's schema (getUint32 yields exactly the integers
 * of schemas.u32), or a string schema without checks filled by a decoder
 * typed to return a string. The kind, flags and `truncated` are booleans and
 * literals the filler writes itself. Everything else (narrower schemas,
 * custom structs, lists) is checked with its own schema.
 * decoder.differential.test.ts proves the shortcut changes no result.
 */
function impliedByFill(field: ValueField | VarField): boolean {
  const own = (schemas as Record<string, z.ZodType>)[field.cType];
  if (field.role === 'value' && own !== undefined && field.schema === own) return true;
  const def = (field.schema as z.ZodType)._zod.def as { type: string; checks?: unknown[] };
  return def.type === 'string' && !def.checks?.length;
}

/** One object schema of the properties to check (one call: a call per property measured slower). */
function fieldChecks(d: AnyKindDefinition): FieldChecks | undefined {
  const members = [...headerLayout.members, ...d.layout.members].filter(
    (m) => m.field.role !== 'hidden' && !impliedByFill(m.field as ValueField | VarField),
  );
  if (members.length === 0) return undefined;
  const shape = Object.fromEntries(members.map((m) => [m.key, (m.field as ValueField | VarField).schema as z.ZodType]));
  return { keys: members.map((m) => m.key), validate: z.compile(z.object(shape)) };
}

interface KindDecoder {
  readonly definition: AnyKindDefinition;
  readonly fill: FillEvent;
  /** Reserved members of the body: zero in this ABI version, so any other value is corruption. */
  readonly reserved: readonly MemberLayout[];
  /** Header flag bits this kind may carry: its truncation bits and its own flags. */
  readonly flagMask: number;
  /** The properties checked on every record, in the schema's key order; none: all vouched for. */
  readonly checks: FieldChecks | undefined;
  /** The kind's whole event schema (what the checks are equivalent to). */
  readonly validate: Validator;
}

const decoders = new Map<number, KindDecoder>(
  KIND_DEFINITIONS.map((d) => [
    d.number,
    {
      definition: d,
      fill: compileFiller(d),
      reserved: d.layout.members.filter((m) => m.field.role === 'hidden'),
      flagMask: Object.values(d.flags as Record<string, { bit: number }>).reduce((mask, f) => mask | (1 << f.bit), (1 << d.vars.length) - 1),
      checks: fieldChecks(d),
      validate: z.compile(d.schema as z.ZodType),
    },
  ]),
);

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
 * Decodes one framed record, or says why it cannot. `whole`: validate the
 * event with the kind's whole schema instead of the field checks (the
 * reference the differential test compares the checks with).
 */
function decodeRecord(buf: Buffer, view: DataView, index: number, offset: number, size: number, whole: boolean): KmonEvent | KmonProtocolError {
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
  const event: Record<string, unknown> = {};
  decoder.fill(event, view, buf, offset, flags, vars);
  if (whole) {
    const parsed = decoder.validate.safeParse(event);
    return parsed.success ? (parsed.data as KmonEvent) : validationFault(index, offset, d, parsed.error);
  }
  const checks = decoder.checks;
  if (checks !== undefined) {
    const parsed = checks.validate.safeParse(event);
    if (!parsed.success) return validationFault(index, offset, d, parsed.error);
    const data = parsed.data as Record<string, unknown>;
    for (const key of checks.keys) event[key] = data[key];
  }
  return event as KmonEvent;
}

function validationFault(index: number, offset: number, d: AnyKindDefinition, error: z.ZodError): KmonProtocolError {
  const issue = error.issues[0]!;
  return fault(index, offset, `${d.name}.${issue.path.map(String).join('.')}`, `failed validation: ${issue.message}`);
}

/**
 * Decodes a batch of records. Never throws on bad input: each malformed
 * record becomes a KmonProtocolError in `faults`, and decoding goes on with
 * the next record wherever the framing allows.
 */
export function decodeBatch(batch: Uint8Array): DecodedBatch {
  return decode(batch, false);
}

/** decodeBatch validating each event with its kind's whole zod schema: the reference for decoder.differential.test.ts. */
export function decodeBatchWholeSchema(batch: Uint8Array): DecodedBatch {
  return decode(batch, true);
}

function decode(batch: Uint8Array, whole: boolean): DecodedBatch {
  const buf = Buffer.isBuffer(batch) ? batch : Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const result: DecodedBatch = { events: [], faults: [], stoppedEarly: false };
  let offset = 0;
  for (let index = 0; offset < buf.byteLength; index++) {
    const size = frameRecord(view, index, offset);
    if (size instanceof KmonProtocolError) {
      result.faults.push(size);
      result.stoppedEarly = true;
      break;
    }
    const decoded = decodeRecord(buf, view, index, offset, size, whole);
    if (decoded instanceof KmonProtocolError) {
      result.faults.push(decoded);
    } else {
      result.events.push(decoded);
    }
    offset += size;
  }
  return result;
}
