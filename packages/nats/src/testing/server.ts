// A real nats-server with JetStream for tests and the bench: on a free
// loopback port, its store in a fresh temporary directory. Stopping keeps the
// store, so restart() brings the same streams back (a server outage).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NatsServerOptions {
  /** Require this user and password. */
  user?: string;
  pass?: string;
  /** Require this token. */
  token?: string;
}

export interface NatsServer {
  /** nats://127.0.0.1:PORT (no credentials in it). */
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** Stops the server (SIGTERM, then waits for it); the store stays. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same store. */
  restart(): Promise<void>;
  /** Stops it and removes the store. */
  dispose(): Promise<void>;
}

/** A port nothing listens on now (the kernel's pick for port 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Spawns nats-server and resolves once it accepts clients (its "ready" log line). */
function launch(args: string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn('nats-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('Server is ready')) {
        child.stderr?.off('data', onData);
        child.stderr?.resume();
        resolve(child);
      }
    };
    child.stderr?.on('data', onData);
    child.once('error', (error) => reject(new Error(`nats-server could not start (${error.message}); install it: apt-get install nats-server`)));
    child.once('exit', (code) => reject(new Error(`nats-server exited with ${code} before it was ready:\n${log}`)));
  });
}

function stopped(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const storeDir = mkdtempSync(join(tmpdir(), 'kmon-nats-'));
  const port = await freePort();
  const args = ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir];
  if (options.user !== undefined) args.push('--user', options.user, '--pass', options.pass ?? '');
  if (options.token !== undefined) args.push('--auth', options.token);
  let child: ChildProcess | undefined = await launch(args);
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    async stop() {
      if (child) await stopped(child);
      child = undefined;
    },
    async restart() {
      if (child) await stopped(child);
      child = await launch(args);
    },
    async dispose() {
      if (child) await stopped(child);
      child = undefined;
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
