// Mutation fuzzing of the capture reader: every damaged capture must give a
// KmonCaptureError (or read as a cut capture), never another exception.
import { KmonCaptureError } from '../errors.js';
import { CaptureReader, memorySource } from '../reader.js';

export interface FuzzResult {
  runs: number;
  /** Mutants read without error (the mutation hit nothing checked, or read as a cut). */
  clean: number;
  /** Mutants refused with a KmonCaptureError. */
  typed: number;
  /** Anything else thrown: each is a bug. */
  untyped: Array<{ run: number; error: unknown }>;
}

/** xorshift32: the same seed gives the same mutants, so a failure can be reproduced. */
function random(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

/** One mutant: flipped bits, overwritten bytes, a cut, or a duplicated slice. */
export function mutate(original: Uint8Array, pick: (n: number) => number): Uint8Array {
  const bytes = Uint8Array.from(original);
  switch (pick(4)) {
    case 0:
      for (let i = 0, n = 1 + pick(4); i < n; i++) bytes[pick(bytes.length)]! ^= 1 << pick(8);
      return bytes;
    case 1:
      for (let i = 0, n = 1 + pick(8); i < n; i++) bytes[pick(bytes.length)] = pick(256);
      return bytes;
    case 2:
      return bytes.subarray(0, pick(bytes.length));
    default: {
      const at = pick(bytes.length);
      const slice = bytes.subarray(pick(bytes.length)).subarray(0, 1 + pick(64));
      return new Uint8Array([...bytes.subarray(0, at), ...slice, ...bytes.subarray(at)]);
    }
  }
}

/** Reads `runs` mutants of `capture` (from memory: the file path shares everything after reading). */
export async function fuzzCapture(capture: Uint8Array, runs: number, seed = 1): Promise<FuzzResult> {
  const pick = random(seed);
  const result: FuzzResult = { runs, clean: 0, typed: 0, untyped: [] };
  for (let run = 0; run < runs; run++) {
    try {
      const reader = await CaptureReader.open(memorySource(mutate(capture, pick)));
      for await (const entry of reader.entries()) void entry;
      result.clean++;
    } catch (error) {
      if (error instanceof KmonCaptureError) result.typed++;
      else result.untyped.push({ run, error });
    }
  }
  return result;
}
