// synthetic.checks.ts on Linux: the real eBPF driver through @kmon/native,
// the synthetic source being a generator process's getppid() calls. Needs
// what the other kernel tests need (root or CAP_BPF+CAP_PERFMON, BTF).
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
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

/**
 * BPF programs, maps and links this process holds, from /proc/self/fd{,info}.
 * Per process, not bpftool's system-wide list: other test files running in
 * parallel may hold sessions of their own.
 */
function ownBpfObjects(): string[] {
  const objects: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // the fd of readdir itself
    }
    if (!target.startsWith('anon_inode:bpf')) continue;
    const id = /^(prog|map|link)_id:\s*(\d+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    objects.push(id ? `${id[1]} ${id[2]}` : target);
  }
  return objects;
}

const env: SyntheticEnv = {
  createKmon: (options, config) => createKmon(options, config),
  binding: nativeBinding,
  source: generator,
  async assertDetached() {
    const left = ownBpfObjects();
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
