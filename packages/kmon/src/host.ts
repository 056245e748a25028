// This host's answers to the ids events carry: user and group names from
// /etc/passwd and /etc/group, cgroup v2 paths by walking the cgroup2 mount
// (a cgroup's id is its directory's inode number). Read lazily and cached; a
// miss re-reads at most once per second per id, so a user or cgroup created
// during the session is found, and a flood of unknown ids costs no more.
// Anything unreadable answers undefined: context is best effort, never a crash.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { HostLookups } from '@kmon/rx';

export interface LinuxHostFiles {
  passwd?: string;
  group?: string;
  /** Where the cgroup v2 hierarchy is mounted; found in /proc/self/mountinfo when not given. */
  cgroupRoot?: string;
}

/** How long an id that was not found waits before the next re-read for it. */
const RETRY_MS = 1000;

/** Looks ids up in a cache, reloading it on a miss (at most once per RETRY_MS per id). */
function cachedLookup<K, V>(load: () => Map<K, V>): (key: K) => V | undefined {
  let cache: Map<K, V> | undefined;
  const missed = new Map<K, number>();
  return (key) => {
    const found = (cache ??= load()).get(key);
    if (found !== undefined) return found;
    const now = Date.now();
    if (now - (missed.get(key) ?? -Infinity) < RETRY_MS) return undefined;
    missed.set(key, now);
    cache = load();
    return cache.get(key);
  };
}

/** name:password:id:... lines (passwd and group share the first three columns). */
function idNames(file: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of readOr(file, '').split('\n')) {
    const [name, , id] = line.split(':');
    if (name && id && /^\d+$/u.test(id) && !names.has(Number(id))) names.set(Number(id), name);
  }
  return names;
}

function readOr(file: string, fallback: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

/** The cgroup2 mount point (hybrid hosts mount it at /sys/fs/cgroup/unified). */
export function cgroup2Mount(mountinfo = '/proc/self/mountinfo'): string | undefined {
  for (const line of readOr(mountinfo, '').split('\n')) {
    const [before, after] = line.split(' - ');
    if (after?.startsWith('cgroup2 ')) return before!.split(' ')[4];
  }
  return undefined;
}

/** Every directory under `root` by inode number, as a path from the root ('/' for the root itself). */
function cgroupDirs(root: string | undefined): Map<bigint, string> {
  const dirs = new Map<bigint, string>();
  if (root === undefined) return dirs;
  const walk = (dir: string, path: string) => {
    try {
      dirs.set(statSync(dir, { bigint: true }).ino, path);
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) walk(join(dir, entry.name), path === '/' ? `/${entry.name}` : `${path}/${entry.name}`);
      }
    } catch {
      // removed while walking, or unreadable: what was found stands
    }
  };
  walk(root, '/');
  return dirs;
}

/** Host lookups for event context on Linux. */
export function linuxHost(files: LinuxHostFiles = {}): Required<HostLookups> {
  let root: string | undefined | null = files.cgroupRoot ?? null;
  // Cgroup ids are never reused: a walk adds to what earlier ones found, so removed cgroups still resolve late events.
  const cgroups = new Map<bigint, string>();
  const walkCgroups = () => {
    for (const [id, path] of cgroupDirs(root === null ? (root = cgroup2Mount()) : root)) cgroups.set(id, path);
    return cgroups;
  };
  return {
    userName: cachedLookup(() => idNames(files.passwd ?? '/etc/passwd')),
    groupName: cachedLookup(() => idNames(files.group ?? '/etc/group')),
    cgroupPath: cachedLookup(walkCgroups),
  };
}
