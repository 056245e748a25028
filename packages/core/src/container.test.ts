import { describe, expect, it } from 'vitest';
import { containerOfCgroupPath } from './container.js';

const ID = 'a'.repeat(12) + '0123456789abcdef'.repeat(3) + '0123';

describe('containerOfCgroupPath', () => {
  it('names the runtime of a systemd scope', () => {
    expect(containerOfCgroupPath(`/system.slice/docker-${ID}.scope`)).toEqual({ id: ID, runtime: 'docker' });
    expect(containerOfCgroupPath(`/kubepods.slice/kubepods-burstable.slice/cri-containerd-${ID}.scope`)).toEqual({
      id: ID,
      runtime: 'containerd',
    });
    expect(containerOfCgroupPath(`/machine.slice/libpod-${ID}.scope/container`)).toEqual({ id: ID, runtime: 'podman' });
    expect(containerOfCgroupPath(`/kubepods.slice/crio-${ID}.scope`)).toEqual({ id: ID, runtime: 'cri-o' });
  });

  it('names a cgroupfs-managed container by its parent directory', () => {
    expect(containerOfCgroupPath(`/docker/${ID}`)).toEqual({ id: ID, runtime: 'docker' });
    expect(containerOfCgroupPath(`/libpod_parent/libpod-${ID}`)).toEqual({ id: ID, runtime: 'podman' });
  });

  it('finds no container in an ordinary cgroup or a short id', () => {
    expect(containerOfCgroupPath('/user.slice/user-0.slice/session-1.scope')).toBeUndefined();
    expect(containerOfCgroupPath('/system.slice/docker-abc.scope')).toBeUndefined();
    expect(containerOfCgroupPath(`/${ID}`)).toBeUndefined();
  });
});
