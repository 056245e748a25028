// Reads kmon_abi.h as the C compiler lays it out: the header is compiled to a
// BPF object with BTF (clang-14 -g, as the driver build does), every struct
// and enum it declares is anchored by a global so BTF keeps it, and its
// integer macros are captured as enum members. bpftool prints the BTF as JSON.
// No hand-written list of fields: a new struct or member is seen as it is.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Field, StructLayout } from '../src/kinds/define.js';
import { KIND_DEFINITIONS } from '../src/kinds/index.js';
import { headerLayout } from '../src/kinds/kind.js';
import { ABI } from '../src/abi.js';

export interface CMember {
  name: string;
  offset: number;
  size: number;
  signed: boolean;
  shape: 'int' | 'char-array' | 'struct' | 'other';
}

export interface CAbi {
  structs: Map<string, { size: number; members: CMember[] }>;
  /** Enum members in declaration order, by enum name. */
  enums: Map<string, Array<[name: string, value: number]>>;
  /** Every enum member and integer macro, by name. */
  constants: Map<string, number>;
}

interface BtfType {
  id: number;
  kind: string;
  name: string;
  size?: number;
  type_id?: number;
  encoding?: string;
  nr_elems?: number;
  members?: Array<{ name: string; type_id: number; bits_offset: number }>;
  values?: Array<{ name: string; val: number }>;
}

const MACRO_PREFIX = 'KMON_BTF_MACRO_';

