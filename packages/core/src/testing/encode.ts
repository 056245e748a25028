// Builds records byte for byte from the ABI layout: the inverse of the
// decoder, for unit tests, the mock binding and recorded captures.
import { ABI, type EventKind, type FieldLayout, type FieldType } from '../abi.js';

export type FieldValues = Record<string, number | bigint | string | Uint8Array>;

export interface RecordSpec {
  kind: EventKind;
  /** Header fields by C name; abi_version, kind and size are filled in. */
  header?: FieldValues;
  /** Body fields by C name; the var-length fields' *_len are filled in from `vars`. */
  body?: FieldValues;
  /** Variable-length field contents, in the layout's varFields order. */
  vars?: Array<string | Uint8Array>;
}

const encoder = new TextEncoder();
const asBytes = (v: string | Uint8Array) => (typeof v === 'string' ? encoder.encode(v) : v);

function writeField(view: DataView, bytes: Uint8Array, offset: number, type: FieldType, value: number | bigint | string | Uint8Array) {
  if (value instanceof Uint8Array) return bytes.set(value, offset); // a nested struct, as raw bytes
  switch (type) {
    case 'u8':
      return view.setUint8(offset, Number(value));
    case 'u16':
      return view.setUint16(offset, Number(value), true);
    case 'u32':
      return view.setUint32(offset, Number(value), true);
    case 's32':
      return view.setInt32(offset, Number(value), true);
    case 'u64':
      return view.setBigUint64(offset, BigInt(value), true);
    case 's64':
      return view.setBigInt64(offset, BigInt(value), true);
    case 'struct':
      throw new Error('a struct member takes its bytes as a Uint8Array');
    case 'comm':
      return bytes.set(asBytes(String(value)).subarray(0, ABI.commLen - 1), offset);
  }
}

/** Encodes one record; `header.size` may be given to forge a malformed one. */
export function encodeRecord(spec: RecordSpec): Uint8Array {
  const layout = ABI.records[spec.kind];
  const vars = (spec.vars ?? layout.varFields.map(() => '')).map(asBytes);
  const varBytes = vars.reduce((n, v) => n + v.length, 0);
  const size = Math.ceil((layout.size + varBytes) / ABI.align) * ABI.align;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  const header: FieldValues = { abi_version: ABI.version, kind: ABI.kinds[spec.kind], size, ...spec.header };
  for (const [name, value] of Object.entries(header)) {
    const field = (ABI.header.fields as Record<string, FieldLayout | undefined>)[name];
    if (!field) throw new Error(`no header field ${name}`);
    writeField(view, bytes, field.offset, field.type, value);
  }
  const body: FieldValues = { ...spec.body };
  layout.varFields.forEach((name, i) => (body[name] ??= vars[i]?.length ?? 0));
  for (const [name, value] of Object.entries(body)) {
    const field = layout.fields[name];
    if (!field) throw new Error(`no ${spec.kind} field ${name}`);
    writeField(view, bytes, field.offset, field.type, value);
  }
  let cursor = layout.size;
  for (const v of vars) {
    bytes.set(v, cursor);
    cursor += v.length;
  }
  return bytes;
}

/** Concatenates records into one batch, as a binding delivers them. */
export function concatBatch(records: Uint8Array[]): Uint8Array {
  const batch = new Uint8Array(records.reduce((n, r) => n + r.length, 0));
  let offset = 0;
  for (const r of records) {
    batch.set(r, offset);
    offset += r.length;
  }
  return batch;
}
