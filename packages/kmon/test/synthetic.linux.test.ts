// synthetic.checks.ts on Linux: the real eBPF driver through @kmon/native,
// the synthetic source being a generator process's getppid() calls. Needs
// what the other kernel tests need (root or CAP_BPF+CAP_PERFMON, BTF).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { nativeBinding } from '@kmon/native';
import { heldKernelObjects } from '@kmon/native/testing';
import { describe, it } from 'vitest';
import { createKmon } from '../src/index.js';
import { syntheticChecks, type SyntheticEnv, type SyntheticSource } from './synthetic.checks.js';

/** A node process that makes `count` getppid() calls once told to (process.ppid is one syscall per read). */
async function generator(count: number, payloadBytes: number): Promise<SyntheticSource> {
  const child = spawn(
    process.execPath,
    ['-e', `process.stdin.once('data', () => { for (let i = 0; i < ${count}; i++) process.ppid; process.exit(0); });`],
    { stdio: ['pipe', 'ignore', 'inherit'] },
  );
  await once(child, 'spawn');
  const exited = once(child, 'exit');
  return {
    options: { tgid: child.pid!, payloadBytes },
    async start() {
      child.stdin!.write('go\n');
      await exited;
    },
    async dispose() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

const env: SyntheticEnv = {
  createKmon: (options, config) => createKmon(options, config),
  binding: nativeBinding,
  source: generator,
  async assertDetached() {
    const left = heldKernelObjects();
    if (left.length > 0) throw new Error(`BPF objects still held after close: ${left.join(', ')}`);
    return 'this process holds no BPF program, map or link fd';
  },
};

describe('synthetic source through @kmon/rx on Linux (eBPF)', () => {
  for (const check of syntheticChecks) {
    it(check.name, async ({ annotate }) => {
      const summary = await check.run(env);
      await annotate(summary);
    }, 30_000);
  }
});
