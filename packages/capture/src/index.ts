// @kmon/capture: record what a kernel binding delivered, and replay it as a
// KernelBinding (see ../README.md for the file format).
export { KmonCaptureError } from './errors.js';
export { FORMAT_VERSION } from './format.js';
export { captureHeaderSchema, recordedOnThisBoot, sessionClockOf, wallTimeMs, type CaptureHeader, type RecordedError } from './header.js';
export { CaptureReader, memorySource, readCaptureHeader, readCaptureHeaderSync, type CaptureEnding, type CaptureEntry, type CaptureSource } from './reader.js';
export { recordingBinding } from './record.js';
export { replayBinding, type ReplayBinding, type ReplayOptions, type ReplaySession } from './replay.js';
export { CaptureWriter, type CaptureSummary, type CaptureWriterOptions } from './writer.js';
