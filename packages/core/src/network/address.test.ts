import { describe, expect, it } from 'vitest';
import { AF_INET, AF_INET6, AF_UNIX, formatCidr, formatIp, isCleanSockaddr, lastAddressText, parseCidr, parseIp, readSockaddr } from './address.js';

const v6 = (text: string) => parseIp(text)!;

describe('formatIp', () => {
  it('writes IPv4 dotted and IPv6 in RFC 5952 form', () => {
    expect(formatIp(Uint8Array.of(127, 0, 0, 1))).toBe('127.0.0.1');
    expect(formatIp(v6('0:0:0:0:0:0:0:1'))).toBe('::1');
    expect(formatIp(v6('2001:0db8:0:0:1:0:0:1'))).toBe('2001:db8::1:0:0:1'); // the first of two equal runs
    expect(formatIp(v6('2001:db8:0:1:1:1:1:1'))).toBe('2001:db8:0:1:1:1:1:1'); // one zero group stays
    expect(formatIp(new Uint8Array(16))).toBe('::');
    expect(formatIp(v6('fe80::1:0:0'))).toBe('fe80::1:0:0');
  });

  it('shows IPv4-mapped IPv6 as the IPv4 it carries', () => {
    expect(formatIp(v6('::ffff:93.184.216.34'))).toBe('93.184.216.34');
    expect(formatIp(v6('::ffff:5db8:d822'))).toBe('93.184.216.34');
  });

  it('round-trips through parseIp', () => {
    for (const text of ['::1', '2001:db8::8:800:200c:417a', 'ff02::1', '1::', '10.1.2.3'])
      expect(formatIp(parseIp(text)!)).toBe(text);
    expect(parseIp('1.2.3')).toBeUndefined();
    expect(parseIp('example.org')).toBeUndefined();
  });
});

describe('parseCidr', () => {
  it('reads prefixes and bare addresses, clearing host bits', () => {
    expect(formatCidr(parseCidr('10.1.2.3/8')!)).toBe('10.0.0.0/8');
    expect(formatCidr(parseCidr('192.168.1.7')!)).toBe('192.168.1.7/32');
    expect(formatCidr(parseCidr('2001:db8::1/32')!)).toBe('2001:db8::/32');
    expect(formatCidr(parseCidr('::1')!)).toBe('::1/128');
  });

  it('turns IPv4-mapped prefixes into IPv4 ones, as the kernel compares them', () => {
    expect(parseCidr('::ffff:10.0.0.0/104')).toEqual({ bytes: Uint8Array.of(10, 0, 0, 0), prefixLength: 8 });
  });

  it('refuses what is not a prefix', () => {
    for (const bad of ['10.0.0.0/33', '::/129', '10.0.0.0/-1', '10.0.0.0/8/1', 'host/8', '10.0.0.0/', '10.0.0.0/x'])
      expect(parseCidr(bad), bad).toBeUndefined();
  });
});

describe('readSockaddr', () => {
  it('decodes struct kmon_sockaddr (family, host-order port, scope, address)', () => {
    const buf = Buffer.alloc(24);
    buf.writeUInt16LE(10, 0);
    buf.writeUInt16LE(443, 2);
    buf.writeUInt32LE(3, 4);
    buf.set(v6('fe80::2'), 8);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    expect(readSockaddr(view, buf, 0)).toEqual({ family: 10, address: 'fe80::2', port: 443, scopeId: 3 });
    buf.writeUInt16LE(1, 0); // AF_UNIX: the path is a field of the event
    expect(readSockaddr(view, buf, 0).address).toBe('');
  });

  it('with lastAddressText: each address of a run reads as without it (the last text is reused only for the same family and bytes)', () => {
    const addresses: Array<[number, string]> = [
      [AF_INET, '10.0.0.5'],
      [AF_INET, '10.0.0.5'],
      [AF_INET, '93.184.216.34'],
      [AF_INET6, '2001:db8::1'],
      [AF_INET6, '2001:db8::2'],
      [AF_INET6, '::ffff:10.0.0.5'],
      [AF_INET, '10.0.0.5'],
      [AF_INET6, 'a00:5::'], // the same bytes as 10.0.0.5, of the other family
      [AF_UNIX, ''],
    ];
    const buf = Buffer.alloc(24 * addresses.length);
    addresses.forEach(([family, text], i) => {
      buf.writeUInt16LE(family, 24 * i);
      if (text) buf.set(family === AF_INET ? parseIp(text)! : v6(text), 24 * i + 8);
    });
    const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    const cached = lastAddressText();
    addresses.forEach((_, i) => expect(readSockaddr(view, buf, 24 * i, cached)).toEqual(readSockaddr(view, buf, 24 * i)));
    expect(addresses.map((_, i) => readSockaddr(view, buf, 24 * i, cached).address)).toEqual(['10.0.0.5', '10.0.0.5', '93.184.216.34', '2001:db8::1', '2001:db8::2', '10.0.0.5', '10.0.0.5', 'a00:5::', '']);
  });

  it('marks a byte its family does not use that is not zero (unusedBytes: the schema refuses it, isCleanSockaddr too)', () => {
    const read = (family: number, set: (buf: Buffer) => void) => {
      const buf = Buffer.alloc(32); // the address at 4, as in a record
      buf.writeUInt16LE(family, 4);
      set(buf);
      return readSockaddr(new DataView(buf.buffer, buf.byteOffset, buf.length), buf, 4);
    };
    const v4 = (buf: Buffer) => buf.set([10, 0, 0, 5], 12);
    expect(read(AF_INET, (b) => (v4(b), b.writeUInt16LE(80, 6)))).toEqual({ family: AF_INET, address: '10.0.0.5', port: 80, scopeId: 0 });
    const corrupt = [
      read(AF_INET, (b) => (v4(b), b.writeUInt32LE(1, 8))), // an IPv4 scope
      read(AF_INET, (b) => (v4(b), (b[16] = 1))), // past the 4 address bytes
      read(AF_INET, (b) => (b[27] = 1)), // the struct's last byte
      read(AF_UNIX, (b) => b.writeUInt16LE(80, 6)), // a unix port
      read(AF_UNIX, (b) => b.writeUInt32LE(1, 8)), // a unix scope
      read(0, (b) => (b[12] = 1)), // no family, an address byte
    ];
    for (const address of corrupt) {
      expect(address).toMatchObject({ unusedBytes: true });
      expect(isCleanSockaddr(address)).toBe(false);
    }
    const full = read(AF_INET6, (b) => (b.fill(0xff, 12, 28), b.writeUInt32LE(9, 8)));
    expect(full).toEqual({ family: AF_INET6, address: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', port: 0, scopeId: 9 });
    expect(isCleanSockaddr(full)).toBe(true);
  });
});
