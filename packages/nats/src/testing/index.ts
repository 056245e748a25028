// Test support: a real nats-server (JetStream, loopback, temporary store).
export { startNatsServer, type NatsServer, type NatsServerOptions } from './server.js';
