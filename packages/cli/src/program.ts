// The kmon command line. Parsing and validation only: the work is in
// watch.ts and doctor.ts, and every failure ends as one clear message.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import {
  DEFAULT_KINDS,
  EVENT_KINDS,
  isKmonError,
  nativeBinding,
  type BindingCapabilities,
  type KmonConfig,
  type EventKind,
  type OptionPath,
  type SessionOptionsInput,
} from 'kmon';
import { FORMATS, type Format } from './format.js';
import { formatChecks, runChecks } from './doctor.js';
import type { Io } from './io.js';
import { watch } from './watch.js';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

/** Parses --kinds: kinds kmon knows and this platform records. */
const kindList = (offered: readonly EventKind[], platform: string) => (value: string) => {
  const kinds = value.split(',').map((k) => k.trim());
  for (const kind of kinds) {
    if (offered.includes(kind as EventKind)) continue;
    const known = (EVENT_KINDS as readonly string[]).includes(kind);
    throw new InvalidArgumentError(
      `${known ? `${platform} has no ${kind} events` : `unknown kind ${kind}`} (known here: ${offered.join(', ')})`,
    );
  }
  return kinds as EventKind[];
};

const collect =
  <T>(parse: (v: string) => T) =>
  (value: string, previous: T[] = []) => [...previous, parse(value)];

interface WatchFlags {
  kinds: EventKind[];
  pid?: number[];
  comm?: string[];
  format: Format;
  count?: number;
  duration?: number;
  argvBytes?: number;
  ringBytes?: number;
  wakeup?: SessionOptionsInput['wakeup'];
  threads?: boolean;
  self?: boolean;
}

/**
 * The session options `watch` offers: those the binding honours, so --help
 * shows what works here and the rest is a usage error, not a silent no-op.
 */
function watchOptions(capabilities: BindingCapabilities): Option[] {
  const { platform } = capabilities;
  // Synthetic records need a source configured, which the command line does not offer.
  const kinds: readonly EventKind[] = capabilities.kinds.filter((kind) => kind !== 'synth');
  // watch is pushed to; 'pull' needs a read loop.
  const wakeups = capabilities.wakeups.filter((wakeup) => wakeup !== 'pull');
  const offers = (path: OptionPath) => capabilities.options.includes(path);
  const options = [
    new Option('-k, --kinds <list>', `event kinds, comma-separated (${kinds.join(', ')})`)
      .argParser(kindList(kinds, platform))
      .default(DEFAULT_KINDS.filter((kind) => kinds.includes(kind))),
  ];
  if (offers('argvBytes')) {
    options.push(new Option('--argv-bytes <n>', 'argv bytes captured per exec (longer argv is cut and flagged)').argParser(positiveInt));
  }
  if (offers('ringBytes')) options.push(new Option('--ring-bytes <n>', 'kernel ring buffer size, a power of two').argParser(positiveInt));
  if (wakeups.length > 1) options.push(new Option('--wakeup <mode>', 'when the kernel wakes kmon').choices(wakeups));
  if (offers('threads')) options.push(new Option('--threads', 'also report thread creation'));
  if (offers('excludeSelf')) options.push(new Option('--self', "include kmon's own process"));
  return options;
}

/** Builds the program; `run` resolves with the process exit code. */
export function createProgram(io: Io, config: KmonConfig = {}) {
  let exitCode = 0;
  const fail = (error: unknown) => {
    if (isKmonError(error)) {
      io.stderr.write(`kmon: ${error.message}\n${error.hint ? `  hint: ${error.hint}\n` : ''}`);
    } else {
      io.stderr.write(`kmon: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
    exitCode = 1;
  };

  const program = new Command('kmon')
    .description('Kernel events (processes; files and network to come) as a live stream')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(run `kmon --help` for usage)');

  const { capabilities } = config.binding ?? nativeBinding;
  const watchCommand = program
    .command('watch')
    .description('print live kernel events until Ctrl-C; a summary goes to stderr');
  for (const option of watchOptions(capabilities)) watchCommand.addOption(option);
  watchCommand
    .option('-p, --pid <pid>', 'only this process (repeatable); fork events match on the child too', collect(positiveInt))
    .option('-c, --comm <name>', 'only processes with this name (repeatable)', collect(String))
    .addOption(new Option('-f, --format <format>', 'output format').choices(FORMATS).default('text'))
    .option('-n, --count <n>', 'stop after n events', positiveInt)
    .option('-d, --duration <seconds>', 'stop after this many seconds', positiveInt)
    .action(async (flags: WatchFlags) => {
      const session: SessionOptionsInput = {
        kinds: flags.kinds,
        ...(flags.self && { excludeSelf: false }),
        ...(flags.threads && { threads: true }),
        ...(flags.argvBytes !== undefined && { argvBytes: flags.argvBytes }),
        ...(flags.ringBytes !== undefined && { ringBytes: flags.ringBytes }),
        ...(flags.wakeup !== undefined && { wakeup: flags.wakeup }),
      };
      try {
        const summary = await watch(
          {
            session,
            format: flags.format,
            pids: flags.pid ?? [],
            comms: flags.comm ?? [],
            ...(flags.count !== undefined && { count: flags.count }),
            ...(flags.duration !== undefined && { durationSec: flags.duration }),
          },
          io,
          config,
        );
        io.stderr.write(`kmon: ${summary.events} events, ${summary.lost} lost\n`);
      } catch (error) {
        fail(error);
      }
    });

  program
    .command('doctor')
    .description('check privileges and kernel features kmon needs, and say how to fix what is missing')
    .action(async () => {
      const checks = await runChecks(config);
      io.stdout.write(formatChecks(checks) + '\n');
      if (checks.some((c) => !c.ok)) exitCode = 1;
    });

  return {
    program,
    async run(argv: string[]): Promise<number> {
      try {
        await program.parseAsync(argv, { from: 'user' });
      } catch (error) {
        if (error instanceof CommanderError) {
          // Commander has printed its message; help and version are not failures.
          return error.exitCode === 0 ? 0 : 2;
        }
        fail(error);
      }
      return exitCode;
    },
  };
}
