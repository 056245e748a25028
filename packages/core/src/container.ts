// Which container a cgroup v2 path belongs to. Container runtimes put each
// container in a cgroup named after its id: systemd-managed ones as a scope
// (docker-<id>.scope, cri-containerd-<id>.scope, crio-<id>.scope,
// libpod-<id>.scope), cgroupfs-managed ones as a directory under the
// runtime's own (/docker/<id>, /libpod_parent/libpod-<id>).
export type ContainerRuntime = 'docker' | 'containerd' | 'cri-o' | 'podman';

export interface ContainerRef {
  /** Full container id (64 hex digits). */
  id: string;
  runtime: ContainerRuntime;
}

const SCOPE_RUNTIMES: Record<string, ContainerRuntime> = {
  docker: 'docker',
  'cri-containerd': 'containerd',
  crio: 'cri-o',
  libpod: 'podman',
};

const SCOPE = /^(docker|cri-containerd|crio|libpod)-([0-9a-f]{64})\.scope$/u;
const CGROUPFS = /^(docker|libpod_parent|kubepods.*)$/u;
const BARE_ID = /^(?:libpod-)?([0-9a-f]{64})$/u;

/** The container of the innermost path segment naming one, or undefined. */
export function containerOfCgroupPath(path: string): ContainerRef | undefined {
  const segments = path.split('/').filter(Boolean);
  for (let i = segments.length - 1; i >= 0; i--) {
    const segment = segments[i]!;
    const scope = SCOPE.exec(segment);
    if (scope) return { id: scope[2]!, runtime: SCOPE_RUNTIMES[scope[1]!]! };
    const bare = BARE_ID.exec(segment);
    const parent = segments[i - 1];
    if (bare && parent !== undefined && CGROUPFS.test(parent)) {
      return { id: bare[1]!, runtime: parent === 'docker' ? 'docker' : parent === 'libpod_parent' ? 'podman' : 'containerd' };
    }
  }
  return undefined;
}
