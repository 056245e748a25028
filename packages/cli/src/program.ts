// The kmon command line. Parsing and validation only: the work is in
// watch.ts and doctor.ts, and every failure ends as one clear message.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import {
  DEFAULT_KINDS,
  EVENT_KINDS,
  KmonOptionsError,
  isKmonError,
  nativeBinding,
  type BindingCapabilities,
  type KmonConfig,
  type EventKind,
  type OptionPath,
  type SessionOptionsInput,
} from 'kmon';
import { COLOR_MODES, colourEnabled, type ColorMode } from './colour.js';
import { FORMATS, type Format } from './format.js';
import { CHECK_FORMATS, formatChecks, runChecks, type CheckFormat } from './doctor.js';
import { KIND_GROUPS, kindName, kindsNamed } from './kinds.js';
import type { Io } from './io.js';
import { record } from './record.js';
import { describeEnding, replay } from './replay.js';
import { replayFilterOptions, replayFilters, type ReplayFilterFlags } from './replay-filter.js';
import { fleetOptions, registerExport, watchSource, type FleetFlags } from './export.js';
import { describeSummary } from './stream.js';
import { uiCommand } from './ui.js';
import { psCommand } from './ps.js';
import { watch } from './watch.js';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

/** A --pid: pids are 32-bit in the kernel's records, so a larger number could never match. */
function processId(value: string): number {
  const n = positiveInt(value);
  if (n > 0xffff_ffff) throw new InvalidArgumentError(`${value} is not a pid: pids are 32-bit (at most 4294967295), so it would never match`);
  return n;
}

/** The kernel keeps 15 bytes of a process name (TASK_COMM_LEN - 1): a longer --comm could never match. */
function processName(value: string): string {
  const bytes = Buffer.byteLength(value);
  if (bytes > 15) {
    throw new InvalidArgumentError(
      `"${value}" is ${bytes} bytes: the kernel keeps only the first 15 bytes of a process name, so it would never match (use "${Buffer.from(value).subarray(0, 15).toString()}")`,
    );
  }
  return value;
}

/** Parses --kinds: kinds (or groups of them) kmon knows and this platform records; a repeated --kinds adds to the list. */
const kindList =
  (offered: readonly EventKind[], platform: string, defaults?: readonly EventKind[]) => (value: string, previous?: EventKind[]) => {
  const names = value.split(',').map((k) => k.trim());
  const kinds = names.flatMap((name) => kindsNamed(name, offered));
  for (const kind of kinds) {
    if (offered.includes(kind as EventKind)) continue;
    const known = EVENT_KINDS.map(kindName).includes(kind);
    throw new InvalidArgumentError(
      `${known ? `${platform} has no ${kind} events` : `unknown kind ${kind}`} (known here: ${offered.map(kindName).join(', ')}); groups: ${[...Object.keys(KIND_GROUPS), 'all'].join(', ')}`,
    );
  }
  const earlier = previous === defaults ? [] : (previous ?? []);
  return [...new Set([...earlier, ...(kinds as EventKind[])])];
};

/** Parses --port. */
function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('expected a port number (1-65535)');
  return n;
}

const collect =
  <T>(parse: (v: string) => T) =>
  (value: string, previous: T[] = []) => [...previous, parse(value)];

/** Session options shared by watch and record: what the driver records. */
interface SessionFlags {
  kinds: EventKind[];
  port?: number[];
  cidr?: string[];
  excludeCidr?: string[];
  loopback?: boolean;
  argvBytes?: number;
  ringBytes?: number;
  wakeup?: SessionOptionsInput['wakeup'];
  threads?: boolean;
  self?: boolean;
  /** The process filter, applied in the kernel when the binding can. */
  pid?: number[];
  children?: boolean;
  uid?: number[];
  container?: string[];
  comm?: string[];
  path?: string[];
  excludePath?: string[];
  failed?: boolean;
}

/** What is printed: shared by watch and replay. */
interface OutputFlags {
  pid?: number[];
  comm?: string[];
  format: Format;
  count?: number;
  duration?: number;
  quiet?: boolean;
  utc?: boolean;
}

