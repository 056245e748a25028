// `kmon watch`: live events until Ctrl-C (or --count / --duration), then a
// one-line summary on stderr.
import { createKmon, type KmonConfig, type SessionOptionsInput } from 'kmon';
import type { Io } from './io.js';
import { runStream, type OutputOptions, type StreamSummary } from './stream.js';

export interface WatchOptions extends OutputOptions {
  session: SessionOptionsInput;
}

export type WatchSummary = StreamSummary;

export function watch(options: WatchOptions, io: Io, config: KmonConfig = {}): Promise<WatchSummary> {
  return runStream(createKmon(options.session, config), options, io, { banner: 'watching; Ctrl-C to stop' });
}
