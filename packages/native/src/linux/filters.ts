// options.filters.process as the eBPF driver applies it: cgroup paths and
// container ids become cgroup v2 ids (the inode numbers of their cgroupfs
// directories, which is what bpf_get_current_cgroup_id() returns).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { KmonOptionsError, containerOfCgroupPath, type ProcessFilter } from '@kmon/core';

let root: string | undefined;

/** Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid systems). */
export function cgroupRoot(): string {
  root ??=
    readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' '))
      .find((fields) => fields[2] === 'cgroup2')?.[1] ?? '/sys/fs/cgroup';
  return root;
}

/** What kmon.node's setFilter and config.filter take. */
export interface NativeProcessFilter {
  pids: number[];
  children: boolean;
  uids: number[];
  cgroups: bigint[];
  comms: string[];
}

/** The id of a cgroup given by path (absolute, or relative to the cgroup v2 root) or by id. */
export function cgroupId(cgroup: string | bigint): bigint {
  if (typeof cgroup === 'bigint') return cgroup;
  const path = isAbsolute(cgroup) ? cgroup : join(cgroupRoot(), cgroup);
  try {
    const stat = statSync(path, { bigint: true });
    if (stat.isDirectory()) return stat.ino;
  } catch {
    // said below
  }
  throw new KmonOptionsError(`filters.process.cgroups: ${path} is not a cgroup v2 directory`, {
    hint: `give a directory under ${cgroupRoot()} (e.g. system.slice/docker-<id>.scope) or a cgroup id`,
  });
}

/** Every cgroup directory under `dir`, depth first. */
function* cgroupDirs(dir: string): Generator<string> {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return; // removed while we walked
  }
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    yield path;
    yield* cgroupDirs(path);
  }
}

/** The cgroup of each running container whose id starts with `prefix` (one container, or an error). */
export function containerCgroups(prefix: string): string[] {
  const matches = new Map<string, string[]>();
  const top = cgroupRoot();
  for (const dir of cgroupDirs(top)) {
    const container = containerOfCgroupPath(dir.slice(top.length));
    // The outermost cgroup of a container; its sub-cgroups match through it.
    if (!container?.id.startsWith(prefix) || containerOfCgroupPath(join(dir, '..').slice(top.length))) continue;
    matches.set(container.id, [...(matches.get(container.id) ?? []), dir]);
  }
  if (matches.size === 1) return [...matches.values()][0]!;
  throw new KmonOptionsError(
    matches.size === 0
      ? `filters.process.containers: no running container's id starts with ${prefix}`
      : `filters.process.containers: ${prefix} names ${matches.size} containers (${[...matches.keys()].map((id) => id.slice(0, 12)).join(', ')})`,
    { hint: 'give the id `docker ps` / `crictl ps` / `podman ps` shows, long enough to name one container' },
  );
}

export function toNativeFilter(filter: ProcessFilter): NativeProcessFilter {
  const cgroups = [...filter.cgroups.map(cgroupId), ...filter.containers.flatMap(containerCgroups).map(cgroupId)];
  return { pids: filter.pids, children: filter.children, uids: filter.uids, cgroups, comms: filter.comms };
}
