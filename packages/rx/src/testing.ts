// Test support for code built on @kmon/rx: the mock kernel binding and the record encoder.
export * from '@kmon/core/testing';
