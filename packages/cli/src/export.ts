// `kmon export nats://HOST:PORT`: a live session's records published to NATS
// JetStream (see @kmon/nats) until Ctrl-C, --count or --duration, then what
// was published, acknowledged, still buffered and lost. `kmon watch --from
// nats://...` reads a fleet's back through the same URL syntax.
import {
  createNatsExporter,
  describeServers,
  exportToNats,
  natsBinding,
  type ExportOptions,
  type ExportStats,
  type NatsBindingOptions,
  type NatsConnectionOptions,
} from '@kmon/nats';
import { Command, InvalidArgumentError } from 'commander';
import { KmonOptionsError, createKmon, nativeBinding, type KernelBinding, type KmonConfig, type SessionOptionsInput } from 'kmon';
import type { Io } from './io.js';
import { compact } from './status.js';
import { describeSummary, runStream, unprinted, type StreamSummary } from './stream.js';

export interface ExportCommandOptions {
  session: SessionOptionsInput;
  nats: ExportOptions;
  count?: number;
  durationSec?: number;
  quiet?: boolean;
}

export interface ExportSummary extends StreamSummary {
  exported: ExportStats;
}

/**
 * Secrets come from the environment (or the URL), never from flags: a
 * command line is visible to every user in `ps`.
 */
function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<NatsConnectionOptions> {
  return {
    ...(env.KMON_NATS_USER !== undefined && { user: env.KMON_NATS_USER }),
    ...(env.KMON_NATS_PASSWORD !== undefined && { pass: env.KMON_NATS_PASSWORD }),
    ...(env.KMON_NATS_TOKEN !== undefined && { token: env.KMON_NATS_TOKEN }),
    ...(env.KMON_NATS_CREDS !== undefined && { credsFile: env.KMON_NATS_CREDS }),
  };
}

interface ConnectionFlags {
  creds?: string;
  tls?: boolean;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
}

function tlsOf(flags: ConnectionFlags): NatsConnectionOptions['tls'] {
  const files = {
    ...(flags.tlsCa !== undefined && { caFile: flags.tlsCa }),
    ...(flags.tlsCert !== undefined && { certFile: flags.tlsCert }),
    ...(flags.tlsKey !== undefined && { keyFile: flags.tlsKey }),
  };
  return Object.keys(files).length > 0 ? files : flags.tls;
}

/** The server URL (credentials in it are allowed; nothing prints them) with the connection flags and environment. */
function connection(url: string, flags: ConnectionFlags): NatsConnectionOptions {
  if (!/^(nats|tls):\/\//u.test(url)) {
    throw new KmonOptionsError(`${url.replace(/\/\/[^@/]*@/u, '//***@')} is not a NATS server URL`, { hint: 'write nats://HOST:PORT (or tls://HOST:PORT)' });
  }
  const tls = tlsOf(flags);
  return {
    servers: url,
    ...credentialsFromEnv(),
    ...(flags.creds !== undefined && { credsFile: flags.creds }),
    ...(tls !== undefined && { tls }),
  };
}

/** The flags both export and watch --from take to reach a server. */
export function connectionOptions(command: Command): Command {
  return command
    .option('--creds <file>', 'NATS credentials file (JWT and NKEY seed); user/password or token come from KMON_NATS_USER, KMON_NATS_PASSWORD, KMON_NATS_TOKEN or the URL')
    .option('--tls', "TLS with the system's CAs")
    .option('--tls-ca <file>', 'TLS: trust this CA')
    .option('--tls-cert <file>', 'TLS: client certificate (mutual TLS)')
    .option('--tls-key <file>', 'TLS: client key')
    .option('--stream <name>', 'JetStream stream (default KMON)')
    .option('--prefix <prefix>', 'subject prefix: subjects are <prefix>.<host>.<kind> (default kmon)');
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

/** --from: 'all', 'new', a stream sequence or an ISO time. */
function startFrom(value: string): NatsBindingOptions['from'] {
  if (value === 'all' || value === 'new') return value;
  if (/^\d+$/u.test(value)) return { seq: positiveInt(value) };
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) throw new InvalidArgumentError("expected 'all', 'new', a stream sequence number or a time (2026-12-01T14:00:00Z)");
  return { time };
}

export interface FleetFlags extends ConnectionFlags {
  stream?: string;
  prefix?: string;
  host?: string[];
  start?: NatsBindingOptions['from'];
}

/** The flags `watch --from` adds: which hosts, where to start. */
export function fleetOptions(command: Command): Command {
  return connectionOptions(command)
    .option('--host <name>', 'with --from: only this host (repeatable)', (v: string, previous: string[] = []) => [...previous, v])
    .option('--start <where>', "with --from: 'all' kept records (default), 'new', a stream sequence or a time", startFrom);
}

/** Flags that mean something only with --from. */
const FLEET_ONLY = ['creds', 'tls', 'tlsCa', 'tlsCert', 'tlsKey', 'stream', 'prefix', 'host', 'start'] as const;

/** What `watch` reads: this kernel (`config`), or with --from a fleet's records from JetStream. */
export function watchSource(config: KmonConfig, flags: FleetFlags & { from?: string }): KmonConfig {
  if (flags.from !== undefined) return { ...config, binding: fleetBinding(flags.from, flags) };
  const stray = FLEET_ONLY.find((flag) => flags[flag] !== undefined);
  if (stray) {
    const name = `--${stray.replace(/[A-Z]/gu, (c) => `-${c.toLowerCase()}`)}`;
    throw new KmonOptionsError(`${name} applies to a fleet stream only`, { hint: `add --from nats://HOST:PORT, or leave ${name} out` });
  }
  return config;
}

