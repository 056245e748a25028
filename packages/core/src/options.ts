// Session options: the one schema every binding (Linux, Windows, mock) is
// handed, already parsed, so no layer below re-validates or re-defaults.
import { z } from 'zod';
import { KmonOptionsError } from './errors.js';
import { ABI, EVENT_KINDS, type EventKind } from './abi.js';

const KiB = 1024;
const MiB = 1024 * KiB;

const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;

export const eventKindSchema = z.enum(EVENT_KINDS);

/** The kinds a session records when it names none (those of them its binding supports). */
export const DEFAULT_KINDS: readonly EventKind[] = ['exec', 'exit', 'fork'];

export const wakeupSchema = z
  .enum(['each', 'adaptive', 'poll', 'pull'])
  .describe(
    'each: the kernel wakes the consumer per record; adaptive: it wakes past wakeupBytes, and maxLatencyMs bounds the wait for a lone record; poll: no wakeups, the consumer checks every pollIntervalMs; pull: the consumer is told records wait and drains them itself with read()',
  );

export const sessionOptionsSchema = z
  .object({
    kinds: z
      .array(eventKindSchema)
      .min(1, 'name at least one event kind')
      .default([...DEFAULT_KINDS])
      .describe('event kinds the driver records'),
    ringBytes: z
      .number()
      .int()
      .min(64 * KiB)
      .max(1024 * MiB)
      .refine(isPowerOfTwo, 'must be a power of two (the kernel ring buffer requires it)')
      .default(16 * MiB)
      .describe('size of the kernel ring buffer shared with user space'),
    argvBytes: z
      .number()
      .int()
      .min(0)
      .max(ABI.limits.argvMax)
      .default(ABI.limits.argvDefault)
      .describe('argv bytes captured per exec; longer argv is cut and flagged'),
    excludeSelf: z.boolean().default(true).describe("drop events about kmon's own process"),
    threads: z.boolean().default(false).describe('also report thread creation as fork events'),
    wakeup: wakeupSchema.default('adaptive'),
    wakeupBytes: z
      .number()
      .int()
      .min(1)
      .default(64 * KiB)
      .describe('adaptive mode: unconsumed bytes in the ring that trigger a kernel wakeup'),
    maxLatencyMs: z
      .number()
      .positive()
      .max(10_000)
      .default(20)
      .describe('adaptive mode: longest a record may wait in the ring before it is delivered'),
    pollIntervalMs: z.number().positive().max(10_000).default(10).describe('poll mode: how often the ring is checked'),
    batchBytes: z
      .number()
      .int()
      .min(ABI.limits.recordMax)
      .max(64 * MiB)
      .default(256 * KiB)
      .describe('largest batch handed to JavaScript at once'),
    synthetic: z
      .object({
        tgid: z
          .number()
          .int()
          .positive()
          .optional()
          .describe('Linux (required there): the load generator process whose getppid() calls become records'),
        payloadBytes: z.number().int().min(0).max(ABI.limits.payloadMax).default(0),
        periodMs: z.number().int().min(1).max(60_000).default(1).describe('Windows: period of the driver timer'),
        perTick: z.number().int().min(1).max(4096).default(1).describe('Windows: records per timer tick'),
        count: z.number().int().min(0).default(0).describe('Windows: records in all, 0 for no limit'),
      })
      .strict()
      .optional()
      .describe('attach the synthetic source (tests and benchmarks)'),
    windows: z
      .object({
        mechanism: z.enum(['inverted-call', 'event-pull']).default('inverted-call'),
        pendingRequests: z.number().int().min(1).max(64).default(4),
        queueBatches: z.number().int().min(1).max(1024).default(64),
      })
      .strict()
      .prefault({})
      .describe('Windows only: how the driver notifies user space'),
  })
  .strict()
  .refine((o) => !o.kinds.includes('synth') || o.synthetic !== undefined, {
    message: "kind 'synth' comes only from the synthetic source: configure `synthetic` too",
    path: ['kinds'],
  });

export type Wakeup = z.infer<typeof wakeupSchema>;
export type SessionOptionsInput = z.input<typeof sessionOptionsSchema>;
export type SessionOptions = z.output<typeof sessionOptionsSchema>;

/** Validates and completes session options; throws KmonOptionsError naming each bad field. */
export function parseSessionOptions(input: unknown = {}): SessionOptions {
  const result = sessionOptionsSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.join('.') : 'options';
    return `${where}: ${issue.message}`;
  });
  throw new KmonOptionsError(`invalid kmon options: ${problems.join('; ')}`, {
    hint: 'see sessionOptionsSchema in @kmon/core for every option and its range',
    cause: result.error,
  });
}
