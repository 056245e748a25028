// Test support for code built on kmon: the mock kernel binding and the record encoder.
export * from '@kmon/rx/testing';
