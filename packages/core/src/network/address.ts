// Socket addresses as people read and compare them: IPv4 and IPv6 text
// (IPv4-mapped IPv6 shown as the IPv4 it carries), and the CIDR prefixes
// the network filters take.
import { isIP } from 'node:net';
import { lastOf16Bytes } from '../kinds/define.js';

/** Address families (AF_*) as the Linux kernel numbers them. */
export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;

const V4_MAPPED = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/** ::ffff:a.b.c.d, IPv4 on an IPv6 socket. */
export function isV4Mapped(bytes: Uint8Array): boolean {
  return bytes.length === 16 && V4_MAPPED.every((b, i) => bytes[i] === b);
}

/**
 * Text of 4 (IPv4) or 16 (IPv6) address bytes, network order: dotted quad,
 * or RFC 5952 (lower case, the longest run of zero groups as `::`); an
 * IPv4-mapped IPv6 address as its IPv4.
 */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join('.');
  if (isV4Mapped(bytes)) return bytes.subarray(12).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => (bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  const zeros = longestZeroRun(groups);
  const hex = (from: number, to: number) => groups.slice(from, to).map((g) => g.toString(16)).join(':');
  if (zeros.length < 2) return hex(0, 8);
  return `${hex(0, zeros.start)}::${hex(zeros.start + zeros.length, 8)}`;
}

function longestZeroRun(groups: number[]): { start: number; length: number } {
  let best = { start: 0, length: 0 };
  for (let i = 0; i < groups.length; ) {
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j + 1;
  }
  return best;
}

/** Bytes of an IPv4 (4) or IPv6 (16) address in text, or undefined if it is neither. */
export function parseIp(text: string): Uint8Array | undefined {
  const version = isIP(text);
  if (version === 4) return Uint8Array.from(text.split('.').map(Number));
  if (version !== 6) return undefined;
  let tail: number[] = [];
  let body = text;
  const dotted = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    tail = dotted[1]!.split('.').map(Number);
    body = text.slice(0, dotted.index + 1) + '0:0'; // two placeholder groups, replaced below
  }
  const [head, rest] = body.split('::') as [string, string | undefined];
  const groups = (part: string | undefined) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = groups(head);
  const right = groups(rest);
  const all = rest === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  if (tail.length) bytes.set(tail, 12);
  return bytes;
}

/** An address prefix: IPv4 (4 bytes) or IPv6 (16), host bits zero. */
export interface Cidr {
  readonly bytes: Uint8Array;
  readonly prefixLength: number;
}

/**
 * `addr/len` or a bare address (all its bits). IPv4-mapped IPv6 prefixes
 * become IPv4 ones, as the kernel compares those addresses as IPv4. Host
 * bits past the prefix are cleared. Undefined if the text is not a prefix.
 */
export function parseCidr(text: string): Cidr | undefined {
  const [address, length, extra] = text.split('/');
  const bytes = address === undefined ? undefined : parseIp(address);
  if (!bytes || extra !== undefined) return undefined;
  const bits = bytes.length * 8;
  const prefixLength = length === undefined ? bits : /^\d{1,3}$/.test(length) ? Number(length) : NaN;
  if (!(prefixLength >= 0 && prefixLength <= bits)) return undefined;
  if (isV4Mapped(bytes) && prefixLength >= 96) return masked(bytes.subarray(12), prefixLength - 96);
  return masked(bytes, prefixLength);
}

function masked(bytes: Uint8Array, prefixLength: number): Cidr {
  const out = Uint8Array.from(bytes);
  for (let bit = prefixLength; bit < out.length * 8; bit++) out[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return { bytes: out, prefixLength };
}

/** A prefix's canonical text (`10.0.0.0/8`, `2001:db8::/32`). */
export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr.bytes)}/${cidr.prefixLength}`;
}

/** A struct kmon_sockaddr, decoded. */
export interface SocketAddress {
  /** The raw address family (AF_INET 2, AF_INET6 10, AF_UNIX 1; 0: none). */
  readonly family: number;
  /** IPv4 or IPv6 text (IPv4-mapped IPv6 as IPv4); '' for other families (a unix path is the event's `path`). */
  readonly address: string;
  /** Port, 0 when there is none. */
  readonly port: number;
  /** IPv6 scope (interface index), else 0. */
  readonly scopeId: number;
}

/** sizeof(struct kmon_sockaddr): family u16, port u16, scope_id u32, addr u8[16]. */
export const SOCKADDR_SIZE = 24;

/** The text of the address at `a` (its bytes after family, port and scope) for its family. */
type AddressText = (view: DataView, buf: Buffer, a: number, family: number) => string;

const addressText: AddressText = (_view, buf, a, family) => {
  if (family === AF_INET) return `${buf[a]}.${buf[a + 1]}.${buf[a + 2]}.${buf[a + 3]}`;
  return family === AF_INET6 ? formatIp(buf.subarray(a, a + 16)) : '';
};

/**
 * addressText remembering the last text it made (see lastOf16Bytes: making
 * the text, a number to string and a concatenation per byte, was ~10% of a
 * live connect event). One per field, so local and remote each keep their own.
 */
export const lastAddressText = (): AddressText => lastOf16Bytes(addressText);

/**
 * Reads a struct kmon_sockaddr. The driver zeroes what a family does not use
 * (the port and scope of a unix address, the last 12 bytes of an IPv4 one);
 * a non-zero byte there comes back as `unusedBytes`, which the schema refuses,
 * so a corrupt record is a fault rather than an event that looks right.
 * Reads the bytes in place: a subarray per address measured costlier than
 * the rest of the record's decoding.
 */
export function readSockaddr(view: DataView, buf: Buffer, at: number, text: AddressText = addressText): SocketAddress {
  const family = view.getUint16(at, true);
  const port = view.getUint16(at + 2, true);
  const scopeId = view.getUint32(at + 4, true);
  const bytes = family === AF_INET ? 4 : family === AF_INET6 ? 16 : 0;
  const a = at + 8;
  const address = text(view, buf, a, family);
  let unused = bytes === 0 ? port | scopeId : bytes === 4 ? scopeId : 0;
  for (let i = a + bytes; i < at + SOCKADDR_SIZE; i++) unused |= buf[i]!;
  const value: SocketAddress = { family, address, port, scopeId };
  return unused === 0 ? value : ({ ...value, unusedBytes: true } as SocketAddress);
}

/** What the schema of an address accepts of what readSockaddr made: one whose unused bytes are zero. */
export const isCleanSockaddr = (address: SocketAddress): boolean => !('unusedBytes' in address);