/**
 * The session options watch and record offer: those the binding honours, so
 * --help shows what works here and the rest is a usage error, not a silent no-op.
 */
function sessionOptions(command: Command, capabilities: BindingCapabilities): Command {
  const { platform } = capabilities;
  // Synthetic records need a source configured, which the command line does not offer.
  const kinds: readonly EventKind[] = capabilities.kinds.filter((kind) => kind !== 'synth');
  // The commands are pushed to; 'pull' needs a read loop.
  const wakeups = capabilities.wakeups.filter((wakeup) => wakeup !== 'pull');
  const offers = (path: OptionPath) => honours(capabilities, path);
  const defaultKinds = DEFAULT_KINDS.filter((kind) => kinds.includes(kind));
  command.addOption(
    new Option('-k, --kinds <list>', `event kinds or groups (process = exec,exit,fork; file, network, all), comma-separated (${kinds.map(kindName).join(', ')})`)
      .argParser(kindList(kinds, platform, defaultKinds))
      .default(defaultKinds),
  );
  if (offers('argvBytes')) command.option('--argv-bytes <n>', 'argv bytes captured per exec (longer argv is cut and flagged)', positiveInt);
  if (offers('ringBytes')) command.option('--ring-bytes <n>', 'kernel ring buffer size, a power of two', positiveInt);
  if (wakeups.length > 1) command.addOption(new Option('--wakeup <mode>', 'when the kernel wakes kmon').choices(wakeups));
  if (offers('threads')) command.option('--threads', 'also report thread creation');
  if (offers('excludeSelf')) command.option('--self', "include kmon's own process");
  if (offers('filters.process')) processFilterOptions(command);
  if (offers('filters.network')) {
    command
      .option('--port <port>', 'network events: only this port (repeatable)', collect(port))
      .option('--cidr <prefix>', 'network events: only addresses under this prefix, e.g. 10.0.0.0/8 (repeatable)', collect(String))
      .option('--exclude-cidr <prefix>', 'network events: not addresses under this prefix (repeatable)', collect(String))
      .option('--no-loopback', 'network events: leave out loopback addresses (127.0.0.0/8, ::1), as for egress');
  }
  if (offers('filters.file')) {
    command
      .option('--path <prefix>', 'file events: only paths under this directory (repeatable; filtered in the kernel)', collect(String))
      .option('--exclude-path <prefix>', 'file events: never paths under this directory (repeatable)', collect(String))
      .option('--failed', 'file events: also calls that failed (with their errno)');
  }
  return command;
}

/** Whether the binding honours an option: listed itself or a group above it ("filters" covers "filters.process"). */
const honours = (capabilities: BindingCapabilities, path: OptionPath) =>
  capabilities.options.some((option) => option === path || path.startsWith(`${option}.`));

/** The process filter the kernel applies: what is filtered out never reaches kmon. */
function processFilterOptions(command: Command): Command {
  return command
    .option('-p, --pid <pid>', 'only this process and its descendants, now and to come (repeatable)', collect(processId))
    .option('--no-children', '--pid: only the processes named, not their descendants')
    .option('-u, --uid <uid>', 'only processes of this real user id (repeatable)', collect(userId))
    .option('--container <id>', 'only processes in this container, by id or unique prefix (repeatable)', collect(String))
    .option('-c, --comm <name>', 'only processes with this name (repeatable)', collect(processName));
}

function stopOptions(command: Command): Command {
  return command
    .option('-n, --count <n>', 'stop after n events', positiveInt)
    .option('-d, --duration <seconds>', 'stop after this many seconds', positiveInt)
    .option('-q, --quiet', 'no status line (it is shown only when stderr is a terminal)');
}

/** What is printed; `jsFilters`: --pid and --comm select events in JavaScript (a replay, a binding without process filters). */
function outputOptions(command: Command, jsFilters = true): Command {
  stopOptions(command);
  if (jsFilters) {
    command
      .option('-p, --pid <pid>', 'only this process (repeatable); fork events match on the child too', collect(processId))
      .option('-c, --comm <name>', 'only processes with this name (repeatable)', collect(processName));
  }
  return command
    .addOption(new Option('-f, --format <format>', 'output format').choices(FORMATS).default('text'))
    .option('--utc', 'text times in UTC (default: local time with its offset, honouring TZ); json has ISO 8601 wallTime in UTC');
}

