// A fleet's messages, each with its host: one session over natsBinding per
// host (events carry no host; the session they came through does).
import { natsBinding, type NatsBindingOptions } from '@kmon/nats';
import { createKmon, type Kmon, type KmonMessage } from '@kmon/rx';
import { map, merge, type Observable } from 'rxjs';

export interface Fleet {
  messages$: Observable<{ host: string; message: KmonMessage }>;
  stop(): void;
}

export function fleet(options: Omit<NatsBindingOptions, 'hosts'>, hosts: readonly string[]): Fleet {
  const sessions: Array<{ host: string; kmon: Kmon }> = hosts.map((host) => ({
    host,
    kmon: createKmon({ kinds: ['exec', 'exit'] }, { binding: natsBinding({ ...options, hosts: [host] }) }),
  }));
  return {
    messages$: merge(...sessions.map(({ host, kmon }) => kmon.events$.pipe(map((message) => ({ host, message }))))),
    stop: () => sessions.forEach(({ kmon }) => kmon.stop()),
  };
}
