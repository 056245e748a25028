import { describe, expect, it } from 'vitest';
import { KmonOptionsError } from './errors.js';
import { parseFilters, parseSessionOptions } from './options.js';

describe('session options', () => {
  it('fills in defaults', () => {
    const options = parseSessionOptions({});
    expect(options).toMatchObject({
      kinds: ['exec', 'exit', 'fork'],
      ringBytes: 16 * 1024 * 1024,
      argvBytes: 4096,
      excludeSelf: true,
      threads: false,
      wakeup: 'adaptive',
      windows: { mechanism: 'inverted-call', pendingRequests: 4 },
    });
    expect(options.synthetic).toBeUndefined();
  });

  it('rejects an unknown option by name', () => {
    expect(() => parseSessionOptions({ ringSize: 4096 })).toThrow(/ringSize/);
  });

  it('rejects a ring size that is not a power of two, naming the field and why', () => {
    const error = (() => {
      try {
        parseSessionOptions({ ringBytes: 3 * 1024 * 1024 });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(KmonOptionsError);
    expect((error as KmonOptionsError).message).toMatch(/ringBytes: must be a power of two/);
    expect((error as KmonOptionsError).hint).toBeTruthy();
  });

  it('rejects an unknown event kind and an argv cap beyond the ABI maximum', () => {
    expect(() => parseSessionOptions({ kinds: ['exec', 'opne'] })).toThrow(/kinds\.1/);
    expect(() => parseSessionOptions({ argvBytes: 1 << 20 })).toThrow(/argvBytes/);
  });

  it("rejects kind 'synth' without a synthetic source, which alone produces it", () => {
    expect(() => parseSessionOptions({ kinds: ['synth'] })).toThrow(/kinds: kind 'synth' comes only from the synthetic source/);
    expect(parseSessionOptions({ kinds: ['synth'], synthetic: { tgid: 1 } }).kinds).toEqual(['synth']);
  });

  it('takes undefined as all defaults', () => {
    expect(parseSessionOptions(undefined).kinds).toEqual(['exec', 'exit', 'fork']);
  });
});

describe('network filters', () => {
  it('default to keeping everything', () => {
    expect(parseSessionOptions({}).filters.network).toEqual({
      include: [],
      exclude: [],
      ports: [],
      excludePorts: [],
      loopback: true,
    });
  });

  it('keep prefixes in canonical form (host bits cleared, IPv4-mapped as IPv4)', () => {
    const { network } = parseFilters({
      network: { include: ['10.1.2.3/8', '2001:DB8::1/32'], exclude: ['::ffff:10.9.0.0/112', '::1'] },
    });
    expect(network.include).toEqual(['10.0.0.0/8', '2001:db8::/32']);
    expect(network.exclude).toEqual(['10.9.0.0/16', '::1/128']);
  });

  it('name the bad entry and the rule', () => {
    expect(() => parseFilters({ network: { include: ['10.0.0.0/33'] } })).toThrow(/network.include.0: '10.0.0.0\/33' is not an address prefix/);
    expect(() => parseFilters({ network: { ports: [0] } })).toThrow(KmonOptionsError);
    expect(() => parseFilters({ network: { include: ['10.0.0.0/8'], exclude: ['10.1.1.1/8'] } })).toThrow(
      /both included and excluded/,
    );
    expect(() => parseFilters({ network: { ports: [53], excludePorts: [53] } })).toThrow(/port cannot be both/);
    expect(() => parseSessionOptions({ filters: { network: { loopbak: false } } })).toThrow(/loopbak/);
  });
});

describe('file filters', () => {
  it('default to none', () => {
    expect(parseSessionOptions({}).filters.file).toEqual({ include: [], exclude: [], failed: false, writesOnly: false });
  });

  it('make path prefixes absolute directories the kernel matches: normalised, ending in /', () => {
    const { file } = parseFilters({ file: { include: ['/etc', '/home/x/../y/', '/'], exclude: ['/proc//self'] } });
    expect(file.include).toEqual(['/etc/', '/home/y/', '/']);
    expect(file.exclude).toEqual(['/proc/self/']);
  });

  it('reject a relative prefix and one longer than the kernel compares, naming the field', () => {
    expect(() => parseFilters({ file: { include: ['etc'] } })).toThrow(/file\.include\.0: must be an absolute path/);
    expect(() => parseFilters({ file: { exclude: [`/${'a'.repeat(255)}`] } })).toThrow(/file\.exclude\.0: must be at most 255 bytes/);
    expect(() => parseSessionOptions({ filters: { file: { failed: 'yes' } } })).toThrow(/filters\.file\.failed/);
  });
});
