// Test support for layers above the kernel binding: a mock binding and a
// record encoder. Not for production use.
export { createMockBinding, MOCK_CLOCK, type MockBinding, type MockBindingOptions, type MockSession } from './mock-binding.js';
export { encodeRecord, concatBatch, type RecordSpec, type FieldValues } from './encode.js';
