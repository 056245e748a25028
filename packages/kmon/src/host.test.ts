import { mkdirSync, mkdtempSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { cgroup2Mount, linuxHost } from './host.js';

const dir = () => mkdtempSync(join(tmpdir(), 'kmon-host-'));

describe('linuxHost', () => {
  it('names users and groups from passwd and group files; an unknown id is undefined', () => {
    const d = dir();
    writeFileSync(join(d, 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:100::/home/alice:/bin/sh\n\n# junk\nbad:x:notanumber\n');
    writeFileSync(join(d, 'group'), 'root:x:0:\nusers:x:100:alice\n');
    const host = linuxHost({ passwd: join(d, 'passwd'), group: join(d, 'group'), cgroupRoot: d });
    expect([host.userName(0), host.userName(1000), host.userName(4242)]).toEqual(['root', 'alice', undefined]);
    expect(host.groupName(100)).toBe('users');
  });

  it('missing files answer undefined, without throwing', () => {
    const host = linuxHost({ passwd: '/nonexistent/passwd', group: '/nonexistent/group', cgroupRoot: '/nonexistent' });
    expect([host.userName(0), host.groupName(0), host.cgroupPath(1n)]).toEqual([undefined, undefined, undefined]);
  });

  it('maps a cgroup id (its directory inode) to its path, finding a cgroup made after the first walk', () => {
    vi.useFakeTimers();
    try {
      const root = dir();
      mkdirSync(join(root, 'system.slice/docker-1.scope'), { recursive: true });
      const host = linuxHost({ cgroupRoot: root });
      const ino = (p: string) => statSync(join(root, p), { bigint: true }).ino;
      expect(host.cgroupPath(ino('.'))).toBe('/');
      expect(host.cgroupPath(ino('system.slice/docker-1.scope'))).toBe('/system.slice/docker-1.scope');
      mkdirSync(join(root, 'later'));
      const later = ino('later');
      expect(host.cgroupPath(later), 'a miss walks again').toBe('/later');
      mkdirSync(join(root, 'another')); // before the removal: tmpfs would give it the removed inode (cgroupfs never reuses ids)
      rmdirSync(join(root, 'later'));
      expect(host.cgroupPath(ino('another'))).toBe('/another');
      expect(host.cgroupPath(later), 'a removed cgroup still resolves (late events), also after another walk').toBe('/later');
    } finally {
      vi.useRealTimers();
    }
  });

  it('finds the cgroup2 mount in mountinfo (hybrid hosts: /sys/fs/cgroup/unified)', () => {
    const d = dir();
    writeFileSync(
      join(d, 'mountinfo'),
      '30 23 0:26 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n',
    );
    expect(cgroup2Mount(join(d, 'mountinfo'))).toBe('/sys/fs/cgroup/unified');
    expect(cgroup2Mount(join(d, 'none'))).toBeUndefined();
  });
});
