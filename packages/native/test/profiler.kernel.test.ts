// A process being profiled (`node --cpu-prof`: SIGPROF to the JS thread
// every sampling interval) still loads kmon's programs: the verifier gives
// up with EAGAIN while a signal is pending, so the backend holds SIGPROF back
// while it loads. The session asks for every kind, i.e. the largest programs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSessionOptions } from '@kmon/core';
import { bindingInfo, nativeBinding, toNativeConfig } from '../src/index.js';

/** Opens and closes a raw session of the addon, then says how it went. */
const CHILD = `
const [addon, config] = process.argv.slice(1);
const { Session } = require(addon);
try {
  new Session(JSON.parse(config), () => {}).close();
  console.log('attached');
} catch (error) {
  console.log(error.code + ': ' + error.message.split('\\n')[0]);
}`;

describe('a session under node --cpu-prof', () => {
  const profiles = mkdtempSync(join(tmpdir(), 'kmon-cpu-prof-'));
  afterAll(() => rmSync(profiles, { recursive: true, force: true }));

  it('loads every kind while SIGPROF samples the JS thread', () => {
    const kinds = nativeBinding.capabilities.kinds.filter((kind) => kind !== 'synth');
    const config = toNativeConfig(parseSessionOptions({ kinds, wakeup: 'poll' }));
    // 100 µs: many samples during the seconds the verifier takes on this machine.
    const flags = ['--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', profiles];
    const child = spawnSync(process.execPath, [...flags, '-e', CHILD, bindingInfo().addonPath, JSON.stringify(config)], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(child.stderr).toBe('');
    expect(child.stdout.trim()).toBe('attached');
    expect(readdirSync(profiles).filter((f) => f.endsWith('.cpuprofile'))).toHaveLength(1); // it was profiled
  });
});