/** The network filter the flags ask for (prefixes are checked by @kmon/core's schema). */
const toNetworkFilter = (flags: SessionFlags) => ({
  ...(flags.cidr && { include: flags.cidr }),
  ...(flags.excludeCidr && { exclude: flags.excludeCidr }),
  ...(flags.port && { ports: flags.port }),
  ...(flags.loopback === false && { loopback: false }),
});

/** The kernel filters the flags ask for: network ones always, process ones where the binding has them. */
function filtersOf(flags: SessionFlags, processFilters: boolean) {
  const filters = {
    ...(processFilters && Object.keys(toProcessFilter(flags)).length > 0 && { process: toProcessFilter(flags) }),
    ...(Object.keys(toNetworkFilter(flags)).length > 0 && { network: toNetworkFilter(flags) }),
    ...((flags.path || flags.excludePath || flags.failed) && {
      file: { include: flags.path ?? [], exclude: flags.excludePath ?? [], failed: flags.failed ?? false },
    }),
  };
  return Object.keys(filters).length > 0 ? { filters } : {};
}

function userId(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) throw new InvalidArgumentError('expected a numeric user id');
  return n;
}

const toProcessFilter = (flags: SessionFlags) => ({
  ...(flags.pid && { pids: flags.pid }),
  ...(flags.children === false && { children: false }),
  ...(flags.uid && { uids: flags.uid }),
  ...(flags.container && { containers: flags.container }),
  ...(flags.comm && { comms: flags.comm }),
});

const toSession = (flags: SessionFlags, processFilters: boolean): SessionOptionsInput => ({
  kinds: flags.kinds,
  ...filtersOf(flags, processFilters),
  ...(flags.self && { excludeSelf: false }),
  ...(flags.threads && { threads: true }),
  ...(flags.argvBytes !== undefined && { argvBytes: flags.argvBytes }),
  ...(flags.ringBytes !== undefined && { ringBytes: flags.ringBytes }),
  ...(flags.wakeup !== undefined && { wakeup: flags.wakeup }),
});

const toStop = (flags: Pick<OutputFlags, 'count' | 'duration' | 'quiet'>) => ({
  ...(flags.count !== undefined && { count: flags.count }),
  ...(flags.duration !== undefined && { durationSec: flags.duration }),
  ...(flags.quiet !== undefined && { quiet: flags.quiet }),
});

const toOutput = (flags: OutputFlags, jsFilters = true) => ({
  format: flags.format,
  pids: jsFilters ? (flags.pid ?? []) : [],
  comms: jsFilters ? (flags.comm ?? []) : [],
  ...(flags.utc !== undefined && { utc: flags.utc }),
  ...toStop(flags),
});

/** "12M" -> bytes. */
function byteSize(value: string): number {
  const match = /^(\d+)([kmg]?)i?b?$/iu.exec(value.trim());
  if (!match) throw new InvalidArgumentError('expected a size such as 500000, 64k, 100M or 2G');
  const scale = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  const n = Number(match[1]) * scale;
  if (n <= 0) throw new InvalidArgumentError('expected a size above zero');
  return n;
}

function speed(value: string): 'max' | number {
  if (value === 'max') return 'max';
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("expected 'max' or a positive number (1 = recorded pace)");
  return n;
}

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Exit statuses, the same for every command: 0 also after Ctrl-C, SIGTERM or SIGHUP (a stop asked for is no failure). */
const EXIT = { ok: 0, runtime: 1, usage: 2 } as const;

/** Session options (as the library names them) and the flag attribute that sets each. */
const FLAG_OF_OPTION: Readonly<Record<string, string>> = {
  kinds: 'kinds',
  ringBytes: 'ringBytes',
  argvBytes: 'argvBytes',
  wakeup: 'wakeup',
  'filters.process.pids': 'pid',
  'filters.process.uids': 'uid',
  'filters.process.containers': 'container',
  'filters.process.comms': 'comm',
  'filters.network.include': 'cidr',
  'filters.network.exclude': 'excludeCidr',
  'filters.network.ports': 'port',
  'filters.file.include': 'path',
  'filters.file.exclude': 'excludePath',
};

