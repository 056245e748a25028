// Which process a record is about. Every kind about a process carries the
// process start time as start_ns, filled by one driver helper
// (process_start() in the Linux driver's helpers/base.h), so that
// (pid, startTime) names one process on all of its events.
import { u64Repeating } from './define.js';

/** The start_ns member: the process start time, same clock as `time`. */
export const processStart = () => u64Repeating('start_ns');

// Families share a documented field by spreading a local `as const` object:
// TypeScript carries the doc comments of spread properties into the published
// types only from the same file.
