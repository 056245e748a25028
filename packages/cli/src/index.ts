export { createProgram } from './program.js';
export { watch, type WatchOptions, type WatchSummary } from './watch.js';
export { runChecks, formatChecks, type Check } from './doctor.js';
export { createPrinter, toJson, toText, FORMATS, type Format, type Printer } from './format.js';
export { processIo, type Io, type Output } from './io.js';
