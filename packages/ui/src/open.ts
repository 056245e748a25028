// A ui over the live kernel or over a capture: the session, then the server.
import { replayBinding } from '@kmon/capture';
import {
  createKmon,
  nativeBinding,
  parseSessionOptions,
  parseSessionOptionsFor,
  type KernelBinding,
  type Kmon,
  type KmonConfig,
  type SessionOptionsInput,
} from 'kmon';
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

/**
 * The session's options, with the process snapshot delivered to the page
 * when the binding takes one (a capture holds it when its session did): the
 * tree then starts with the processes running at attach, each under its
 * parent, rather than with whichever of them happen to show up in events.
 */
function withSnapshot(session: SessionOptionsInput, binding: KernelBinding): SessionOptionsInput {
  const { kinds } = parseSessionOptionsFor(binding.capabilities, session);
  const can = binding.capabilities.kinds.includes('process');
  return can && !kinds.includes('process') ? { ...session, kinds: [...kinds, 'process'] } : session;
}

export async function openUi(options: OpenUiOptions, config: KmonConfig = {}): Promise<OpenUi> {
  const { replay } = options;
  const replaying = replay ? replayBinding(replay.file, { speed: replay.speed }) : undefined;
  const binding = replaying ?? config.binding ?? nativeBinding;
  const session = withSnapshot(replay ? {} : (options.session ?? {}), binding);
  const kmon = createKmon(session, { ...config, binding });
  const progress = () => {
    const { readBytes, fileBytes } = replaying!.progress();
    return fileBytes > 0 ? readBytes / fileBytes : 0;
  };
  const server = await startUiServer({
    kmon,
    mode: replay ? 'replay' : 'live',
    wakeup: replay ? `replay (${replay.speed === 'max' ? 'max speed' : `${replay.speed}x`})` : parseSessionOptions(session).wakeup,
    ...(options.host !== undefined && { host: options.host }),
    ...(options.port !== undefined && { port: options.port }),
    viewCapacity: options.viewCapacity ?? (replay ? REPLAY_VIEW_CAPACITY : undefined),
    ...(replaying && { progress }),
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
