export { createProgram } from './program.js';
export { watch, type WatchOptions, type WatchSummary } from './watch.js';
export { record, type RecordOptions, type RecordSummary } from './record.js';
export { replay, type ReplayOptions, type ReplaySummary } from './replay.js';
export { statusLine, type StatusLine } from './status.js';
export { runChecks, formatChecks, type Check } from './doctor.js';
export { createPrinter, toJson, toText, FORMATS, type Format, type Printer } from './format.js';
export { processIo, type Io, type Output } from './io.js';
