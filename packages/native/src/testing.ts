// Test support: what kernel objects this process holds, to prove that a
// session left nothing behind. Per process (from /proc/self/fd and fdinfo),
// so other kmon users on the machine cannot make a check pass or fail.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** This process's BPF programs, maps and links ("prog 12"), and with `epoll` its epoll fds. */
export function heldKernelObjects(options: { epoll?: boolean } = {}): string[] {
  const objects: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // the fd of readdir itself
    }
    if (options.epoll && target === 'anon_inode:[eventpoll]') objects.push(`epoll fd ${fd}`);
    if (!target.startsWith('anon_inode:bpf')) continue;
    const id = /^(prog|map|link)_id:\s*(\d+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    objects.push(id ? `${id[1]} ${id[2]}` : target);
  }
  return objects.sort();
}
