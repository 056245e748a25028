// Test support: what kernel objects this process holds, to prove that a
// session left nothing behind (per process, from /proc/self/fd and fdinfo,
// so other kmon users on the machine cannot make a check pass or fail), and
// a workload that makes a known number of fork records.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

/**
 * Of `objects` (as heldKernelObjects names them), those the kernel still
 * has, whoever holds them: a closed session's must all be gone.
 */
export function liveKernelObjects(objects: readonly string[]): string[] {
  const ids = (what: string) =>
    new Set((JSON.parse(execFileSync('bpftool', ['-j', what, 'show'], { encoding: 'utf8' }) || '[]') as Array<{ id: number }>).map((o) => `${what} ${o.id}`));
  const live = new Set(['prog', 'map', 'link'].flatMap((what) => [...ids(what)]));
  return objects.filter((o) => live.has(o));
}

let stormPath: string | undefined;

/**
 * A compiled program that creates threads one after another (each created
 * and joined): `<path> N` makes exactly N threads, so N fork records with
 * `threads: true`. Built once per process with cc.
 */
export function threadStormProgram(): string {
  if (stormPath) return stormPath;
  const dir = mkdtempSync(join(tmpdir(), 'kmon-storm-'));
  writeFileSync(
    join(dir, 'storm.c'),
    `#include <pthread.h>
     #include <stdlib.h>
     static void *nothing(void *arg) { return arg; }
     int main(int argc, char **argv) {
       long n = argc > 1 ? atol(argv[1]) : 0;
       for (long i = 0; i < n; i++) {
         pthread_t t;
         if (pthread_create(&t, NULL, nothing, NULL) != 0) return 1;
         pthread_join(t, NULL);
       }
       return 0;
     }`,
  );
  execFileSync('cc', ['-O1', '-pthread', '-o', join(dir, 'storm'), join(dir, 'storm.c')]);
  stormPath = join(dir, 'storm');
  return stormPath;
}
