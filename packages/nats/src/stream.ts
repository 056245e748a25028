// The JetStream stream a fleet's records live in: created with documented
// defaults when missing, checked when present (it must take the subjects we
// publish, and keep a duplicate window, or retries could duplicate).
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { DiscardPolicy, RetentionPolicy, StorageType, jetstreamManager, type StreamInfo } from '@nats-io/jetstream';
import { KmonNatsError } from './errors.js';

export interface StreamOptions {
  /** Stream name. Default 'KMON'. */
  name?: string;
  /** Oldest records are discarded past this age. Default 7 days. */
  maxAgeMs?: number;
  /** Oldest records are discarded past this many bytes. Default 1 GiB. */
  maxBytes?: number;
  /** A message id seen within this window is a duplicate, dropped. Default 2 minutes (JetStream's). */
  duplicateWindowMs?: number;
}

export const STREAM_DEFAULTS = {
  name: 'KMON',
  maxAgeMs: 7 * 24 * 3600 * 1000,
  maxBytes: 1024 ** 3,
  duplicateWindowMs: 2 * 60 * 1000,
} as const satisfies Required<StreamOptions>;

/** The stream ready to take `<prefix>.>`: created (file storage, limits retention, discard old) or checked. */
export async function ensureStream(nc: NatsConnection, prefix: string, options: StreamOptions = {}): Promise<StreamInfo> {
  const wanted = { ...STREAM_DEFAULTS, ...options };
  const subject = `${prefix}.>`;
  const jsm = await jetstreamManager(nc);
  const existing = await jsm.streams.info(wanted.name).catch(() => undefined);
  if (existing) {
    if (!existing.config.subjects?.includes(subject)) {
      throw new KmonNatsError(`NATS stream ${wanted.name} exists but does not take ${subject} (it takes ${existing.config.subjects?.join(', ') || 'nothing'})`, {
        hint: `choose another stream name or subject prefix, or add ${subject} to the stream's subjects`,
      });
    }
    return existing;
  }
  return jsm.streams.add({
    name: wanted.name,
    subjects: [subject],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(wanted.maxAgeMs),
    max_bytes: wanted.maxBytes,
    duplicate_window: nanos(wanted.duplicateWindowMs),
  });
}
