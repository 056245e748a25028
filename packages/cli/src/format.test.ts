import { describe, expect, it } from 'vitest';
import { toJson } from './format.js';

describe('format', () => {
  it('renders 64-bit values exactly in JSON', () => {
    const json = toJson({ kind: 'lost', cause: 'malformed', count: 1, byKind: {}, error: new Error('bad') });
    expect(JSON.parse(json)).toEqual({ kind: 'lost', cause: 'malformed', count: 1, byKind: {}, error: { name: 'Error', message: 'bad' } });
    expect(toJson({ time: 2n ** 63n + 1n } as never)).toBe(`{"time":"${2n ** 63n + 1n}"}`);
  });
});
