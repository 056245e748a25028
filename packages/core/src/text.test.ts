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
  it('short text (up to 16 bytes, decoded in JavaScript when ASCII) reads as Buffer decodes it, any bytes, any length', () => {
    let seed = 7;
    const next = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24;
    for (let n = 0; n < 3000; n++) {
      const length = Math.floor(next() * 20);
      const bytes = Buffer.from(Array.from({ length }, () => Math.floor(next() * (next() < 0.9 ? 0x80 : 0x100))));
      const expected = bytes.toString('utf8');
      if (!expected.includes('\ufffd')) expect(decodeText(bytes), bytes.toString('hex')).toBe(expected);
      expect(decodeText(Buffer.concat([Buffer.from('ab'), bytes, Buffer.from('cd')]), 2, 2 + length)).toBe(decodeText(bytes));
    }
    const long = Buffer.from('a path longer than sixteen bytes');
    expect([decodeText(long, 2, 100), decodeText(long, -5, 6), decodeText(long, 9, 3)], 'ranges clamped as toString clamps them').toEqual([
      long.toString('utf8', 2, 100),
      long.toString('utf8', -5, 6),
      long.toString('utf8', 9, 3),
    ]);
    for (const at of [0, 1, 2]) {
      const bytes = Buffer.from('abc');
      bytes[at] = 0xff; // not UTF-8, wherever it is: kept as U+DCFF
      expect(decodeText(bytes)).toBe('abc'.slice(0, at) + '\udcff' + 'abc'.slice(at + 1));
    }
  });

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
