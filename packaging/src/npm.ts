// A fresh npm project outside the workspace, installed with plain npm (no
// workspace links), with every compiler and build tool on PATH wrapped so the
// test can tell whether an install compiled anything.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const BUILD_TOOLS = ['cc', 'c++', 'gcc', 'g++', 'clang', 'clang++', 'make', 'python3'];

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface NpmProject {
  dir: string;
  /** The build tools run in this project since it was made, one line each. */
  toolsRun(): string[];
  run(command: string, args: string[], options?: { timeoutMs?: number }): Run;
  install(specs: string[]): Run;
}

export function freshProject(name: string): NpmProject {
  const dir = mkdtempSync(join(tmpdir(), `kmon-${name}-`));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }, null, 2));
  const shims = join(dir, '.tools');
  const log = join(dir, '.tools.log');
  mkdirSync(shims);
  writeFileSync(log, '');
  for (const tool of BUILD_TOOLS) {
    const real = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    if (!real) continue;
    const shim = join(shims, tool);
    writeFileSync(shim, `#!/bin/sh\necho "${tool} $*" >> ${log}\nexec ${real} "$@"\n`);
    chmodSync(shim, 0o755);
  }
  const env = {
    ...process.env,
    PATH: `${shims}:${process.env.PATH}`,
    // A source build uses this Node's headers instead of downloading them.
    npm_config_nodedir: process.env.npm_config_nodedir ?? dirname(dirname(process.execPath)),
    // Run under pnpm, the workspace's .npmrc (ignore-scripts) arrives here as
    // npm_config_ignore_scripts; a user's project runs install scripts.
    npm_config_ignore_scripts: 'false',
  };
  const run = (command: string, args: string[], { timeoutMs = 300_000 } = {}): Run => {
    const r = spawnSync(command, args, { cwd: dir, env, encoding: 'utf8', timeout: timeoutMs });
    return { status: r.status, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
  };
  return {
    dir,
    toolsRun: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []),
    run,
    install: (specs) =>
      run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', ...specs], { timeoutMs: 600_000 }),
  };
}
