import { KmonUnsupportedError } from '@kmon/core';
import { describe, expect, it } from 'vitest';
import { addonLoadError, loadAddonFile } from './load.js';

describe('loading kmon.node', () => {
  it('finds the addon for this platform (the prebuild, or a local build from source)', () => {
    const { path, addon } = loadAddonFile<{ backend: string }>();
    expect(path).toMatch(/(prebuilds\/linux-x64|build\/Release)\/[^/]+\.node$/);
    expect(addon.backend).toBe('linux-ebpf');
  });

  it('names a missing runtime library and the package that provides it', () => {
    // The dynamic loader's own wording (glibc dlopen), as Node reports it.
    const dlopen = new Error('libbpf.so.1: cannot open shared object file: No such file or directory');
    const error = addonLoadError(dlopen, '/x/kmon.node');
    expect(error).toBeInstanceOf(KmonUnsupportedError);
    expect(error.message).toBe('kmon.node needs the shared library libbpf.so.1, which this machine lacks');
    expect(error.hint).toMatch(/libbpf1 \(Debian, Ubuntu\)/);
  });

  it('says how to rebuild an addon that fails to load for another reason', () => {
    const error = addonLoadError(new Error('/x/kmon.node: undefined symbol: foo'), '/x/kmon.node');
    expect(error.message).toMatch(/^kmon\.node \(\/x\/kmon\.node\) failed to load: .*undefined symbol/);
    expect(error.hint).toMatch(/npm rebuild @kmon\/native/);
  });
});
