// The workspace's published packages (every packages/* not marked private),
// packed as a registry would get them.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  repository?: { type: string; url: string; directory?: string };
  engines?: Record<string, string>;
  os?: string[];
  cpu?: string[];
  bin?: Record<string, string>;
  exports?: Record<string, unknown>;
  files?: string[];
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

export interface Published {
  manifest: Manifest;
  dir: string;
}

export function publishedPackages(): Published[] {
  const packages = join(ROOT, 'packages');
  return readdirSync(packages)
    .map((name) => join(packages, name))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest }))
    .filter((p) => !p.manifest.private);
}

/** `pnpm pack` (it turns workspace: ranges into versions) into `dest`; the tarball's path. */
export function pack(p: Published, dest: string): string {
  const out = execFileSync('pnpm', ['pack', '--pack-destination', dest], { cwd: p.dir, encoding: 'utf8' });
  const tarball = out.trim().split('\n').pop()!;
  if (!tarball.endsWith('.tgz')) throw new Error(`pnpm pack printed no tarball for ${p.manifest.name}:\n${out}`);
  return tarball;
}

/** The files in a tarball, relative to its package/ directory. */
export function tarballFiles(tarball: string): string[] {
  return execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''));
}

/** The manifest as packed. */
export function tarballManifest(tarball: string): Manifest {
  return JSON.parse(execFileSync('tar', ['xzf', tarball, '-O', 'package/package.json'], { encoding: 'utf8' })) as Manifest;
}
