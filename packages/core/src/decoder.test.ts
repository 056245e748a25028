import { describe, expect, it } from 'vitest';
import { ABI, EVENT_KINDS } from './abi.js';
import { decodeBatch } from './decoder.js';
import { KmonProtocolError } from './errors.js';
import { concatBatch, encodeRecord, type RecordSpec } from './testing/encode.js';

const header = { cpu: 1, seq: 7, ts_ns: 2n ** 60n + 3n, tgid: 100, tid: 101, cgroup_id: 2n ** 63n + 5n };

const specs: Record<(typeof EVENT_KINDS)[number], RecordSpec> = {
  exec: {
    kind: 'exec',
    header: { ...header, flags: 0b10 },
    body: { start_ns: 11n, parent_start_ns: 10n, ppid: 99, uid: 1000, gid: 1001, argc: 3, comm: 'sh' },
    vars: ['/bin/sh', 'sh\0-c\0exit 3\0'],
  },
  exit: {
    kind: 'exit',
    header: { ...header, flags: ABI.flags.coreDumped },
    body: { start_ns: 11n, exit_code: 0, signal: 11, comm: 'crashy' },
  },
  fork: {
    kind: 'fork',
    header: { ...header, flags: ABI.flags.thread },
    body: { parent_start_ns: 10n, child_start_ns: 12n, child_tgid: 100, child_tid: 102, comm: 'node' },
  },
  synth: { kind: 'synth', header, body: { value: 42n }, vars: ['/usr/lib/x86_64'] },
  'image-load': {
    kind: 'image-load',
    header,
    body: { image_base: 0x7ff0_0000n, image_size: 4096n },
    vars: ['C:\\Windows\\System32\\ntdll.dll'],
  },
  'registry-set': {
    kind: 'registry-set',
    header: { ...header, flags: 0b01 },
    body: { value_type: 4, data_size: 4 },
    vars: ['\\REGISTRY\\MACHINE\\SOFTWARE\\kmon', 'Enabled'],
  },
};

const common = { cpu: 1, seq: 7, time: 2n ** 60n + 3n, pid: 100, tid: 101, cgroupId: 2n ** 63n + 5n };

const expected = {
  exec: {
    kind: 'exec',
    ...common,
    ppid: 99,
    uid: 1000,
    gid: 1001,
    argc: 3,
    comm: 'sh',
    filename: '/bin/sh',
    argv: ['sh', '-c', 'exit 3'],
    startTime: 11n,
    parentStartTime: 10n,
    truncated: { filename: false, argv: true },
  },
  exit: { kind: 'exit', ...common, startTime: 11n, exitCode: 0, signal: 11, coreDumped: true, comm: 'crashy' },
  fork: {
    kind: 'fork',
    ...common,
    parentStartTime: 10n,
    childStartTime: 12n,
    childPid: 100,
    childTid: 102,
    thread: true,
    comm: 'node',
  },
  synth: { kind: 'synth', ...common, value: 42n, payload: '/usr/lib/x86_64', truncated: { payload: false } },
  'image-load': {
    kind: 'image-load',
    ...common,
    imageBase: 0x7ff0_0000n,
    imageSize: 4096n,
    path: 'C:\\Windows\\System32\\ntdll.dll',
    truncated: { path: false },
  },
  'registry-set': {
    kind: 'registry-set',
    ...common,
    key: '\\REGISTRY\\MACHINE\\SOFTWARE\\kmon',
    valueName: 'Enabled',
    valueType: 4,
    dataSize: 4,
    truncated: { key: true, valueName: false },
  },
};

describe('decodeBatch: every kind', () => {
  it.each(EVENT_KINDS)('%s decodes to its typed event with exact 64-bit values', (kind) => {
    const { events, faults } = decodeBatch(encodeRecord(specs[kind]));
    expect(faults).toEqual([]);
    expect(events).toEqual([expected[kind]]);
  });

  it('decodes every record of a batch in order', () => {
    const batch = concatBatch(EVENT_KINDS.map((kind) => encodeRecord(specs[kind])));
    const { events, faults, stoppedEarly } = decodeBatch(batch);
    expect(faults).toEqual([]);
    expect(stoppedEarly).toBe(false);
    expect(events.map((e) => e.kind)).toEqual([...EVENT_KINDS]);
  });

  it('keeps non-ASCII UTF-8, spaces and quotes in argv exactly', () => {
    const args = ['printf', 'a b', '"quoted" \'single\'', 'héllo wörld ✓ 日本'];
    const record = encodeRecord({ ...specs.exec, vars: ['/usr/bin/printf', args.join('\0') + '\0'] });
    const [event] = decodeBatch(record).events;
    expect(event).toMatchObject({ argv: args });
  });

  it('keeps an argv cut mid-argument as a last partial argument', () => {
    const record = encodeRecord({ ...specs.exec, vars: ['/bin/echo', 'echo\0abc'] });
    expect(decodeBatch(record).events[0]).toMatchObject({ argv: ['echo', 'abc'] });
  });

  it('reads a comm of the full 15 bytes', () => {
    const record = encodeRecord({ ...specs.exit, body: { ...specs.exit.body, comm: '123456789012345' } });
    expect(decodeBatch(record).events[0]).toMatchObject({ comm: '123456789012345' });
  });

  it('decodes an empty batch to nothing', () => {
    expect(decodeBatch(new Uint8Array(0))).toEqual({ events: [], faults: [], stoppedEarly: false });
  });
});

