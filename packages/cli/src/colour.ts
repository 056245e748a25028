// Whether to colour, as the --color flag, NO_COLOR and FORCE_COLOR say
// (the same rules as picocolors' own detection, with the environment and the
// terminal passed in so that commands run in tests can be checked); the
// escapes themselves are picocolors'.
import pc from 'picocolors';

export const COLOR_MODES = ['auto', 'always', 'never'] as const;
export type ColorMode = (typeof COLOR_MODES)[number];
export type Colours = ReturnType<typeof pc.createColors>;

/** auto: colour a terminal unless NO_COLOR is set; FORCE_COLOR colours anything. NO_COLOR wins, as in picocolors. */
export function colourEnabled(mode: ColorMode, env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  if (mode !== 'auto') return mode === 'always';
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR) return true;
  return isTTY && env.TERM !== 'dumb';
}

export const colours = (enabled: boolean): Colours => pc.createColors(enabled);
