// What a kernel binding can do, and the check that refuses up front what it
// cannot: asking Linux for registry writes or Windows for forks fails when the
// session is created, with the platform named, instead of yielding nothing.
import { EVENT_KINDS, type EventKind } from './abi.js';
import { KmonUnsupportedError } from './errors.js';
import {
  DEFAULT_KINDS,
  parseSessionOptions,
  sessionOptionsSchema,
  wakeupSchema,
  type SessionOptions,
  type SessionOptionsInput,
  type Wakeup,
} from './options.js';

/** Dotted paths of the session options, down to the leaves ("threads", "windows.mechanism"). */
type OptionPaths<T> = {
  [K in keyof T & string]-?: NonNullable<T[K]> extends readonly unknown[]
    ? K
    : NonNullable<T[K]> extends object
      ? K | `${K}.${OptionPaths<NonNullable<T[K]>>}`
      : K;
}[keyof T & string];

/** A session option a binding may honour; `kinds` and `wakeup` have their own lists. */
export type OptionPath = Exclude<OptionPaths<SessionOptionsInput>, 'kinds' | 'wakeup'>;

export interface BindingCapabilities {
  /** The platform as users know it, for messages: "Linux", "Windows", "mock". */
  readonly platform: string;
  /** Event kinds the driver records. */
  readonly kinds: readonly EventKind[];
  /** Wakeup modes it implements. */
  readonly wakeups: readonly Wakeup[];
  /**
   * Options it honours. A path covers everything below it ("windows" covers
   * "windows.mechanism"); an option set in the input and covered by no entry
   * is refused rather than ignored.
   */
  readonly options: readonly OptionPath[];
}

/** Everything the options schema has: what a mock binding (or a complete one) supports. */
export const ALL_CAPABILITIES: Omit<BindingCapabilities, 'platform'> = {
  kinds: EVENT_KINDS,
  wakeups: wakeupSchema.options,
  options: Object.keys(sessionOptionsSchema.shape).filter((key) => key !== 'kinds' && key !== 'wakeup') as OptionPath[],
};

/** The dotted paths of every option set (not undefined) in `input`, objects included. */
function pathsSet(input: object, prefix = ''): string[] {
  return Object.entries(input).flatMap(([key, value]) => {
    if (value === undefined) return [];
    const path = prefix + key;
    const isGroup = typeof value === 'object' && value !== null && !Array.isArray(value);
    return isGroup ? [path, ...pathsSet(value, `${path}.`)] : [path];
  });
}

/** A group ("synthetic") is honoured when anything in it is; a leaf when it or a group above it is listed. */
const covers = (supported: readonly string[], path: string) =>
  supported.some((s) => s === path || path.startsWith(`${s}.`) || s.startsWith(`${path}.`));

function unsupported(capabilities: BindingCapabilities, what: string, available: readonly string[]) {
  const { platform } = capabilities;
  return new KmonUnsupportedError(`${platform} cannot ${what}`, {
    hint: available.length > 0 ? `on ${platform}, choose among: ${available.join(', ')}` : `${platform} offers none`,
  });
}

/**
 * Parses session options for a binding: the kinds default to the usual ones
 * it supports, and anything asked for that it cannot honour is refused (bad
 * values throw KmonOptionsError first).
 */
export function parseSessionOptionsFor(capabilities: BindingCapabilities, input: SessionOptionsInput = {}): SessionOptions {
  const kinds = input.kinds ?? DEFAULT_KINDS.filter((kind) => capabilities.kinds.includes(kind));
  const parsed = parseSessionOptions({ ...input, kinds });
  refuseUnsupported(capabilities, { ...input, kinds: parsed.kinds, wakeup: parsed.wakeup });
  return parsed;
}

/**
 * Throws a KmonUnsupportedError naming the platform for the first of the
 * kinds, the wakeup or the options set in `input` that the binding cannot
 * honour. Bindings call it on what they are opened with too, for callers
 * that bypass createKmon.
 */
export function refuseUnsupported(capabilities: BindingCapabilities, input: SessionOptionsInput): void {
  const kinds = (input.kinds ?? []).filter((kind) => !capabilities.kinds.includes(kind));
  if (kinds.length > 0) throw unsupported(capabilities, `record ${kinds.join(', ')} events`, capabilities.kinds);
  if (input.wakeup !== undefined && !capabilities.wakeups.includes(input.wakeup)) {
    throw unsupported(capabilities, `wake the consumer with wakeup '${input.wakeup}'`, capabilities.wakeups);
  }
  const refused = pathsSet(input).filter((path) => path !== 'kinds' && path !== 'wakeup' && !covers(capabilities.options, path));
  const options = refused.filter((path) => !refused.some((group) => path.startsWith(`${group}.`)));
  if (options.length > 0) throw unsupported(capabilities, `honour the option ${options.join(', ')}`, capabilities.options);
}