/** The binding `watch --from URL` reads: a fleet's records from JetStream. */
function fleetBinding(url: string, flags: FleetFlags): KernelBinding {
  return natsBinding({
    ...connection(url, flags),
    ...(flags.stream !== undefined && { stream: flags.stream }),
    ...(flags.prefix !== undefined && { prefix: flags.prefix }),
    ...(flags.host !== undefined && { hosts: flags.host }),
    ...(flags.start !== undefined && { from: flags.start }),
  });
}

export interface ExportFlags extends ConnectionFlags {
  stream?: string;
  prefix?: string;
  host?: string;
  buffer?: number;
  spool?: string;
  spoolBytes?: number;
}

/** What `kmon export` passes to the exporter. */
export function exportOptions(url: string, flags: ExportFlags): ExportOptions {
  return {
    ...connection(url, flags),
    ...(flags.host !== undefined && { host: flags.host }),
    ...(flags.prefix !== undefined && { prefix: flags.prefix }),
    ...(flags.stream !== undefined && { stream: { name: flags.stream } }),
    ...(flags.buffer !== undefined && { bufferBytes: flags.buffer }),
    ...(flags.spool !== undefined && { spool: { file: flags.spool, ...(flags.spoolBytes !== undefined && { bytes: flags.spoolBytes }) } }),
  };
}

export async function exportEvents(options: ExportCommandOptions, io: Io, config: KmonConfig = {}): Promise<ExportSummary> {
  const exporter = await createNatsExporter(options.nats);
  const kmon = createKmon(options.session, { ...config, binding: exporter.binding(config.binding ?? nativeBinding) });
  const output = unprinted(options);
  try {
    const seen = await runStream({ ...kmon, events$: exportToNats(kmon.events$, exporter) }, output, io, {
      command: 'export',
      banner: `exporting to ${exporter.server} as ${exporter.prefix}.${exporter.host}.<kind>; Ctrl-C to stop`,
      status: { extra: () => exportStatus(exporter.stats()) },
    });
    return { ...seen, exported: await exporter.close() };
  } finally {
    await exporter.close();
  }
}

/** The status line's export part: "nats published 1.2k, acked 1.1k, buffered 100, lost 0" (records and notices). */
export function exportStatus(x: ExportStats): string {
  return `nats published ${compact(x.published)}, acked ${compact(x.acknowledged)}, buffered ${compact(x.buffered)}, lost ${x.lost}`;
}

/** "exported 12 events, 0 lost in 3.0 s to nats://h:4222: published 12, acknowledged 12, buffered 0, lost 0". */
export function describeExport(summary: ExportSummary, server: string): string {
  const x = summary.exported;
  const duplicates = x.duplicates > 0 ? ` (${x.duplicates} already stored)` : '';
  const undelivered = x.buffered > 0 ? ` (not delivered: the server did not acknowledge them before kmon stopped)` : '';
  return (
    `exported ${describeSummary(summary)} in ${summary.seconds.toFixed(1)} s to ${server}: ` +
    `published ${x.published}, acknowledged ${x.acknowledged}${duplicates}, buffered ${x.buffered}${undelivered}, lost ${x.lost}`
  );
}

/**
 * Adds what `kmon export` takes to `command` (which already has the session
 * and stop flags watch and record have) and its action.
 */
export function registerExport(
  command: Command,
  io: Io,
  config: KmonConfig,
  attempt: (work: () => Promise<void>) => Promise<void>,
  toSession: (flags: never) => SessionOptionsInput,
): Command {
  return connectionOptions(command)
    .description('publish live kernel events to NATS JetStream (subjects <prefix>.<host>.<kind>); read them back with `kmon watch --from`')
    .argument('<url>', 'the NATS server, nats://HOST:PORT (or tls://)')
    .option('--host <name>', 'this machine in the subjects (default: its hostname, dots as _)')
    .option('--buffer <bytes>', 'records kept while the server is unreachable or slow; beyond, dropped and reported as `export` losses (default 64M)', byteSize)
    .option('--spool <file>', 'beyond --buffer, records wait in this file (in order; removed at the end) before any is dropped')
    .option('--spool-bytes <bytes>', 'with --spool: the file grows to this at most (default 1G)', byteSize)
    .action((url: string, flags: ExportFlags & { count?: number; duration?: number; quiet?: boolean }) =>
      attempt(async () => {
        if (flags.spoolBytes !== undefined && flags.spool === undefined) {
          throw new KmonOptionsError('--spool-bytes bounds a spool file, and no --spool was given', { hint: 'add --spool FILE, or leave --spool-bytes out' });
        }
        const nats = exportOptions(url, flags);
        const summary = await exportEvents(
          {
            session: toSession(flags as never),
            nats,
            ...(flags.count !== undefined && { count: flags.count }),
            ...(flags.duration !== undefined && { durationSec: flags.duration }),
            ...(flags.quiet !== undefined && { quiet: flags.quiet }),
          },
          io,
          config,
        );
        io.stderr.write(`kmon export: ${describeExport(summary, describeServers(nats.servers))}\n`);
      }),
    );
}

/** "64M" -> bytes. */
function byteSize(value: string): number {
  const match = /^(\d+)([kmg]?)i?b?$/iu.exec(value.trim());
  if (!match) throw new InvalidArgumentError('expected a size such as 500000, 64k, 100M or 2G');
  const n = Number(match[1]) * { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  if (n <= 0) throw new InvalidArgumentError('expected a size above zero');
  return n;
}
