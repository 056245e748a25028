export { ABI, EVENT_KINDS, definitionOfNumber, kindOfNumber, type EventKind, type FieldLayout, type RecordLayout, type CStructLayout } from './abi.js';
export {
  ALL_CAPABILITIES,
  parseSessionOptionsFor,
  refuseUnsupported,
  type BindingCapabilities,
  type OptionPath,
} from './capabilities.js';
export type { BatchOrigin, BatchSink, Check, CpuCounters, KernelBinding, KernelSession, RawKernelStats, RingFill, SessionClock } from './binding.js';
export { tappedBinding, type SessionTap } from './binding.js';
export { decodeBatch, decodeBatchWholeSchema, eventValidator, type DecodedBatch, type DecodeOptions } from './decoder.js';
export {
  KmonClosedError,
  KmonDriverError,
  KmonError,
  KmonOptionsError,
  KmonPermissionError,
  PRIVILEGE_HINT,
  KmonProtocolError,
  KmonUnsupportedError,
  isKmonError,
  type KmonErrorCode,
  type ProtocolFault,
} from './errors.js';
export * from './events.js';
export {
  DEFAULT_KINDS,
  eventKindSchema,
  fileFiltersSchema,
  filtersSchema,
  networkFilterSchema,
  parseFilters,
  parseSessionOptions,
  processFilterSchema,
  sessionOptionsSchema,
  wakeupSchema,
  type Filters,
  type FiltersInput,
  type ProcessFilter,
  type SessionOptions,
  type SessionOptionsInput,
  type Wakeup,
} from './options.js';
export {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  formatCidr,
  formatIp,
  parseCidr,
  parseIp,
  type Cidr,
  type SocketAddress,
} from './network/address.js';
export type { DnsQuery, DnsQuestion } from './network/dns.js';
export { decodeText, escapeText, safe, SafeText, shellWord } from './text.js';
export { emptyStats, statsDelta, summarizeStats, type KernelStats } from './stats.js';
export { KIND_DEFINITIONS, type AnyKindDefinition } from './kinds/index.js';
export type { EventOf, KindDefinition, HeaderValues } from './kinds/kind.js';
export { containerOfCgroupPath, type ContainerRef, type ContainerRuntime } from './container.js';
export { processIdentity, processKey, type ProcessIdentity } from './process/key.js';
export {
  DEFAULT_EXIT_LINGER_MS,
  DEFAULT_PROCESS_CAPACITY,
  ProcessTable,
  type ProcessEntry,
  type ProcessExit,
  type ProcessSnapshot,
  type ProcessTableOptions,
} from './process/table.js';
export {
  contextResolver,
  dateOfEpochNs,
  type ContextEvent,
  type ContextMessage,
  type ContextResolver,
  type EventContext,
  type HostLookups,
  type ProcessContext,
} from './process/context.js';
