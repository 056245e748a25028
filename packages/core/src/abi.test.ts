import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ABI, EVENT_KINDS, type FieldType, type StructLayout } from './abi.js';

// Compiles the driver's own view of the ABI (kmon_abi.h through abi-dump.c)
// and checks the decoder's table against it, field by field.
const dumpSource = fileURLToPath(new URL('../../driver/test/abi-dump.c', import.meta.url));

interface CDump {
  constants: Record<string, number>;
  structs: Record<string, { size: number; fields: Record<string, [offset: number, size: number]> }>;
}

function dumpCLayout(): CDump {
  const exe = join(mkdtempSync(join(tmpdir(), 'kmon-abi-')), 'abi-dump');
  execFileSync('cc', ['-std=c11', '-Wall', '-Werror', dumpSource, '-o', exe]);
  return JSON.parse(execFileSync(exe, { encoding: 'utf8' })) as CDump;
}

const typeSize: Record<FieldType, number> = { u8: 1, u16: 2, u32: 4, s32: 4, u64: 8, comm: ABI.commLen };

describe('record ABI: @kmon/core vs packages/driver/include/kmon_abi.h', () => {
  const c = dumpCLayout();
  const layouts: StructLayout[] = [ABI.header, ...EVENT_KINDS.map((kind) => ABI.records[kind])];

  it.each(layouts.map((l) => [l.cName, l] as const))('%s has the same size and field offsets', (cName, layout) => {
    const cStruct = c.structs[cName];
    expect(cStruct, `${cName} missing from the C dump`).toBeDefined();
    expect(layout.size).toBe(cStruct!.size);
    for (const [name, field] of Object.entries(layout.fields)) {
      expect([field.offset, typeSize[field.type]], `${cName}.${name}`).toEqual(cStruct!.fields[name]);
    }
  });

  it('every C field the dump names is known to the decoder', () => {
    for (const layout of layouts) {
      const cFields = Object.keys(c.structs[layout.cName]!.fields).filter((f) => f !== 'hdr');
      expect(Object.keys(layout.fields).sort(), layout.cName).toEqual(cFields.sort());
    }
  });

  it('kind numbers, flags and limits agree', () => {
    const k = c.constants;
    expect(ABI.version).toBe(k.KMON_ABI_VERSION);
    expect(ABI.align).toBe(k.KMON_RECORD_ALIGN);
    expect(ABI.commLen).toBe(k.KMON_COMM_LEN);
    expect(ABI.kinds).toEqual({
      exec: k.KMON_KIND_EXEC,
      exit: k.KMON_KIND_EXIT,
      fork: k.KMON_KIND_FORK,
      synth: k.KMON_KIND_SYNTH,
      'image-load': k.KMON_KIND_IMAGE_LOAD,
      'registry-set': k.KMON_KIND_REGISTRY_SET,
    });
    expect(ABI.kindCount).toBe(k.KMON_KIND_COUNT);
    expect(ABI.flags).toEqual({ truncatedMask: k.KMON_F_TRUNCATED_MASK, thread: k.KMON_F_THREAD, coreDumped: k.KMON_F_CORE_DUMPED });
    expect(ABI.limits).toEqual({
      pathMax: k.KMON_PATH_MAX,
      argvMax: k.KMON_ARGV_MAX,
      argvDefault: k.KMON_ARGV_DEFAULT,
      payloadMax: k.KMON_PAYLOAD_MAX,
      keyMax: k.KMON_KEY_MAX,
      recordMax: k.KMON_RECORD_MAX,
    });
    expect(ABI.cpuStats.size).toBe(c.structs.kmon_cpu_stats!.size);
  });
});
