// File activity on Linux: what processes open, create, remove, rename and
// change, with absolute paths resolved by the kernel (see
// packages/driver/linux/README.md for how, and what "unresolved" means).
import { posix } from 'node:path';
import { z } from 'zod';
import { comm, flag, reserved, s32, text, u32, u64, varCustom } from './define.js';
import { processStart } from './identity.js';
import { defineKind } from './kind.js';
import { decodeText } from '../text.js';

/** The record's paths were joined rather than walked (every file kind has the flag). */
const UNRESOLVED = flag('KMON_F_FILE_UNRESOLVED', 11);

/**
 * A path the driver wrote: walked by the kernel from the file (normal by
 * construction: no dentry is named "", "." or ".."), or, flagged UNRESOLVED,
 * the kernel-resolved directory joined with the path as the process gave
 * it, which is normalised here as the kernel would have without symlinks
 * (`.`, `..`, `//`). Only flagged paths are checked: the check was ~10% of a
 * live open event. A path cut at a limit has no leading `/` and is left as
 * it is.
 */
const path = (cLen: string) =>
  varCustom(cLen, z.string(), (buf, start, end, flags) => {
    const given = decodeText(buf, start, end);
    return (flags & (1 << UNRESOLVED.bit)) === 0 ? given : normalisePath(given);
  });

/** An empty, "." or ".." component, or a trailing "/": what a path the kernel walked never has. */
const NOT_NORMAL = /\/\.{0,2}(?:\/|$)/u;

