// Example detection: a shell started by a web server, the classic sign of a
// web shell or of command injection through a CGI script or a template.
//
//   pnpm --filter @kmon/examples web-shell                   live (root)
//   pnpm --filter @kmon/examples web-shell -- capture.kmon   on a capture from `kmon record`
//
// Its test runs on fixtures/webshell.kmon, a capture of a real lighttpd
// running a CGI script through /bin/sh (scripts/record-webshell-fixture.sh).
import { replayBinding } from '@kmon/capture';
import { createKmon, ofKind, safe, shellWord, type ContextMessage, type ExecEvent, type LostNotice } from 'kmon';
import { type OperatorFunction, filter, map, scan } from 'rxjs';

export const WEB_SERVERS: readonly string[] = ['nginx', 'apache2', 'httpd', 'lighttpd', 'caddy', 'php-fpm', 'uwsgi', 'gunicorn', 'tomcat'];
export const SHELLS: readonly string[] = ['sh', 'bash', 'dash', 'zsh', 'ash', 'ksh', 'busybox'];

export interface WebShell {
  /** The shell process. */
  pid: number;
  startTime: bigint;
  /** Its command line (a script run through #! has the interpreter first). */
  argv: string[];
  /** The web server that started it, by program name, and its pid. */
  server: string;
  serverPid: number;
  time: bigint;
}

const basename = (path: string) => path.slice(path.lastIndexOf('/') + 1);
/** php-fpm workers are named after the version (php-fpm8.2). */
const isWebServer = (name: string) => WEB_SERVERS.some((server) => name === server || name.startsWith(`${server}.`) || /^php-fpm\d/.test(name));
const isShell = (e: ExecEvent) => SHELLS.includes(basename(e.filename)) || SHELLS.includes(basename(e.argv[0] ?? ''));

interface State {
  /** Program names of live processes by process key: from their exec, or (started before kmon) from their fork events. */
  names: Map<string, string>;
  out: WebShell | LostNotice | undefined;
}

/** An exit lost to a full ring would leave its entry forever: bound the map. */
const MAX_TRACKED = 65_536;

function remember(names: Map<string, string>, key: string, name: string) {
  names.set(key, name);
  if (names.size > MAX_TRACKED) names.delete(names.keys().next().value!);
}

/**
 * Shells whose parent is a web server. A server that started before kmon is
 * known by the name its fork events carry (a fork's process context is the
 * forking process). Loss notices pass through: a lost exec may have been a
 * web shell.
 */
export function webShells(): OperatorFunction<ContextMessage, WebShell | LostNotice> {
  return (source) =>
    source.pipe(
      ofKind('fork', 'exec', 'exit', 'lost'),
      scan(
        (state: State, m) => {
          state.out = undefined;
          if (m.kind === 'lost') state.out = m;
          else if (m.kind === 'fork') {
            if (!m.thread && !state.names.has(m.process.key!)) remember(state.names, m.process.key!, m.comm);
          } else if (m.kind === 'exit') state.names.delete(m.process.key!);
          else {
            const key = m.process.key!;
            const parent = m.process.parentKey === undefined ? undefined : state.names.get(m.process.parentKey);
            if (parent !== undefined && isWebServer(parent) && isShell(m)) {
              state.out = { pid: m.pid, startTime: m.startTime, argv: m.argv, server: parent, serverPid: m.ppid, time: m.time };
            }
            remember(state.names, key, basename(m.filename));
          }
          return state;
        },
        { names: new Map(), out: undefined },
      ),
      map((state) => state.out),
      filter((out): out is WebShell | LostNotice => out !== undefined),
    );
}

export function describeWebShell(w: WebShell | LostNotice): string {
  if ('cause' in w) return `!! ${w.count} record(s) lost (${w.cause}): a web shell may have been missed`;
  // The command line is the attacker's to choose: shown escaped, never interpreted by the terminal.
  return safe`web shell: ${w.server} (pid ${w.serverPid}) started ${w.argv.map(shellWord)} (pid ${w.pid})`.text;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const capture = process.argv[2];
  const kmon = createKmon({ kinds: ['exec', 'exit', 'fork'] }, capture ? { binding: replayBinding(capture) } : {});
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => kmon.stop());
  kmon.events$.pipe(webShells()).subscribe({
    next: (w) => console.log(describeWebShell(w)),
    error: (e: Error & { hint?: string }) => {
      console.error(`web-shell: ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}`);
      process.exitCode = 1;
    },
  });
}
