// `kmon ui`: a live view in the browser (see @kmon/ui), until Ctrl-C. The
// address it prints carries the token every request needs.
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { KmonConfig, SessionOptionsInput } from 'kmon';
import { openUi } from '@kmon/ui';
import type { Io } from './io.js';

interface UiFlags {
  host: string;
  uiPort: number;
  replay?: string;
  speed: 'max' | number;
}

interface UiContext<F> {
  io: Io;
  config: KmonConfig;
  /** The session options of the flags `command` was given by sessionOptions(). */
  toSession: (flags: F) => SessionOptionsInput;
  attempt: (work: () => Promise<void>) => Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number (0-65535; 0: any free port)');
  return n;
}

function replaySpeed(value: string): 'max' | number {
  const n = Number(value);
  if (value === 'max') return 'max';
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("expected 'max' or a positive number (1 = recorded pace)");
  return n;
}

export function uiCommand<F>(command: Command, { io, config, toSession, attempt }: UiContext<F>): Command {
  return command
    .description('serve a live view in the browser: process tree, events with filters, rates and losses (until Ctrl-C)')
    .option('--host <address>', 'address to listen on (anything but loopback exposes kernel events to the network)', '127.0.0.1')
    .option('--ui-port <port>', 'port the page is served on (0: any free port)', portNumber, 0)
    .option('--replay <file>', 'show a capture (from `kmon record`) instead of the live kernel; no root needed')
    .option('--speed <speed>', "--replay: 'max' or a factor of the recorded pace (1 = real time)", replaySpeed, 'max')
    .action((flags: UiFlags & F) =>
      attempt(async () => {
        if (!LOOPBACK.has(flags.host)) {
          io.stderr.write(`kmon: warning: listening on ${flags.host}: anyone who can reach it and has the address below sees this machine's processes, files and connections\n`);
        }
        const ui = await openUi(
          {
            host: flags.host,
            port: flags.uiPort,
            ...(flags.replay ? { replay: { file: flags.replay, speed: flags.speed } } : { session: toSession(flags) }),
          },
          config,
        );
        io.stdout.write(`kmon ui: open ${ui.server.url}\n`);
        await new Promise<void>((resolve) => {
          const signals = io.onStopSignal(() => {
            signals.dispose();
            resolve();
          });
        });
        await ui.close();
      }),
    );
}