function normalisePath(p: string): string {
  if (!p.startsWith('/') || !NOT_NORMAL.test(p)) return p; // posix.normalize costs more than the rest of an open's decoding
  const normal = posix.normalize(p);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

/** Every file kind starts with its process. */
const fileProcess = {
  /** Process start time: with pid, the process identity (the same on every event of the process). */
  startTime: processStart(),
} as const;

export const open = defineKind({
  name: 'open',
  number: 7,
  struct: 'kmon_open',
  doc: 'A file was opened (open, openat, openat2, creat).',
  fields: {
    ...fileProcess,
    /** Inode number (0 when the open failed). */
    ino: u64('ino'),
    /** Device, as stat() reports it (0 when the open failed). */
    dev: u32('dev'),
    /** Open flags as requested (O_*). */
    openFlags: u32('flags'),
    /** Requested mode with O_CREAT or O_TMPFILE, else 0. */
    mode: u32('mode'),
    /** The new fd, or -errno when the open failed. */
    result: s32('result'),
    /** Name of the calling thread. */
    comm: comm('comm'),
    /** Absolute path: walked by the kernel from the opened file (as given, normalised, when the open failed). */
    path: path('path_len'),
    _reserved0: reserved('reserved0', 'u16'),
    _reserved1: reserved('reserved1', 'u32'),
  },
  flags: {
    /** This open created the file. */
    created: flag('KMON_F_FILE_CREATED', 10),
    /** The path is the kernel-resolved directory joined with the path as given (the open failed). */
    unresolved: UNRESOLVED,
  },
});

export const unlink = defineKind({
  name: 'unlink',
  number: 8,
  struct: 'kmon_unlink',
  doc: 'A name was removed (unlink, unlinkat, rmdir).',
  fields: {
    ...fileProcess,
    /** 0, or -errno when the call failed. */
    result: s32('result'),
    _reserved0: reserved('reserved0', 'u32'),
    /** Name of the calling thread. */
    comm: comm('comm'),
    /** The removed path: the kernel-resolved directory joined with the path as given, normalised. */
    path: path('path_len'),
    _reserved1: reserved('reserved1', 'u16'),
    _reserved2: reserved('reserved2', 'u32'),
  },
  flags: {
    /** A directory was removed (rmdir, unlinkat with AT_REMOVEDIR). */
    directory: flag('KMON_F_FILE_DIR', 12),
    /** The path is the kernel-resolved directory joined with the path as given. */
    unresolved: UNRESOLVED,
  },
});

export const rename = defineKind({
  name: 'rename',
  number: 9,
  struct: 'kmon_rename',
  doc: 'A file was renamed or moved (rename, renameat, renameat2).',
  fields: {
    ...fileProcess,
    /** renameat2 flags (RENAME_NOREPLACE 1, RENAME_EXCHANGE 2, RENAME_WHITEOUT 4), else 0. */
    renameFlags: u32('flags'),
    /** 0, or -errno when the call failed. */
    result: s32('result'),
    /** Name of the calling thread. */
    comm: comm('comm'),
    /** The old path (directory resolved by the kernel, the rest as given, normalised). */
    oldPath: path('old_len'),
    /** The new path (likewise). */
    newPath: path('new_len'),
    _reserved: reserved('reserved', 'u32'),
  },
  flags: {
    /** The paths are the kernel-resolved directories joined with the paths as given. */
    unresolved: UNRESOLVED,
  },
});

export const mkdir = defineKind({
  name: 'mkdir',
  number: 10,
  struct: 'kmon_mkdir',
  doc: 'A directory was created (mkdir, mkdirat).',
  fields: {
    ...fileProcess,
    /** Requested mode (before the umask). */
    mode: u32('mode'),
    /** 0, or -errno when the call failed. */
    result: s32('result'),
    /** Name of the calling thread. */
    comm: comm('comm'),
    /** The new directory (its parent resolved by the kernel, the rest as given, normalised). */
    path: path('path_len'),
    _reserved0: reserved('reserved0', 'u16'),
    _reserved1: reserved('reserved1', 'u32'),
  },
  flags: {
    /** The path is the kernel-resolved directory joined with the path as given. */
    unresolved: UNRESOLVED,
  },
});

export const chmod = defineKind({
  name: 'chmod',
  number: 11,
  struct: 'kmon_chmod',
  doc: "A file's mode was changed (chmod, fchmod, fchmodat, fchmodat2).",
  fields: {
    ...fileProcess,
    /** The new mode (permission bits). */
    mode: u32('mode'),
    /** 0, or -errno when the call failed. */
    result: s32('result'),
    /** Name of the calling thread. */
    comm: comm('comm'),
    /** The file: walked from the fd (fchmod), else the kernel-resolved directory joined with the path as given. */
    path: path('path_len'),
    _reserved0: reserved('reserved0', 'u16'),
    _reserved1: reserved('reserved1', 'u32'),
  },
  flags: {
    /** The path is the kernel-resolved directory joined with the path as given. */
    unresolved: UNRESOLVED,
  },
});

export const chown = defineKind({
  name: 'chown',
  number: 12,
  struct: 'kmon_chown',
  doc: "A file's owner or group was changed (chown, fchown, lchown, fchownat).",
  fields: {
    ...fileProcess,
    /** The new owner; 4294967295 (-1) leaves it unchanged. */
    uid: u32('uid'),
    /** The new group; 4294967295 (-1) leaves it unchanged. */
    gid: u32('gid'),
    /** 0, or -errno when the call failed. */
    result: s32('result'),
    _reserved0: reserved('reserved0', 'u32'),
    /** Name of the calling thread. */
    comm: comm('comm'),
    /** The file: walked from the fd (fchown), else the kernel-resolved directory joined with the path as given. */
    path: path('path_len'),
    _reserved1: reserved('reserved1', 'u16'),
    _reserved2: reserved('reserved2', 'u32'),
  },
  flags: {
    /** The path is the kernel-resolved directory joined with the path as given. */
    unresolved: UNRESOLVED,
  },
});

export const link = defineKind({
  name: 'link',
  number: 13,
  struct: 'kmon_link',
  doc: 'A hard or symbolic link was made (link, linkat, symlink, symlinkat).',
  fields: {
    ...fileProcess,
    /** 0, or -errno when the call failed. */
    result: s32('result'),
    _reserved0: reserved('reserved0', 'u32'),
    /** Name of the calling thread. */
    comm: comm('comm'),
    /** Hard link: the existing path (directory resolved, the rest as given). Symlink: its content, exactly as given. */
    target: text('target_len'),
    /** The new name (its directory resolved by the kernel, the rest as given, normalised). */
    path: path('path_len'),
    _reserved1: reserved('reserved1', 'u32'),
  },
  flags: {
    /** A symbolic link: `target` is its content, not a path the kernel resolved. */
    symlink: flag('KMON_F_FILE_SYMLINK', 13),
    /** The paths are the kernel-resolved directories joined with the paths as given. */
    unresolved: UNRESOLVED,
  },
});
