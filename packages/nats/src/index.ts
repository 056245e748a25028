// @kmon/nats: a session's records exported to NATS JetStream, and a fleet's
// records consumed from it as a KernelBinding (see ../README.md).
export { natsBinding, type NatsBindingOptions } from './binding.js';
export { describeServers, type NatsConnectionOptions } from './connect.js';
export { KmonNatsError } from './errors.js';
export {
  EXPORT_DEFAULTS,
  SPOOL_BYTES,
  NatsExporter,
  createNatsExporter,
  exportToNats,
  exportingBinding,
  type ExportOptions,
  type ExportStats,
} from './exporter.js';
export { STREAM_DEFAULTS, type StreamOptions } from './stream.js';
