// Connecting to NATS: servers, TLS and credentials passed through to the
// official client, its own reconnect logic, and errors that name the server
// but never a secret (credentials given in a URL are taken out of it).
import { readFileSync } from 'node:fs';
import {
  AuthorizationError,
  connect,
  credsAuthenticator,
  type Authenticator,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
import { KmonNatsError } from './errors.js';

export interface NatsConnectionOptions {
  /** nats://HOST:PORT (or tls://), one or several. `nats://user:pass@host` works; the URL is never printed with them. */
  servers: string | readonly string[];
  user?: string;
  pass?: string;
  token?: string;
  /** A .creds file (JWT and NKEY seed, as `nsc` writes it). */
  credsFile?: string;
  /** TLS: true for the system's CAs, or files (a client certificate for mutual TLS). */
  tls?: boolean | { caFile?: string; certFile?: string; keyFile?: string };
  /** The client's name, as the server's monitoring shows it. */
  name?: string;
}

interface ParsedServer {
  /** The URL without credentials: what messages show. */
  display: string;
  user?: string;
  pass?: string;
}

function parseServer(server: string): ParsedServer {
  const url = new URL(server.includes('://') ? server : `nats://${server}`);
  const user = url.username ? decodeURIComponent(url.username) : undefined;
  const pass = url.password ? decodeURIComponent(url.password) : undefined;
  url.username = '';
  url.password = '';
  const display = `${url.protocol}//${url.host}`;
  return { display, ...(user !== undefined && { user }), ...(pass !== undefined && { pass }) };
}

/** The servers as messages may show them: no credentials. */
export function describeServers(servers: NatsConnectionOptions['servers']): string {
  return (typeof servers === 'string' ? [servers] : servers).map((s) => parseServer(s).display).join(', ');
}

function credsFrom(file: string): Authenticator {
  try {
    return credsAuthenticator(readFileSync(file));
  } catch (error) {
    throw new KmonNatsError(`cannot read the NATS credentials file ${file}: ${(error as Error).message}`, {
      hint: 'pass the .creds file `nsc generate creds` wrote (or that the server operator gave you)',
    });
  }
}

export function clientOptions(options: NatsConnectionOptions): NodeConnectionOptions {
  const parsed = (typeof options.servers === 'string' ? [options.servers] : options.servers).map(parseServer);
  const user = options.user ?? parsed.find((s) => s.user !== undefined)?.user;
  const pass = options.pass ?? parsed.find((s) => s.pass !== undefined)?.pass;
  const tls = options.tls === true ? {} : options.tls === false || options.tls === undefined ? undefined : options.tls;
  return {
    servers: parsed.map((s) => s.display),
    // Reconnect for ever: the exporter buffers (bounded, counted) meanwhile.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    ...(options.name !== undefined && { name: options.name }),
    ...(user !== undefined && { user }),
    ...(pass !== undefined && { pass }),
    ...(options.token !== undefined && { token: options.token }),
    ...(options.credsFile !== undefined && { authenticator: credsFrom(options.credsFile) }),
    ...(tls && { tls }),
  };
}

/** What went wrong connecting, in words that name the server and never a credential. */
function connectError(error: unknown, where: string, options: NatsConnectionOptions): KmonNatsError {
  const secrets = [options.pass, options.token, ...[options.servers].flat().map((s) => parseServer(s).pass)];
  const scrub = (text: string) => secrets.reduce<string>((t, s) => (s ? t.split(s).join('***') : t), text);
  const message = scrub(error instanceof Error ? error.message : String(error));
  if (error instanceof AuthorizationError || /authoriz|authenticat/iu.test(message)) {
    return new KmonNatsError(`NATS server ${where} refused the credentials (${message})`, {
      hint: `check the user and password, token or .creds file for ${where} (kmon never prints them)`,
    });
  }
  return new KmonNatsError(`cannot connect to NATS at ${where}: ${message}`, {
    hint: `is nats-server running there with JetStream (nats-server -js)? check the host, port and TLS settings for ${where}`,
  });
}

export async function connectNats(options: NatsConnectionOptions): Promise<NatsConnection> {
  const where = describeServers(options.servers);
  try {
    return await connect(clientOptions(options));
  } catch (error) {
    if (error instanceof KmonNatsError) throw error;
    throw connectError(error, where, options);
  }
}
