// synthetic.checks.ts on Linux: the real eBPF driver through @kmon/native,
// the synthetic source being a generator process's getppid() calls. Needs
// what the other kernel tests need (root or CAP_BPF+CAP_PERFMON, BTF).
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { nativeBinding } from '@kmon/native';
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

const kmonObjects = () =>
  (['prog', 'map', 'link'] as const).flatMap((what) =>
    (JSON.parse(execFileSync('bpftool', ['-j', what, 'show'], { encoding: 'utf8' }) || '[]') as Array<{ name?: string }>)
      .filter((o) => o.name?.startsWith('kmon'))
      .map((o) => `${what} ${o.name}`),
  );

const env: SyntheticEnv = {
  createKmon: (options, config) => createKmon(options, config),
  binding: nativeBinding,
  source: generator,
  async assertDetached() {
    const left = kmonObjects();
    if (left.length > 0) throw new Error(`kmon BPF objects left after close: ${left.join(', ')}`);
    return 'no kmon BPF program, map or link left (bpftool)';
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
