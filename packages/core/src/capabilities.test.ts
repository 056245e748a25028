import { describe, expect, it } from 'vitest';
import { ALL_CAPABILITIES, parseSessionOptionsFor, type BindingCapabilities } from './capabilities.js';
import { KmonOptionsError, KmonUnsupportedError } from './errors.js';
import type { SessionOptionsInput } from './options.js';

const linuxLike: BindingCapabilities = {
  platform: 'Penguin',
  kinds: ['exec', 'exit', 'fork'],
  wakeups: ['each', 'adaptive'],
  options: ['threads', 'argvBytes', 'synthetic.tgid'],
};
const windowsLike: BindingCapabilities = { platform: 'Casement', kinds: ['exec', 'exit'], wakeups: ['adaptive'], options: ['windows'] };

const refusal = (capabilities: BindingCapabilities, input: object) => {
  try {
    parseSessionOptionsFor(capabilities, input);
  } catch (error) {
    expect(error).toBeInstanceOf(KmonUnsupportedError);
    return (error as KmonUnsupportedError).describe();
  }
  throw new Error('accepted');
};

describe('parseSessionOptionsFor', () => {
  it('accepts every option of the schema when the binding supports everything', () => {
    const all = { platform: 'all', ...ALL_CAPABILITIES };
    const input: SessionOptionsInput = {
      kinds: ['exec', 'registry-set'],
      ringBytes: 1 << 20,
      argvBytes: 64,
      excludeSelf: false,
      threads: true,
      wakeup: 'pull',
      wakeupBytes: 1,
      maxLatencyMs: 1,
      pollIntervalMs: 1,
      batchBytes: 1 << 20,
      synthetic: { tgid: 1, payloadBytes: 1, periodMs: 1, perTick: 1, count: 1 },
      windows: { mechanism: 'event-pull', pendingRequests: 1, queueBatches: 1 },
    };
    expect(parseSessionOptionsFor(all, input)).toMatchObject({ kinds: ['exec', 'registry-set'], threads: true });
  });

  it('refuses a kind the binding has no events for, naming the platform and what it has', () => {
    expect(refusal(linuxLike, { kinds: ['exec', 'registry-set'] })).toBe(
      'Penguin cannot record registry-set events (on Penguin, choose among: exec, exit, fork)',
    );
    expect(refusal(windowsLike, { kinds: ['fork'] })).toMatch(/^Casement cannot record fork events/);
  });

  it('defaults the kinds to the usual ones the binding has', () => {
    expect(parseSessionOptionsFor(windowsLike).kinds).toEqual(['exec', 'exit']);
    expect(parseSessionOptionsFor(linuxLike).kinds).toEqual(['exec', 'exit', 'fork']);
  });

  it('refuses a wakeup mode the binding lacks, the default included', () => {
    expect(refusal(linuxLike, { wakeup: 'pull' })).toMatch(/^Penguin cannot wake the consumer with wakeup 'pull'/);
    expect(refusal({ ...linuxLike, wakeups: ['each'] }, {})).toMatch(/wakeup 'adaptive'/);
  });

  it('refuses options the binding would ignore, down to the sub-option, instead of ignoring them', () => {
    expect(refusal(linuxLike, { windows: { mechanism: 'event-pull' } })).toMatch(/^Penguin cannot honour the option windows \(/);
    expect(refusal(linuxLike, { synthetic: { tgid: 1, periodMs: 5 }, kinds: ['exec'] })).toMatch(/option synthetic.periodMs \(/);
    expect(refusal(windowsLike, { threads: true })).toMatch(/^Casement cannot honour the option threads/);
    expect(parseSessionOptionsFor(windowsLike, { windows: { pendingRequests: 2 } }).windows.pendingRequests).toBe(2);
    expect(parseSessionOptionsFor(linuxLike, { threads: undefined }).threads).toBe(false);
  });

  it('reports invalid values as options errors before asking the binding', () => {
    expect(() => parseSessionOptionsFor(windowsLike, { threads: 'yes' as never })).toThrow(KmonOptionsError);
  });
});
