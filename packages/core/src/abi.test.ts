import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { abiDifferences, readCAbi } from '../test/c-abi.js';

// The C header is compiled to BTF and every member of every record struct,
// every kind number, flag bit and limit is compared with the TS kind
// definitions (./kinds), which everything in TypeScript derives from.
const headerPath = fileURLToPath(new URL('../../driver/include/kmon_abi.h', import.meta.url));
const original = readFileSync(headerPath, 'utf8');

/**
 * The differences a changed copy of the header has with the TS definitions.
 * Its static asserts (KMON_PIN*) are dropped, as if the change had updated
 * them too: the BTF comparison alone must catch it.
 */
function differencesAfter(from: string, to: string): string[] {
  expect(original).toContain(from);
  const path = join(mkdtempSync(join(tmpdir(), 'kmon-abi-')), 'kmon_abi.h');
  writeFileSync(path, original.replace(from, to).replace(/^KMON_PIN.*$/gm, ''));
  return abiDifferences(readCAbi(path));
}

describe('record ABI: kmon_abi.h vs the TypeScript kind definitions', () => {
  it('agree on every member, variable field, truncation bit, kind number, flag and limit', () => {
    expect(abiDifferences(readCAbi(headerPath))).toEqual([]);
  });

  it('a reserved slot renamed into use is a difference', () => {
    const problems = differencesAfter('kmon_u16 value_name_len;   /* field 1 */\n\tkmon_u32 reserved;', 'kmon_u16 value_name_len;   /* field 1 */\n\tkmon_u32 hive;');
    expect(problems).toEqual([expect.stringMatching(/^kmon_registry_set member 4: C has hive@60:4 int, TS has reserved@60:4 int$/)]);
  });

  it('a signedness change is a difference', () => {
    const problems = differencesAfter('kmon_s32 exit_code;', 'kmon_u32 exit_code;');
    expect(problems).toEqual([expect.stringMatching(/^kmon_exit member 1: C has exit_code@56:4 int, TS has exit_code@56:4 signed int$/)]);
  });

  it('two variable fields swapped is a difference', () => {
    const problems = differencesAfter(
      'kmon_u16 path_len;         /* field 0: executable path as passed to exec */\n\tkmon_u16 argv_len;',
      'kmon_u16 argv_len;\n\tkmon_u16 path_len;',
    );
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^kmon_exec member 7: C has argv_len/);
  });

  it('a truncation bit renumbered, a kind renumbered or a new struct without a definition is a difference', () => {
    expect(differencesAfter('KMON_EXEC_VAR_ARGV = 1', 'KMON_EXEC_VAR_ARGV = 2')).toEqual([expect.stringMatching(/^exec: truncation bits/)]);
    expect(differencesAfter('KMON_KIND_FORK = 3', 'KMON_KIND_FORK = 9')).toEqual([expect.stringMatching(/^enum kmon_kind is/)]);
    const extra = differencesAfter('struct kmon_exit {', 'struct kmon_spare {\n\tstruct kmon_header hdr;\n};\n\nstruct kmon_exit {');
    expect(extra).toEqual(['struct kmon_spare has no TS kind definition']);
  });
});