interface OptionIssue {
  path: PropertyKey[];
  message: string;
}

/**
 * The problems of the session options the library refused, said with the
 * flag the user typed, its value and the limit (`--ring-bytes 1000: Too
 * small: expected number to be >=65536`), not the library's option names;
 * undefined when the error is not the schema's.
 */
function flagProblems(error: KmonOptionsError, command: Command): string[] | undefined {
  const issues = (error.cause as { issues?: OptionIssue[] } | undefined)?.issues;
  if (!issues) return undefined;
  return issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    const set = Object.keys(FLAG_OF_OPTION).find((option) => path === option || path.startsWith(`${option}.`));
    const flag = set && command.options.find((o) => o.attributeName() === FLAG_OF_OPTION[set]);
    if (!flag) return `${path || 'options'}: ${issue.message}`;
    // The value typed: the list's element at fault (filters.network.ports.1), else the whole value.
    const value: unknown = command.opts()[flag.attributeName()];
    const index = Number(path.slice(set.length + 1).split('.')[0] || NaN);
    const typed = Array.isArray(value) ? (Number.isInteger(index) ? value[index] : value.join(',')) : value;
    return `${flag.long} ${String(typed)}: ${issue.message}`;
  });
}

/** Builds the program; `run` resolves with the process exit code. */
export function createProgram(io: Io, config: KmonConfig = {}) {
  let exitCode: number = EXIT.ok;
  /** Says what went wrong, naming the command; options the library refused are usage errors, in the flags' terms. */
  const fail = (error: unknown, command: Command) => {
    const name = `kmon ${command.name()}`;
    if (error instanceof KmonOptionsError) {
      const problems = flagProblems(error, command);
      for (const problem of problems ?? [error.message]) io.stderr.write(`${name}: ${problem}\n`);
      io.stderr.write(problems || !error.hint ? `(run \`${name} --help\` for usage)\n` : `  hint: ${error.hint}\n`);
      exitCode = EXIT.usage;
      return;
    }
    if (isKmonError(error)) {
      io.stderr.write(`${name}: ${error.message}\n${error.hint ? `  hint: ${error.hint}\n` : ''}`);
    } else {
      io.stderr.write(`${name}: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
    exitCode = EXIT.runtime;
  };

  const program = new Command('kmon')
    .description('Kernel events (process, file, network) as a live stream, recorded and replayed')
    .version(VERSION, '-V, --version', 'print the version and exit')
    .addOption(new Option('--color <when>', 'colour text output (auto: on a terminal, unless NO_COLOR is set; FORCE_COLOR forces it)').choices(COLOR_MODES).default('auto'))
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(run `kmon --help` for usage)');

  const colour = () => colourEnabled(program.opts<{ color: ColorMode }>().color, io.env ?? {}, io.stdout.isTTY === true);
  /** Runs a command's work; its failure is reported in its name. */
  const attempt = (command: Command, work: () => Promise<void>) => work().catch((error: unknown) => fail(error, command));
  /** The command's one-line ending on stderr: `kmon watch: 12 events, 0 lost`. */
  const finish = (command: Command, line: string) => io.stderr.write(`kmon ${command.name()}: ${line}\n`);
  const { capabilities } = config.binding ?? nativeBinding;

  const kernelFilters = honours(capabilities, 'filters.process');
  const watchCommand: Command = fleetOptions(sessionOptions(outputOptions(program.command('watch'), !kernelFilters), capabilities))
    .option('--from <url>', "a fleet's events from NATS JetStream (nats://HOST:PORT, filled by `kmon export`) instead of this kernel")
    .description('print live kernel events until Ctrl-C; a summary goes to stderr')
    .argument('[command...]', 'run this command (after --) and watch only it and its descendants; kmon then exits with its exit code')
    .action((command: string[], flags: SessionFlags & OutputFlags & FleetFlags & { from?: string }) =>
      attempt(watchCommand, async () => {
        const options = { session: toSession(flags, kernelFilters), ...toOutput(flags, !kernelFilters), colour: colour() };
        const summary = await watch({ ...options, ...(command.length > 0 && { command }) }, io, watchSource(config, flags));
        finish(watchCommand, describeSummary(summary));
        if (summary.commandExit !== undefined) exitCode = summary.commandExit;
      }),
    );

  const recordCommand: Command = sessionOptions(stopOptions(program.command('record')), capabilities)
    .description('record live kernel events into a capture file (replay it with `kmon replay`)')
    .requiredOption('-o, --output <file>', 'the capture file to write')
    .option('--max-size <size>', 'stop once the capture reaches this size (e.g. 100M; it may pass it by one block)', byteSize)
    .action((flags: SessionFlags & Pick<OutputFlags, 'count' | 'duration' | 'quiet'> & { output: string; maxSize?: number }) =>
      attempt(recordCommand, async () => {
        const options = { session: toSession(flags, kernelFilters), file: flags.output, ...toStop(flags) };
        const summary = await record({ ...options, ...(flags.maxSize !== undefined && { maxBytes: flags.maxSize }) }, io, config);
        const { capture } = summary;
        finish(
          recordCommand,
          `recorded ${describeSummary(summary)} in ${summary.seconds.toFixed(1)} s: ` +
            `${capture.batches} batches (${capture.batchBytes} bytes of records), ${capture.counterReadings} counter readings, ` +
            `${capture.fileBytes} bytes in ${capture.blocks} blocks to ${flags.output}`,
        );
      }),
    );

  const exportCommand: Command = registerExport(
    sessionOptions(stopOptions(program.command('export')), capabilities),
    io,
    config,
    (work) => attempt(exportCommand, work),
    (flags: SessionFlags) => toSession(flags, kernelFilters),
  );

  const replayCommand: Command = replayFilterOptions(outputOptions(program.command('replay')))
    .description('print the events of a capture (from `kmon record`) as `kmon watch` prints live ones')
    .argument('<file>', 'the capture file')
    .option('-k, --kinds <list>', `only these event kinds or groups, comma-separated (${EVENT_KINDS.map(kindName).join(', ')})`, kindList(EVENT_KINDS, 'kmon'))
    .option('-s, --speed <speed>', "'max' (as fast as possible) or a factor of the recorded pace (1 = real time)", speed, 'max')
    .action((file: string, flags: OutputFlags & ReplayFilterFlags & { kinds?: EventKind[]; speed: 'max' | number }) =>
      attempt(replayCommand, async () => {
        const options = { ...toOutput(flags), colour: colour(), file, speed: flags.speed, ...(flags.kinds && { kinds: flags.kinds }), filters: replayFilters(flags) };
        const summary = await replay(options, io, config);
        finish(replayCommand, describeSummary(summary));
        const cut = describeEnding(summary.ending);
        if (cut) finish(replayCommand, cut);
      }),
    );

  const uiSubcommand: Command = uiCommand(sessionOptions(program.command('ui'), capabilities), {
    io,
    config,
    toSession: (flags: SessionFlags) => toSession(flags, kernelFilters),
    attempt: (work) => attempt(uiSubcommand, work),
  });

  const psSubcommand: Command = psCommand(program.command('ps'), { io, config, attempt: (work) => attempt(psSubcommand, work) });

  const doctorCommand: Command = program
    .command('doctor')
    .description('check privileges, kernel features and libraries kmon needs, attach a session per event family, and say how to fix what is missing')
    .addOption(new Option('-f, --format <format>', 'output format').choices(CHECK_FORMATS).default('text'))
    .action((flags: { format: CheckFormat }) =>
      attempt(doctorCommand, async () => {
        const checks = await runChecks(config);
        io.stdout.write(formatChecks(checks, flags.format) + '\n');
        if (checks.some((c) => !c.ok)) exitCode = EXIT.runtime;
      }),
    );

  return {
    program,
    async run(argv: string[]): Promise<number> {
      try {
        await program.parseAsync(argv, { from: 'user' });
      } catch (error) {
        if (error instanceof CommanderError) {
          // Commander has printed its message; help and version are not failures.
          return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
        }
        fail(error, program);
      }
      return exitCode;
    },
  };
}
