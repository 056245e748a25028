// Process lifecycle, on every platform: exec, exit, fork.
import { z } from 'zod';
import { comm, reserved, s32, strings, text, u32, u64, u64Repeating, flag } from './define.js';
import { processStart } from './identity.js';
import { defineKind } from './kind.js';

/** A process and its parent: how exec reports them and the snapshot seeds them. */
const lineage = {
  /** Process start time (same clock as `time`): with pid, the process identity (the same on every event of the process). */
  startTime: processStart(),
  /** The parent's start time: with ppid, the parent's identity. */
  parentStartTime: u64Repeating('parent_start_ns'),
  /** Parent process id. */
  ppid: u32('ppid'),
  /** Real user id (a setuid image changes the effective id only). */
  uid: u32('uid'),
  /** Real group id. */
  gid: u32('gid'),
} as const;

export const exec = defineKind({
  name: 'exec',
  number: 1,
  struct: 'kmon_exec',
  doc: 'A process replaced its image (execve).',
  fields: {
    ...lineage,
    /** Number of arguments passed, also when argv was cut. */
    argc: u32('argc'),
    /** Process name after exec (at most 15 bytes). */
    comm: comm('comm'),
    /** Executable path as passed to exec. */
    filename: text('path_len'),
    /** Arguments, argv[0] first (cut at the session's argvBytes). */
    argv: strings('argv_len'),
    /** Linux: the executable, absolute path resolved by the kernel (symlinks followed); '' on Windows. */
    exe: text('exe_len'),
    /** Linux: the working directory, resolved by the kernel; '' on Windows. */
    cwd: text('cwd_len'),
  },
});

export const exit = defineKind({
  name: 'exit',
  number: 2,
  struct: 'kmon_exit',
  doc: 'A whole process exited (reported once, whichever thread was last).',
  fields: {
    /** Process start time: `time - startTime` is its lifetime. */
    startTime: processStart(),
    /** Exit status (0..255 on Linux, an NTSTATUS on Windows) when the process exited rather than being killed. */
    exitCode: s32('exit_code'),
    /** Terminating signal, 0 when the process exited by itself. */
    signal: u32('signal', z.number().int().min(0).max(127)),
    /** Process name. */
    comm: comm('comm'),
  },
  flags: {
    /** The process dumped core. */
    coreDumped: flag('KMON_F_CORE_DUMPED', 9),
  },
});

export const fork = defineKind({
  name: 'fork',
  number: 3,
  struct: 'kmon_fork',
  doc: 'A process (or, with `threads`, a thread) was created; pid/tid are the parent.',
  fields: {
    /** The parent's start time: with pid, the parent's identity. */
    parentStartTime: u64Repeating('parent_start_ns'),
    /** Start of the child *process* (for a thread, its process's): with childPid, the child's identity. */
    childStartTime: u64('child_start_ns'),
    /** The child's process id. */
    childPid: u32('child_tgid'),
    /** The child's thread id (equals childPid for a process). */
    childTid: u32('child_tid'),
    /** The parent process's name. */
    comm: comm('comm'),
  },
  flags: {
    /** The child is a thread of the parent (reported only with `threads: true`). */
    thread: flag('KMON_F_THREAD', 8),
  },
});

export const execFailed = defineKind({
  name: 'exec-failed',
  number: 21,
  struct: 'kmon_exec_failed',
  doc: 'An exec (execve, execveat) failed; the caller goes on with its old image.',
  fields: {
    /** errno of the failure, positive (2 ENOENT: no such file, 13 EACCES: not executable or no permission, 8 ENOEXEC: unknown format). */
    error: s32('error'),
    /** Number of arguments read from the caller's argv, also when argv was cut. */
    argc: u32('argc'),
    /** The caller's process name. */
    comm: comm('comm'),
    /** The path exec was asked to run, as passed. */
    filename: text('path_len'),
    /** The arguments passed, argv[0] first (at most 32 and 1024 bytes). */
    argv: strings('argv_len'),
    _reserved: reserved('reserved', 'u32'),
  },
});

export const processSnapshot = defineKind({
  name: 'process',
  number: 22,
  struct: 'kmon_process',
  doc:
    'A process that was running when the session attached: the snapshot that seeds process tables, one record per process, ' +
    'delivered before any other record (Linux; sessions whose kinds include `process`). `time` is when it was read; ' +
    '`cpu` is 0xffffffff and `seq` numbers the snapshot on its own.',
  fields: {
    ...lineage,
    /** Number of arguments its exec was given (0 for kernel threads), also when argv was cut. */
    argc: u32('argc'),
    /** Process name (at most 15 bytes). */
    comm: comm('comm'),
    /** The executable, absolute path resolved by the kernel; '' for kernel threads. */
    exe: text('exe_len'),
    /** The working directory, resolved by the kernel. */
    cwd: text('cwd_len'),
    /** Arguments, argv[0] first (cut at the session's argvBytes, at most 16384 bytes). */
    argv: strings('argv_len'),
    _reserved: reserved('reserved', 'u16'),
  },
  flags: {
    /** Built from /proc because the kernel's iterator was unavailable: start times have clock-tick resolution, so the process key may differ from its events'. */
    approximate: flag('KMON_F_APPROXIMATE', 18),
  },
});
