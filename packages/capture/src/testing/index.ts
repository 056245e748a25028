// Test support: fuzzing of capture readers.
export { fuzzCapture, mutate, type FuzzResult } from './fuzz.js';