/** Decodes a batch that must fail, and returns its single fault. */
function faultOf(batch: Uint8Array) {
  const { faults } = decodeBatch(batch);
  expect(faults).toHaveLength(1);
  expect(faults[0]).toBeInstanceOf(KmonProtocolError);
  return faults[0]!;
}

describe('decodeBatch: malformed records give KmonProtocolError, never a crash or a wrong event', () => {
  const good = () => encodeRecord(specs.fork);

  it('a batch shorter than a header', () => {
    const fault = faultOf(good().subarray(0, 20));
    expect(fault).toMatchObject({ record: 0, offset: 0, field: 'hdr' });
  });

  it('a record size beyond the batch', () => {
    const batch = concatBatch([good(), good()]);
    const fault = faultOf(batch.subarray(0, batch.length - 8));
    expect(fault).toMatchObject({ record: 1, offset: good().length, field: 'hdr.size' });
    expect(decodeBatch(batch.subarray(0, batch.length - 8)).events).toHaveLength(1);
  });

  it('a record size that is not a multiple of 8 or is smaller than a header', () => {
    expect(faultOf(encodeRecord({ ...specs.fork, header: { ...header, size: 92 } })).field).toBe('hdr.size');
    expect(faultOf(encodeRecord({ ...specs.fork, header: { ...header, size: 8 } })).field).toBe('hdr.size');
  });

  it('a record size smaller than its kind body', () => {
    const record = encodeRecord({ ...specs.exec, header: { ...header, size: 64 } });
    expect(faultOf(record).field).toBe('hdr.size');
  });

  it('an unknown kind is skipped alone, and the next record still decodes', () => {
    const unknown = encodeRecord({ ...specs.fork, header: { ...header, kind: 99 } });
    const { events, faults, stoppedEarly } = decodeBatch(concatBatch([unknown, good()]));
    expect(faults[0]).toMatchObject({ record: 0, field: 'hdr.kind' });
    expect(faults).toHaveLength(1);
    expect(stoppedEarly).toBe(false);
    expect(events.map((e) => e.kind)).toEqual(['fork']);
  });

  it('an unknown ABI version stops the batch (its framing cannot be trusted)', () => {
    const future = encodeRecord({ ...specs.fork, header: { ...header, abi_version: 2 } });
    const { events, faults, stoppedEarly } = decodeBatch(concatBatch([good(), future, good()]));
    expect(faults[0]).toMatchObject({ record: 1, field: 'hdr.abi_version' });
    expect(stoppedEarly).toBe(true);
    expect(events).toHaveLength(1);
  });

  it('a string length beyond the record', () => {
    const record = encodeRecord({ ...specs.exec, body: { ...specs.exec.body, argv_len: 4000 } });
    const fault = faultOf(record);
    expect(fault.field).toBe('exec.argv_len');
    expect(fault.message).toMatch(/beyond the record/);
  });

  it('a value the schema rejects names the field', () => {
    const record = encodeRecord({ ...specs.exit, body: { ...specs.exit.body, signal: 300 } });
    expect(faultOf(record).field).toBe('exit.signal');
  });

  it('a nonzero reserved member, nonzero padding or a flag the kind does not have', () => {
    expect(faultOf(encodeRecord({ ...specs.synth, body: { ...specs.synth.body, reserved1: 1 } })).field).toBe('synth.reserved1');
    const padded = encodeRecord({ ...specs.synth, vars: ['abc'] });
    padded[padded.length - 1] = 7;
    expect(faultOf(padded).field).toBe('synth.padding');
    expect(faultOf(encodeRecord({ ...specs.exit, header: { ...header, flags: ABI.flags.thread } })).field).toBe('hdr.flags');
    expect(faultOf(encodeRecord({ ...specs.exec, header: { ...header, flags: 0 }, vars: ['/bin/sh', 'sh\0-c'] })).field).toBe('exec.argv_len');
  });

  it('every byte of every kind is decoded or checked: corrupting any one gives a fault or a different event', () => {
    for (const kind of EVENT_KINDS) {
      // Unflagged, so a length shortened by a final NUL cannot pass as a cut field.
      const record = encodeRecord({ ...specs[kind], header: { ...header, flags: (specs[kind].header?.flags as number) & ~ABI.flags.truncatedMask } });
      const original = decodeBatch(record).events[0];
      const ignored = commPaddingOffsets(kind, record);
      for (let at = 0; at < record.length; at++) {
        if (ignored.has(at)) continue;
        for (const xor of [0x01, 0x80, 0xff]) {
          const corrupt = record.slice();
          corrupt[at]! ^= xor;
          const { events, faults } = decodeBatch(corrupt);
          // A corrupt size can make one record look like several: loss may be
          // over-counted, never hidden, and never is the original event passed off as intact.
          expect(events.length + faults.length, `${kind} byte ${at}`).toBeGreaterThanOrEqual(1);
          expect(events.length, `${kind} byte ${at}`).toBeLessThanOrEqual(1);
          if (faults.length === 0) expect(events[0], `${kind} byte ${at} ^ ${xor} went unnoticed`).not.toEqual(original);
        }
      }
    }
  });
});

/** Bytes of a comm after its terminating NUL: names are read up to the NUL, like the kernel's. */
function commPaddingOffsets(kind: (typeof EVENT_KINDS)[number], record: Uint8Array): Set<number> {
  const comm = ABI.records[kind].fields.comm;
  const offsets = new Set<number>();
  if (!comm) return offsets;
  const end = record.indexOf(0, comm.offset);
  for (let at = end + 1; at < comm.offset + ABI.commLen; at++) offsets.add(at);
  return offsets;
}
