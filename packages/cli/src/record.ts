// `kmon record -o FILE`: a live session written to a capture (see
// @kmon/capture) until Ctrl-C, --count, --duration or --max-size, then an
// exact summary of what the capture holds.
import { CaptureWriter, recordingBinding, type CaptureSummary } from '@kmon/capture';
import { createKmon, nativeBinding, type KmonConfig, type SessionOptionsInput } from 'kmon';
import type { Io } from './io.js';
import { runStream, unprinted, type StreamSummary } from './stream.js';

export interface RecordOptions {
  session: SessionOptionsInput;
  file: string;
  count?: number;
  durationSec?: number;
  /** Stop once the capture file has reached this many bytes. */
  maxBytes?: number;
  quiet?: boolean;
}

export interface RecordSummary extends StreamSummary {
  capture: CaptureSummary;
}

export async function record(options: RecordOptions, io: Io, config: KmonConfig = {}): Promise<RecordSummary> {
  const writer = new CaptureWriter(options.file);
  const binding = recordingBinding(config.binding ?? nativeBinding, writer);
  const kmon = createKmon(options.session, { ...config, binding });
  const maxBytes = options.maxBytes ?? Infinity;
  const output = unprinted(options);
  const seen = await runStream(kmon, output, io, {
    command: 'record',
    banner: `recording to ${options.file}; Ctrl-C to stop`,
    shouldStop: () => writer.summary.fileBytes >= maxBytes,
  });
  writer.end();
  return { ...seen, capture: writer.summary };
}
