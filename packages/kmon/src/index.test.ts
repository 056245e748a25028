// The composition root refuses at createKmon what this OS's binding cannot
// honour (no kernel needed: nothing is attached). Windows' capabilities are
// checked through a mock that claims them, since this runs on Linux.
import { describe, expect, it } from 'vitest';
import { LINUX_CAPABILITIES, WINDOWS_CAPABILITIES } from '@kmon/native';
import { createKmon, KmonUnsupportedError, nativeBinding } from './index.js';
import { createMockBinding } from './testing.js';

describe.runIf(process.platform === 'linux')('createKmon on Linux', () => {
  it('uses the eBPF binding and its capabilities', () => {
    expect(nativeBinding.capabilities).toBe(LINUX_CAPABILITIES);
  });

  it('refuses registry-set with a typed error naming Linux', () => {
    expect(() => createKmon({ kinds: ['exec', 'registry-set'] })).toThrow(KmonUnsupportedError);
    expect(() => createKmon({ kinds: ['registry-set'] })).toThrow(/^Linux cannot record registry-set events$/);
  });

  it('refuses windows.* instead of ignoring it', () => {
    expect(() => createKmon({ windows: { mechanism: 'event-pull' } })).toThrow(/^Linux cannot honour the option windows$/);
  });
});

describe("createKmon over Windows' capabilities", () => {
  const windows = () => createMockBinding({ capabilities: WINDOWS_CAPABILITIES });

  it('refuses fork with a typed error naming Windows, and attaches nothing', () => {
    const binding = windows();
    expect(() => createKmon({ kinds: ['exec', 'fork'] }, { binding })).toThrow(KmonUnsupportedError);
    expect(() => createKmon({ kinds: ['fork'] }, { binding })).toThrow(/^Windows cannot record fork events$/);
    expect(binding.sessions).toHaveLength(0);
  });

  it('refuses the Linux-only options and the pull wakeup', () => {
    const binding = windows();
    expect(() => createKmon({ threads: true }, { binding })).toThrow(/^Windows cannot honour the option threads$/);
    expect(() => createKmon({ wakeup: 'pull' }, { binding })).toThrow(/^Windows cannot wake the consumer with wakeup 'pull'$/);
  });

  it('records exec and exit by default', () => {
    const binding = windows();
    createKmon({}, { binding }).events$.subscribe().unsubscribe();
    expect(binding.current!.options.kinds).toEqual(['exec', 'exit']);
  });
});
