// A ui over the live kernel or over a capture: the session, then the server.
import { readCaptureHeader, replayBinding, wallTimeMs } from '@kmon/capture';
import { createKmon, parseSessionOptions, type Kmon, type KmonConfig, type SessionOptionsInput } from 'kmon';
import { startUiServer, type UiServer, type UiServerOptions } from './server.js';

export interface OpenUiOptions extends Pick<UiServerOptions, 'host' | 'port' | 'viewCapacity'> {
  /** The live session's options (ignored with `replay`). */
  session?: SessionOptionsInput;
  /** Show this capture instead of the live kernel, at `speed` ('max', or a factor of the recorded pace). */
  replay?: { file: string; speed: 'max' | number };
}

export interface OpenUi {
  server: UiServer;
  kmon: Kmon;
  /** Stops the session and the server. */
  close(): Promise<void>;
}

/** A replay is read ahead into the view at full speed: its views hold more rows before dropping. */
const REPLAY_VIEW_CAPACITY = 200_000;

export async function openUi(options: OpenUiOptions, config: KmonConfig = {}): Promise<OpenUi> {
  const { replay } = options;
  const header = replay ? await readCaptureHeader(replay.file) : undefined;
  const binding = replay ? replayBinding(replay.file, { speed: replay.speed }) : undefined;
  const kmon = createKmon(replay ? {} : (options.session ?? {}), { ...config, ...(binding && { binding }) });
  const progress = () => {
    const { readBytes, fileBytes } = binding!.progress();
    return fileBytes > 0 ? readBytes / fileBytes : 0;
  };
  const server = await startUiServer({
    kmon,
    mode: replay ? 'replay' : 'live',
    wakeup: replay ? `replay (${replay.speed === 'max' ? 'max speed' : `${replay.speed}x`})` : parseSessionOptions(options.session ?? {}).wakeup,
    ...(options.host !== undefined && { host: options.host }),
    ...(options.port !== undefined && { port: options.port }),
    viewCapacity: options.viewCapacity ?? (replay ? REPLAY_VIEW_CAPACITY : undefined),
    ...(binding && { progress }),
    ...(header && { wallTimeMs: (ns: bigint) => wallTimeMs(header, ns) }),
  });
  return {
    server,
    kmon,
    async close() {
      kmon.stop();
      await server.close();
    },
  };
}
