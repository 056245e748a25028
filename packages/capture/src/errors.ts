import { KmonError } from '@kmon/core';

/** A capture that cannot be read (or written): where, and what to do about it. */
export class KmonCaptureError extends KmonError {
  override readonly name = 'KmonCaptureError';
  /** Byte offset in the capture file where the problem was found (-1: not about a place in the file). */
  readonly offset: number;

  constructor(message: string, offset: number, hint: string, cause?: unknown) {
    super('KMON_CAPTURE', offset >= 0 ? `${message} (capture byte ${offset})` : message, { hint, cause });
    this.offset = offset;
  }
}

export const CORRUPT_HINT = 'the capture file is damaged: copy it again, or replay it with a kmon that wrote it';
