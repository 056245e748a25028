import { KmonError } from '@kmon/core';

/** A NATS server refused, could not be reached, or holds a stream that does not fit. */
export class KmonNatsError extends KmonError {
  override readonly name = 'KmonNatsError';
  constructor(message: string, details: ConstructorParameters<typeof KmonError>[2] = {}) {
    super('KMON_NATS', message, details);
  }
}