/** A C file that makes BTF describe every struct, enum and integer macro of the header. */
function anchorSource(headerPath: string): string {
  const text = readFileSync(headerPath, 'utf8');
  const structs = [...text.matchAll(/^struct (kmon_\w+) \{/gm)].map((m) => m[1]!);
  const enums = [...text.matchAll(/^enum (kmon_\w+) \{/gm)].map((m) => m[1]!);
  // Object-like macros with a value (not guards, not function-like ones).
  const macros = [...text.matchAll(/^#define (KMON_\w+)[ \t]+\S/gm)].map((m) => m[1]!);
  return [
    `#include "${headerPath}"`,
    ...structs.map((s, i) => `struct ${s} kmon_btf_struct_${i};`),
    ...enums.map((e, i) => `enum ${e} kmon_btf_enum_${i};`),
    `enum kmon_btf_macros { ${macros.map((m) => `${MACRO_PREFIX}${m} = (long long)(${m})`).join(', ')} } kmon_btf_macros;`,
  ].join('\n');
}

function compileBtf(headerPath: string): BtfType[] {
  const dir = mkdtempSync(join(tmpdir(), 'kmon-btf-'));
  const source = join(dir, 'anchor.c');
  const object = join(dir, 'anchor.o');
  writeFileSync(source, anchorSource(headerPath));
  execFileSync('clang-14', ['-g', '-O0', '-target', 'bpf', '-I', dirname(headerPath), '-c', source, '-o', object]);
  const bpftool = ['bpftool', '/usr/sbin/bpftool'].find((tool) => {
    try {
      execFileSync(tool, ['version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
  return (JSON.parse(execFileSync(bpftool ?? 'bpftool', ['-j', 'btf', 'dump', 'file', object], { encoding: 'utf8' })) as { types: BtfType[] }).types;
}

export function readCAbi(headerPath: string): CAbi {
  const types = new Map(compileBtf(headerPath).map((t) => [t.id, t]));
  const resolve = (id: number): BtfType => {
    let t = types.get(id)!;
    while (t.kind === 'TYPEDEF' || t.kind === 'CONST' || t.kind === 'VOLATILE') t = types.get(t.type_id!)!;
    return t;
  };
  const describe = (name: string, typeId: number, bitsOffset: number): CMember => {
    const t = resolve(typeId);
    const offset = bitsOffset / 8;
    if (t.kind === 'INT') return { name, offset, size: t.size!, signed: t.encoding === 'SIGNED', shape: 'int' };
    if (t.kind === 'STRUCT') return { name, offset, size: t.size!, signed: false, shape: 'struct' };
    if (t.kind === 'ARRAY') {
      const element = resolve(t.type_id!);
      const size = element.size! * t.nr_elems!;
      const shape = element.kind === 'INT' && element.name === 'char' ? 'char-array' : 'other';
      return { name, offset, size, signed: false, shape };
    }
    return { name, offset, size: 0, signed: false, shape: 'other' };
  };

  const abi: CAbi = { structs: new Map(), enums: new Map(), constants: new Map() };
  for (const t of types.values()) {
    if (t.kind === 'STRUCT' && t.name.startsWith('kmon_')) {
      abi.structs.set(t.name, { size: t.size!, members: t.members!.map((m) => describe(m.name, m.type_id, m.bits_offset)) });
    } else if (t.kind === 'ENUM' && t.name.startsWith('kmon_')) {
      const values = t.values!.map((v) => [v.name.replace(MACRO_PREFIX, ''), v.val] as [string, number]);
      if (t.name !== 'kmon_btf_macros') abi.enums.set(t.name, values);
      for (const [name, value] of values) abi.constants.set(name, value);
    }
  }
  return abi;
}

// ---- the comparison ---------------------------------------------------------------------

/** What the TS table says one member is, in the terms BTF describes a C member. */
function expectedMember(field: Field, offset: number): CMember {
  const signed = field.cType === 's32' || field.cType === 's64';
  const shape = field.cType === 'comm' ? 'char-array' : field.cType === 'struct' ? 'struct' : 'int';
  return { name: field.cName, offset, size: field.size, signed, shape };
}

const show = (m: CMember | undefined) => (m ? `${m.name}@${m.offset}:${m.size}${m.signed ? ' signed' : ''} ${m.shape}` : 'nothing');

function structDifferences(c: CAbi, ts: StructLayout, isBody: boolean): string[] {
  const cStruct = c.structs.get(ts.struct);
  if (!cStruct) return [`struct ${ts.struct} is not in kmon_abi.h`];
  const problems: string[] = [];
  if (isBody && cStruct.members[0]?.name !== 'hdr') problems.push(`${ts.struct}: first member is not hdr`);
  const cMembers = isBody ? cStruct.members.slice(1) : cStruct.members;
  const expected = ts.members.map((m) => expectedMember(m.field, m.offset));
  for (let i = 0; i < Math.max(cMembers.length, expected.length); i++) {
    if (show(cMembers[i]) !== show(expected[i])) problems.push(`${ts.struct} member ${i}: C has ${show(cMembers[i])}, TS has ${show(expected[i])}`);
  }
  if (cStruct.size !== ts.size) problems.push(`sizeof(struct ${ts.struct}) is ${cStruct.size} in C, ${ts.size} in TS`);
  return problems;
}

const kindConstant = (name: string) => `KMON_KIND_${name.toUpperCase().replaceAll('-', '_')}`;

/**
 * Every way the header and the TS kind definitions disagree: members (name,
 * offset, size, signedness, reserved slots), variable-field order and
 * truncation bits, kind numbers and count, flag bits, limits. Empty when they agree.
 */
export function abiDifferences(c: CAbi): string[] {
  const problems = structDifferences(c, headerLayout, false);
  for (const d of KIND_DEFINITIONS) {
    problems.push(...structDifferences(c, d.layout, true));
    const suffix = d.struct.replace(/^kmon_/, '').toUpperCase();
    const bits = d.vars.map((v, bit) => [`KMON_${suffix}_VAR_${v.field.cName.replace(/_len$/, '').toUpperCase()}`, bit]);
    const cBits = c.enums.get(`${d.struct}_var`) ?? [];
    if (JSON.stringify(cBits) !== JSON.stringify(bits)) {
      problems.push(`${d.name}: truncation bits in C ${JSON.stringify(cBits)}, in TS ${JSON.stringify(bits)}`);
    }
    for (const [key, f] of Object.entries(d.flags as Record<string, { cName: string; bit: number }>)) {
      if (c.constants.get(f.cName) !== 1 << f.bit) problems.push(`${d.name}.${key}: ${f.cName} is ${c.constants.get(f.cName)} in C, bit ${f.bit} in TS`);
    }
  }
  const kinds = [...KIND_DEFINITIONS.map((d) => [kindConstant(d.name), d.number]), ['KMON_KIND_COUNT', ABI.kindCount]];
  if (JSON.stringify(c.enums.get('kmon_kind')) !== JSON.stringify(kinds)) {
    problems.push(`enum kmon_kind is ${JSON.stringify(c.enums.get('kmon_kind'))} in C, ${JSON.stringify(kinds)} in TS`);
  }
  const bodies = new Set(KIND_DEFINITIONS.map((d) => d.struct));
  for (const [name, s] of c.structs) {
    if (s.members[0]?.name === 'hdr' && !bodies.has(name)) problems.push(`struct ${name} has no TS kind definition`);
  }
  const constants: Array<[string, number]> = [
    ['KMON_ABI_VERSION', ABI.version],
    ['KMON_RECORD_ALIGN', ABI.align],
    ['KMON_COMM_LEN', ABI.commLen],
    ['KMON_F_TRUNCATED_MASK', ABI.flags.truncatedMask],
    ['KMON_PATH_MAX', ABI.limits.pathMax],
    ['KMON_ARGV_MAX', ABI.limits.argvMax],
    ['KMON_ARGV_DEFAULT', ABI.limits.argvDefault],
    ['KMON_PAYLOAD_MAX', ABI.limits.payloadMax],
    ['KMON_KEY_MAX', ABI.limits.keyMax],
    ['KMON_RECORD_MAX', ABI.limits.recordMax],
  ];
  for (const [name, value] of constants) {
    if (c.constants.get(name) !== value) problems.push(`${name} is ${c.constants.get(name)} in C, ${value} in TS`);
  }
  if (c.structs.get('kmon_cpu_stats')?.size !== ABI.cpuStats.size) {
    problems.push(`sizeof(struct kmon_cpu_stats) is ${c.structs.get('kmon_cpu_stats')?.size} in C, ${ABI.cpuStats.size} in TS`);
  }
  return problems;
}
