// The kmon command line. Parsing and validation only: the work is in
// watch.ts and doctor.ts, and every failure ends as one clear message.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { eventKinds, isKmonError, type KmonConfig, type KmonEventKind } from 'kmon';
import { FORMATS, type Format } from './format.js';
import { formatChecks, runChecks } from './doctor.js';
import type { Io } from './io.js';
import { watch } from './watch.js';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

function kindList(value: string): KmonEventKind[] {
  const kinds = value.split(',').map((k) => k.trim());
  const unknown = kinds.filter((k) => !(eventKinds as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(`unknown kind ${unknown.join(', ')} (known: ${eventKinds.join(', ')})`);
  }
  return kinds as KmonEventKind[];
}

const collect =
  <T>(parse: (v: string) => T) =>
  (value: string, previous: T[] = []) => [...previous, parse(value)];

interface WatchFlags {
  kinds: KmonEventKind[];
  pid?: number[];
  comm?: string[];
  format: Format;
  count?: number;
  duration?: number;
  argvBytes?: number;
  ringBytes?: number;
  wakeup?: 'each' | 'adaptive' | 'poll';
  threads?: boolean;
  self?: boolean;
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

  program
    .command('watch')
    .description('print live kernel events until Ctrl-C; a summary goes to stderr')
    .option('-k, --kinds <list>', `event kinds, comma-separated (${eventKinds.join(', ')})`, kindList, ['exec', 'exit', 'fork'])
    .option('-p, --pid <pid>', 'only this process (repeatable); fork events match on the child too', collect(positiveInt))
    .option('-c, --comm <name>', 'only processes with this name (repeatable)', collect(String))
    .addOption(new Option('-f, --format <format>', 'output format').choices(FORMATS).default('text'))
    .option('-n, --count <n>', 'stop after n events', positiveInt)
    .option('-d, --duration <seconds>', 'stop after this many seconds', positiveInt)
    .option('--argv-bytes <n>', 'argv bytes captured per exec (longer argv is cut and flagged)', positiveInt)
    .option('--ring-bytes <n>', 'kernel ring buffer size, a power of two', positiveInt)
    .addOption(new Option('--wakeup <mode>', 'when the kernel wakes kmon').choices(['each', 'adaptive', 'poll']))
    .option('--threads', 'also report thread creation')
    .option('--self', "include kmon's own process")
    .action(async (flags: WatchFlags) => {
      const session = {
        kinds: flags.kinds,
        excludeSelf: !flags.self,
        threads: flags.threads ?? false,
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
