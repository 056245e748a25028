export { createKmon, events, type Kmon, type KmonConfig } from './kmon.js';
export { pausingWriter, type DrainableWritable } from './backpressure.js';
export { ofKind, whereComm, wherePid, type MessageOfKind } from './operators.js';
export * from '@kmon/core';
