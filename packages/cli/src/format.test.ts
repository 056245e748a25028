import { describe, expect, it } from 'vitest';
import { shellQuote, toJson } from './format.js';

describe('format', () => {
  it('quotes shell arguments only when needed', () => {
    expect(shellQuote('ls')).toBe('ls');
    expect(shellQuote('/usr/bin/a-b_c.d')).toBe('/usr/bin/a-b_c.d');
    expect(shellQuote('a b')).toBe(`'a b'`);
    expect(shellQuote(`it's`)).toBe(`'it'\\''s'`);
    expect(shellQuote('')).toBe(`''`);
  });

  it('renders 64-bit values exactly in JSON', () => {
    const json = toJson({ kind: 'lost', cause: 'malformed', count: 1, byKind: {}, error: new Error('bad') });
    expect(JSON.parse(json)).toEqual({ kind: 'lost', cause: 'malformed', count: 1, byKind: {}, error: { name: 'Error', message: 'bad' } });
    expect(toJson({ time: 2n ** 63n + 1n } as never)).toBe(`{"time":"${2n ** 63n + 1n}"}`);
  });
});
