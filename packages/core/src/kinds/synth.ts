// The synthetic load generator's records (tests and benchmarks).
import { reserved, text, u64 } from './define.js';
import { defineKind } from './kind.js';

export const synth = defineKind({
  name: 'synth',
  number: 4,
  struct: 'kmon_synth',
  doc: 'A synthetic record from the load generator (tests and benchmarks).',
  fields: {
    /** The generator's own counter, echoed: a consumer can spot lost records. */
    value: u64('value'),
    /** Filler text of the configured size: decoded like any path, so benchmarks pay for strings. */
    payload: text('payload_len'),
    _reserved0: reserved('reserved0', 'u16'),
    _reserved1: reserved('reserved1', 'u32'),
  },
});
