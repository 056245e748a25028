// A fleet's messages, each with its host: one session over natsBinding for
// every host asked for (each event, and each loss notice, says its host).
import { natsBinding, type NatsBindingOptions } from '@kmon/nats';
import { createKmon, type KmonMessage } from '@kmon/rx';
import { map, type Observable } from 'rxjs';

export interface Fleet {
  messages$: Observable<{ host: string; message: KmonMessage }>;
  stop(): void;
}

export function fleet(options: Omit<NatsBindingOptions, 'hosts'>, hosts: readonly string[]): Fleet {
  const kmon = createKmon({ kinds: ['exec', 'exit'] }, { binding: natsBinding({ ...options, hosts }) });
  return {
    // A fleet session hands every batch over with its host, so every message has one.
    messages$: kmon.events$.pipe(map((message) => ({ host: message.host!, message }))),
    stop: () => kmon.stop(),
  };
}
