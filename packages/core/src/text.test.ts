import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { decodeText, escapeText, safe, shellWord } from './text.js';

describe('escapeText', () => {
  it.each([
    ['\x1b[2J\x1b[H', '\\e[2J\\e[H'],
    ['a\nb', 'a\\nb'],
    ['x\rOVERWRITE', 'x\\rOVERWRITE'],
    ['tab\there', 'tab\\there'],
    ['del\x7f nul\x00 bell\x07', 'del\\x7f nul\\x00 bell\\a'],
    ['c1 \x9b31m', 'c1 \\u009b31m'],
    ['back\\slash', 'back\\\\slash'],
    ['evil\u202etxt.exe', 'evil\\u202etxt.exe'],
    ['line\u2028sep', 'line\\u2028sep'],
  ])('%j is shown as %j', (raw, shown) => {
    expect(escapeText(raw)).toBe(shown);
  });

  it('leaves printable text of any script alone, surrogate pairs included', () => {
    const text = 'ünïcode 日本語 ✓ 🙂 "quoted" it\'s';
    expect(escapeText(text)).toBe(text);
  });
});

describe('decodeText', () => {
  it('keeps every undecodable byte, shown as \\xNN', () => {
    const bytes = Buffer.from([0x61, 0xff, 0x62, 0xc3, 0xa9, 0xe2, 0x82]); // a, invalid, b, é, cut €
    const text = decodeText(bytes);
    expect(escapeText(text)).toBe('a\\xffbé\\xe2\\x82');
  });

  it('decodes valid UTF-8 as usual, also within a range', () => {
    expect(decodeText(Buffer.from('xxünï🙂yy'), 2, 2 + Buffer.byteLength('ünï🙂'))).toBe('ünï🙂');
  });
});

describe('safe', () => {
  it('escapes what is interpolated, not the literal parts, and joins arrays with spaces', () => {
    expect(safe`a\t${'x\ny'} ${['1', 'b\x1b']}`.text).toBe('a\tx\\ny 1 b\\e');
  });

  it('does not escape twice what is safe already', () => {
    const inner = safe`${'\x1b'}`;
    expect(safe`[${inner}]`.text).toBe('[\\e]');
  });
});

describe('shellWord', () => {
  it.each([
    ['plain/path-1.txt', 'plain/path-1.txt'],
    ['', `''`],
    ['a b', `'a b'`],
    ["it's", `'it'\\''s'`],
    ['\x1b[31mEVIL', `$'\\e[31mEVIL'`],
    ["new\nline's", `$'new\\nline\\'s'`],
  ])('%j pastes back as itself: %s', (raw, word) => {
    expect(shellWord(raw).text).toBe(word);
    expect(execFileSync('bash', ['-c', `printf %s ${word}`], { encoding: 'utf8' })).toBe(raw);
  });
});
