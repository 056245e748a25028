// Kernel-supplied strings (argv, paths, comm, names) are chosen by whoever
// ran the traced program: printed raw, an ESC sequence clears or recolours
// an admin's terminal and a CR or LF forges whole lines. Every text output
// renders them through escapeText, the one place that decides what is shown
// as an escape, and formatters build lines with the `safe` template tag,
// whose SafeText result type is what line renderers must return.

/** Escapes with a name of their own, as in C and bash's $'...'. */
const NAMED: Record<string, string> = {
  '\\': '\\\\',
  '\x07': '\\a',
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\v': '\\v',
  '\f': '\\f',
  '\r': '\\r',
  '\x1b': '\\e',
};

/**
 * What a terminal may interpret rather than print: C0 controls, DEL, C1
 * controls (8-bit CSI and friends), line and paragraph separators, bidi
 * overrides and isolates (text that displays in another order than it
 * reads), and lone UTF-16 surrogates (with the u flag, a surrogate pair is
 * one code point and does not match: only lone ones, such as decodeText's
 * undecodable bytes, do).
 */
const UNSAFE = /[\\\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]/gu;

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

function escapeOne(ch: string): string {
  const named = NAMED[ch];
  if (named) return named;
  const code = ch.charCodeAt(0);
  if (code < 0x80) return `\\x${hex(code, 2)}`;
  // A byte that was not valid UTF-8, carried as U+DC80..U+DCFF (decodeText): show the byte.
  if (code >= 0xdc80 && code <= 0xdcff) return `\\x${hex(code - 0xdc00, 2)}`;
  return `\\u${hex(code, 4)}`;
}

/**
 * The string with everything a terminal could interpret made visible, as
 * `ls -b` and strace do: `\e`, `\n`, `\r`, `\t`, `\\`, `\x7f`, `\u202e`, and
 * `\xNN` for a byte that was not valid UTF-8. Printable text (any script,
 * emoji) is unchanged. The escapes are those of bash's $'...' quoting.
 */
export function escapeText(value: string): string {
  return value.replace(UNSAFE, escapeOne);
}

let makeSafe: (text: string) => SafeText;

/** Text that is safe to write to a terminal. Only this module makes one, so a line renderer cannot return raw input. */
export class SafeText {
  private constructor(readonly text: string) {}
  static {
    makeSafe = (text) => new SafeText(text);
  }
  toString(): string {
    return this.text;
  }
}

function render(value: unknown): string {
  if (value instanceof SafeText) return value.text;
  if (Array.isArray(value)) return value.map(render).join(' ');
  return escapeText(String(value));
}

/**
 * Template tag for terminal text: the literal parts are kmon's own, every
 * interpolated value is escaped, except SafeText (already safe) and arrays,
 * whose items are each rendered so and joined with spaces.
 * safe`pid=${e.pid} ${e.filename}` shows a file named "x<ESC>[2J" as `x\e[2J`.
 */
export function safe(literals: TemplateStringsArray, ...values: unknown[]): SafeText {
  let out = literals[0] ?? '';
  values.forEach((value, i) => (out += render(value) + (literals[i + 1] ?? '')));
  return makeSafe(out);
}

/**
 * One shell word that pastes back as `value`, and is safe to print: bare
 * when it needs no quoting, '...' when quoting suffices, $'...' (escapeText's
 * escapes) when it holds anything a terminal could interpret.
 */
export function shellWord(value: string): SafeText {
  if (/^[\w@%+=:,./-]+$/u.test(value)) return makeSafe(value);
  const escaped = escapeText(value);
  if (escaped === value) return makeSafe(`'${value.replaceAll("'", `'\\''`)}'`);
  return makeSafe(`$'${escaped.replaceAll("'", "\\'")}'`);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Length of the valid UTF-8 sequence at `at`, 0 when the byte there starts none. */
function sequenceLength(bytes: Uint8Array, at: number): number {
  for (let n = 1; n <= 4 && at + n <= bytes.length; n++) {
    try {
      strictUtf8.decode(bytes.subarray(at, at + n));
      return n;
    } catch {
      // incomplete or invalid at this length: try a longer one
    }
  }
  return 0;
}

type Utf8Sliceable = Buffer & { utf8Slice?(start: number, end: number): string };
/**
 * toString('utf8', start, end) of a range within the bytes, without its
 * argument handling, which cost a third of decoding a path: Buffer's own
 * utf8Slice (what toString calls), or toString where Buffer lacks it.
 */
function utf8Slice(bytes: Utf8Sliceable, start: number, end: number): string {
  return bytes.utf8Slice !== undefined ? bytes.utf8Slice(start, end) : bytes.toString('utf8', start, end);
}

/** Up to this many bytes (a comm), ASCII is decoded here: Buffer's toString costs twice as much on a string this short. */
const SHORT_TEXT = 16;
const fromCodes = String.fromCharCode;

/** ASCII bytes as a string, built four characters at a time; undefined when one is not ASCII. */
function shortAscii(b: Buffer, start: number, end: number): string | undefined {
  let high = 0;
  for (let i = start; i < end; i++) high |= b[i]!;
  if (high > 0x7f) return undefined;
  let out = '';
  for (let i = start; i < end; i += 4) {
    const n = end - i;
    out += n >= 4 ? fromCodes(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!) : n === 3 ? fromCodes(b[i]!, b[i + 1]!, b[i + 2]!) : n === 2 ? fromCodes(b[i]!, b[i + 1]!) : fromCodes(b[i]!);
  }
  return out;
}

/**
 * Bytes from the kernel as a string. Valid UTF-8 decodes as usual; a byte
 * that is not (a name cut mid-character, or chosen to be invalid) becomes
 * the lone surrogate U+DC00 + byte, as Python's surrogateescape does, so the
 * byte is not lost: escapeText shows it as `\xNN`. (Decoding it to U+FFFD
 * would make different names print the same.)
 */
export function decodeText(bytes: Buffer, start = 0, end = bytes.length): string {
  // The range clamped to the bytes, as Buffer's toString clamps it.
  if (start < 0) start = 0;
  if (end > bytes.length) end = bytes.length;
  if (end <= start) return '';
  if (end - start <= SHORT_TEXT) {
    const ascii = shortAscii(bytes, start, end);
    if (ascii !== undefined) return ascii;
  }
  const text = utf8Slice(bytes, start, end);
  if (!text.includes('\ufffd')) return text;
  const slice = bytes.subarray(start, end);
  let out = '';
  for (let at = 0; at < slice.length; ) {
    const n = sequenceLength(slice, at);
    if (n === 0) {
      out += String.fromCharCode(0xdc00 + slice[at]!);
      at++;
    } else {
      out += strictUtf8.decode(slice.subarray(at, at + n));
      at += n;
    }
  }
  return out;
}
