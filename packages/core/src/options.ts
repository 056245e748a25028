// Session options: the one schema every binding (Linux, Windows, mock) is
// handed, already parsed, so no layer below re-validates or re-defaults.
import { posix } from 'node:path';
import { z } from 'zod';
import { KmonOptionsError } from './errors.js';
import { ABI, EVENT_KINDS, type EventKind } from './abi.js';
import { formatCidr, parseCidr } from './network/address.js';

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

/** An address prefix in text (10.0.0.0/8, 2001:db8::/32, or one address), kept in canonical form. */
const cidrSchema = z.string().transform((text, ctx) => {
  const cidr = parseCidr(text);
  if (cidr) return formatCidr(cidr);
  ctx.addIssue({ code: 'custom', message: `'${text}' is not an address prefix (e.g. 10.0.0.0/8, 2001:db8::/32, ::1)` });
  return z.NEVER;
});

const portSchema = z.number().int().min(1).max(65535);

/** What the driver checks per prefix/port list (its maps hold 1024 entries each). */
const FILTER_ENTRIES_MAX = 1024;

const inBoth = <T>(a: T[], b: T[]) => a.filter((x) => b.includes(x));

export const networkFilterSchema = z
  .object({
    include: z
      .array(cidrSchema)
      .max(FILTER_ENTRIES_MAX)
      .default([])
      .describe('keep only events whose address is under one of these prefixes (the remote end; for bind and listen the local one)'),
    exclude: z
      .array(cidrSchema)
      .max(FILTER_ENTRIES_MAX)
      .default([])
      .describe('drop events whose address is under one of these; the longest matching prefix decides'),
    ports: z.array(portSchema).max(FILTER_ENTRIES_MAX).default([]).describe('keep only events on these ports'),
    excludePorts: z.array(portSchema).max(FILTER_ENTRIES_MAX).default([]).describe('drop events on these ports'),
    loopback: z
      .boolean()
      .default(true)
      .describe('keep events whose address is loopback (127.0.0.0/8, ::1, IPv4-mapped too); egress monitors turn it off'),
  })
  .strict()
  .refine((f) => inBoth(f.include, f.exclude).length === 0, {
    message: 'a prefix cannot be both included and excluded',
    path: ['exclude'],
  })
  .refine((f) => inBoth(f.ports, f.excludePorts).length === 0, {
    message: 'a port cannot be both included and excluded',
    path: ['excludePorts'],
  })
  .describe(
    'network kinds: which addresses and ports are recorded; unix sockets pass unless include or ports keeps only some',
  );

const id32 = z.number().int().min(0).max(0xffff_ffff);

/** filters.process: which processes' events the kernel lets through. Empty lists are off; the lists that are on must all match. */
export const processFilterSchema = z
  .object({
    pids: z
      .array(id32.min(1))
      .max(1024)
      .default([])
      .describe('only these processes, and (with children) every process they fork from now on and already forked'),
    children: z.boolean().default(true).describe('pids: follow descendants (false: only the processes named)'),
    uids: z.array(id32).max(256).default([]).describe('only processes with one of these real user ids'),
    cgroups: z
      .array(z.union([z.string().min(1), z.bigint().min(1n).max(0xffff_ffff_ffff_ffffn)]))
      .max(256)
      .default([])
      .describe(
        'only processes in these cgroup v2 groups or below them: a path (absolute, or relative to /sys/fs/cgroup) or a cgroup id',
      ),
    containers: z
      .array(z.string().regex(/^[0-9a-f]{4,64}$/u, 'a container id (or unique prefix): lowercase hex'))
      .max(64)
      .default([])
      .describe('only processes in these containers (docker, containerd/CRI, podman), by id or unique id prefix'),
    comms: z
      .array(z.string().min(1).max(15, 'the kernel keeps 15 bytes of a process name'))
      .max(256)
      .default([])
      .describe('only processes with one of these names (comm)'),
  })
  .strict();

export type ProcessFilter = z.output<typeof processFilterSchema>;


/** Bytes of a path prefix the kernel compares (KMON_PREFIX_MAX, trailing '/' included). */
export const PATH_PREFIX_MAX = 256;

/**
 * A directory prefix as the kernel matches it: absolute, normalised, ending
 * in '/' ("/etc" becomes "/etc/": it matches /etc and /etc/passwd, not /etcd).
 */
const pathPrefixSchema = z
  .string()
  .refine((p) => p.startsWith('/'), 'must be an absolute path')
  .transform((p) => {
    const normal = posix.normalize(p);
    return normal.endsWith('/') ? normal : `${normal}/`;
  })
  .refine((p) => Buffer.byteLength(p) <= PATH_PREFIX_MAX, `must be at most ${PATH_PREFIX_MAX - 1} bytes`);

export const fileFiltersSchema = z
  .object({
    include: z
      .array(pathPrefixSchema)
      .max(512)
      .default([])
      .describe('only paths under one of these directories (none: every path); the longest matching prefix decides'),
    exclude: z.array(pathPrefixSchema).max(512).default([]).describe('never paths under these directories'),
    failed: z.boolean().default(false).describe('also report calls that failed (result is -errno)'),
    writesOnly: z.boolean().default(false).describe('open: only opens that may modify the file (write access, create, truncate)'),
  })
  .strict();

/**
 * What the driver drops before a record is made, one section per event
 * family. Changeable on a live session (Kmon.setFilters). Records a filter
 * drops are never counted as lost.
 */
export const filtersSchema = z
  .object({
    file: fileFiltersSchema.prefault({}).describe('file kinds: paths, failed calls, open flags'),
    network: networkFilterSchema.prefault({}),
    process: processFilterSchema.prefault({}),
  })
  .strict()
  .describe('filters the driver applies before a record is made (records filtered out are not lost); live: setFilters');

export type FiltersInput = z.input<typeof filtersSchema>;
export type Filters = z.output<typeof filtersSchema>;

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
      // 1 GiB took 3.6 s to attach and 2.2 GB of RSS: the data area is mapped twice into this process.
      .max(256 * MiB, 'at most 256 MiB (268435456): the kernel maps the ring twice into this process, so a larger one costs GBs of memory and seconds to attach')
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
      // 256 KiB: under load, a quarter of the wakeups (and their syscalls and context switches) of 64 KiB, which
      // cost 17-80 ns an event more in pnpm bench; the wait stays bounded by maxLatencyMs either way.
      .default(256 * KiB)
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
    filters: filtersSchema.prefault({}),
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
  return parseWith(sessionOptionsSchema, input ?? {}, 'options', 'sessionOptionsSchema');
}

/** Validates and completes filters (for a live change); throws KmonOptionsError naming each bad field. */
export function parseFilters(input: unknown = {}): Filters {
  return parseWith(filtersSchema, input ?? {}, 'filters', 'filtersSchema');
}

function parseWith<S extends z.ZodType>(schema: S, input: unknown, what: string, name: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.join('.') : what;
    return `${where}: ${issue.message}`;
  });
  throw new KmonOptionsError(`invalid kmon ${what}: ${problems.join('; ')}`, {
    hint: `see ${name} in @kmon/core for every option and its range`,
    cause: result.error,
  });
}
