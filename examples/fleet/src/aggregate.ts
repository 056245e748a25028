// Fleet aggregator: reads the records that `kmon export` processes publish to
// NATS JetStream and prints, every 10 s, per host, process starts per minute
// and failed exits.
//
//   node examples/fleet/dist/aggregate.js nats://127.0.0.1:4222 web-1 web-2
//
// It reads what is published from now on; FROM=all reads what the stream
// keeps too (counted as arriving now).
// (`bash examples/fleet/run.sh` starts a server, two exporters and this.)
import { describeServers } from '@kmon/nats';
import { isKmonError } from '@kmon/rx';
import { fleet } from './fleet.js';
import { FleetTally, formatFigures } from './tally.js';

const [server, ...hosts] = process.argv.slice(2);
if (!server || hosts.length === 0) {
  console.error('usage: aggregate.js nats://HOST:PORT HOST_NAME...   (the --host names the exporters were given)');
  process.exit(2);
}

const tally = new FleetTally();
const hostsFleet = fleet({ servers: server, from: process.env.FROM === 'all' ? 'all' : 'new' }, hosts);
const print = () => console.log(`${new Date().toISOString()}\n${formatFigures(tally.figures(Date.now()))}\n`);
const ticker = setInterval(print, 10_000);
const subscription = hostsFleet.messages$.subscribe({
  next: ({ host, message }) => tally.add(host, message, Date.now()),
  error: (error: unknown) => {
    console.error(isKmonError(error) ? `${error.message}\n  hint: ${error.hint}` : error);
    process.exitCode = 1;
    clearInterval(ticker);
  },
});
console.error(`aggregating ${hosts.join(', ')} from ${describeServers(server)}; Ctrl-C to stop`);
process.once('SIGINT', () => {
  print();
  hostsFleet.stop();
  subscription.unsubscribe();
  clearInterval(ticker);
});
