// `kmon replay FILE`: a capture through the same pipeline and output as
// `kmon watch`, at its recorded pace (--speed) or as fast as possible, with a
// progress bar on a terminal; says so when the capture was cut.
import { readCaptureHeader, recordedOnThisBoot, replayBinding, type CaptureEnding } from '@kmon/capture';
import { createKmon, type Filters, type KmonConfig } from 'kmon';
import type { Io } from './io.js';
import { replaySelection } from './replay-filter.js';
import { runStream, type OutputOptions, type StreamSummary } from './stream.js';

export interface ReplayOptions extends OutputOptions {
  file: string;
  speed: 'max' | number;
  /** watch's filters, applied to the recorded events (see replay-filter.ts). */
  filters?: Filters;
}

export interface ReplaySummary extends StreamSummary {
  ending: CaptureEnding | undefined;
}

export async function replay(options: ReplayOptions, io: Io, config: KmonConfig = {}): Promise<ReplaySummary> {
  const header = await readCaptureHeader(options.file);
  const binding = replayBinding(options.file, { speed: options.speed });
  // Event context names users and cgroups (containers) with this host's lookups: right only for a capture of this boot.
  const kmon = createKmon({}, { ...config, binding, ...(!recordedOnThisBoot(header) && { host: {} }) });
  // Event wall times come from the capture's recorded session clock (the replay binding's clock()).
  const where = options.filters && replaySelection(options.filters);
  const seen = await runStream(kmon, { ...options, ...(where && { where }) }, io, {
    command: 'replay',
    banner: `replaying ${options.file} (recorded ${header.startedAt} on ${header.host.hostname}, ${header.host.kernel})`,
    status: { progress: () => binding.progress() },
  });
  return { ...seen, ending: binding.ending };
}

/** What to tell the user about how the capture ended, if anything. */
export function describeEnding(ending: CaptureEnding | undefined): string | undefined {
  if (!ending || ending.complete) return undefined;
  const dropped = ending.cutBytes > 0 ? `its last ${ending.cutBytes} bytes (an incomplete block) were dropped` : 'it ends between blocks';
  return `the capture was cut (no end marker): read ${ending.readBytes} bytes; ${dropped}`;
}
