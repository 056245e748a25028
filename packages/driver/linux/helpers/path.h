/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * Path helpers: absolute paths resolved by the kernel's own dentries.
 * bpf_d_path is refused in tracepoints, so the walk is done by hand: from a
 * dentry up its d_parent chain, hopping from a mount's root to the dentry it
 * is mounted on, until the task's root (as d_path stops there) or the mount
 * namespace's root. Names are written right to left into the per-CPU
 * kmon_path_buf, one component per bpf_loop step (an unrolled loop of this
 * depth exceeds the verifier's instruction budget).
 *
 * A path is a range [start, start + len) of that buffer. One that would be
 * longer than KMON_PATH_MAX or deeper than KMON_PATH_DEPTH_MAX keeps its last
 * components (the file, its directory...) without a leading '/' and is
 * reported as cut.
 */
#ifndef KMON_HELPERS_PATH_H
#define KMON_HELPERS_PATH_H

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/* A kernel address as a read-only typed pointer: fields load directly (no helper call). */
#define KERNEL(type, addr) ((struct type *)bpf_rdonly_cast((const void *)(addr), bpf_core_type_id_kernel(struct type)))

#define KMON_PATH_MASK (KMON_PATH_MAX - 1)
#define KMON_PATH_MID KMON_PATH_MAX /* where the halves of kmon_path_slot.buf meet */
#define KMON_AT_FDCWD (-100)

struct path_range {
	__u32 start;
	__u32 len;
	__u32 cut;     /* too long or too deep: the range keeps the path's end */
	__u32 given;   /* name-based: bytes of the part as given, at KMON_PATH_MID */
};

static __always_inline struct kmon_path_slot *path_slot(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&kmon_path_buf, &zero);
}

/* struct vfsmount is embedded in struct mount, which holds the mount tree. */
static __always_inline __u64 mount_of(__u64 vfsmount)
{
	return vfsmount - bpf_core_field_offset(struct mount, mnt);
}

/* The snapshot iterator's own scratch: it may sleep, so it cannot share a per-CPU slot with the tracepoints. */
static __always_inline struct kmon_path_slot *snapshot_path_slot(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&kmon_snapshot_path, &zero);
}

struct walk {
	__u64 dentry;
	__u64 mnt;          /* struct mount of dentry */
	__u64 root_dentry;  /* the task's root */
	__u64 root_mnt;
	__u32 pos;          /* first byte written; the path ends where the walk began */
	__u32 done;         /* reached a root: the path is whole */
	__u32 snapshot;     /* write to snapshot_path_slot(), not path_slot() */
	__u32 reserved;
};

static long walk_step(__u64 index, void *ctx)
{
	struct walk *w = ctx;
	struct kmon_path_slot *s = w->snapshot ? snapshot_path_slot() : path_slot();
	struct dentry *d;
	struct mount *m;
	__u64 parent, mnt_root;
	__u32 len;

	if (!s)
		return 1;
	if (w->dentry == w->root_dentry && w->mnt == w->root_mnt) {
		w->done = 1;
		return 1;
	}
	d = KERNEL(dentry, w->dentry);
	m = KERNEL(mount, w->mnt);
	mnt_root = (__u64)m->mnt.mnt_root;
	parent = (__u64)d->d_parent;
	if (w->dentry == mnt_root) {
		__u64 up = (__u64)m->mnt_parent;

		if (up == w->mnt) { /* the namespace's root mount */
			w->done = 1;
			return 1;
		}
		w->dentry = (__u64)m->mnt_mountpoint;
		w->mnt = up;
		return 0;
	}
	len = d->d_name.len;
	if (len + 1 > w->pos)
		return 1;
	w->pos -= len;
	bpf_probe_read_kernel(&s->buf[w->pos & KMON_PATH_MASK], len & KMON_PATH_MASK, d->d_name.name);
	if (parent == w->dentry) {
		/* A dentry of no directory (memfd, pipe, socket): its name is all there is. */
		w->done = 1;
		return 1;
	}
	w->pos -= 1;
	s->buf[w->pos & KMON_PATH_MASK] = '/';
	w->dentry = parent;
	return 0;
}

/*
 * Walks (dentry, vfsmount) up to `task`'s root into the buffer of the slot
 * `snapshot` picks, so that it ends at `end`; returns the start.
 */
static __always_inline __u32 walk_path_of(struct task_struct *task, __u32 snapshot, __u64 dentry, __u64 vfsmount,
					  __u32 end, __u32 *cut)
{
	struct fs_struct *fs = task->fs;
	struct walk w = {
		.dentry = dentry,
		.mnt = mount_of(vfsmount),
		.root_dentry = (__u64)fs->root.dentry,
		.root_mnt = mount_of((__u64)fs->root.mnt),
		.pos = end,
		.snapshot = snapshot,
	};

	bpf_loop(KMON_PATH_DEPTH_MAX, walk_step, &w, 0);
	if (!w.done)
		*cut = 1;
	return w.pos;
}

/* walk_path_of the current task, in path_slot(). */
static __always_inline __u32 walk_path(__u64 dentry, __u64 vfsmount, __u32 end, __u32 *cut)
{
	return walk_path_of(bpf_get_current_task_btf(), 0, dentry, vfsmount, end, cut);
}

/* Ends a walk that ended at KMON_PATH_MID: "/" for the root, the tail without its '/' when cut. */
static __always_inline void finish_walk(struct kmon_path_slot *s, struct path_range *r, __u32 pos)
{
	if (pos == KMON_PATH_MID) {
		pos -= 1;
		s->buf[pos & KMON_PATH_MASK] = '/';
	} else if (r->cut) {
		pos += 1;
	}
	r->start = pos;
	r->len = KMON_PATH_MID - pos;
}

/* The absolute path of an open file (struct file address). */
static __always_inline void file_path(struct kmon_path_slot *s, __u64 file, struct path_range *r)
{
	struct file *f = KERNEL(file, file);

	finish_walk(s, r, walk_path((__u64)f->f_path.dentry, (__u64)f->f_path.mnt, KMON_PATH_MID, &r->cut));
}

/* The absolute path of a struct path (cwd, root). */
static __always_inline void dir_path(struct kmon_path_slot *s, struct path *p, struct path_range *r)
{
	finish_walk(s, r, walk_path((__u64)p->dentry, (__u64)p->mnt, KMON_PATH_MID, &r->cut));
}

/* The struct file of this task's fd, 0 if there is none. */
static __always_inline __u64 fd_file(long fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = task->files->fdt;
	struct file **fds = fdt->fd;
	__u64 file = 0;

	if (fd < 0 || fd >= fdt->max_fds)
		return 0;
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	return file;
}

/*
 * A name-based path: the string the process passed (re-read at exit, so a
 * thread rewriting it meanwhile can change it), joined to the directory it is
 * relative to (dirfd, or the cwd for AT_FDCWD) as the kernel resolves that
 * directory. `.`, `..` and symlinks in the given part stay as given.
 */
static __always_inline void given_path(struct kmon_path_slot *s, long dirfd, const char *upath, struct path_range *r)
{
	long n = bpf_probe_read_user_str(&s->buf[KMON_PATH_MID], KMON_PATH_MAX, upath);
	__u32 given = n > 0 ? n - 1 : 0;
	__u32 pos, total;
	__u64 dir;

	r->given = given;
	if (given > 0 && s->buf[KMON_PATH_MID] == '/') {
		r->start = KMON_PATH_MID;
		r->len = given;
		return;
	}
	if (dirfd == KMON_AT_FDCWD) {
		struct task_struct *task = bpf_get_current_task_btf();
		struct path *pwd = &task->fs->pwd;

		pos = walk_path((__u64)pwd->dentry, (__u64)pwd->mnt, KMON_PATH_MID - 1, &r->cut);
	} else {
		struct file *f;

		dir = fd_file(dirfd);
		if (!dir) { /* a bad dirfd: the call failed, say what was given */
			r->start = KMON_PATH_MID;
			r->len = given;
			return;
		}
		f = KERNEL(file, dir);
		pos = walk_path((__u64)f->f_path.dentry, (__u64)f->f_path.mnt, KMON_PATH_MID - 1, &r->cut);
	}
	s->buf[KMON_PATH_MID - 1] = '/';
	total = KMON_PATH_MID + given - pos;
	if (total > KMON_PATH_MAX) {
		r->cut = 1;
		pos = KMON_PATH_MID + given - KMON_PATH_MAX;
		total = KMON_PATH_MAX;
	}
	r->start = pos;
	r->len = total;
}

/* Copies a path range into a record's variable part; returns its length. */
static __always_inline __u32 put_path(char *dst, struct kmon_path_slot *s, struct path_range *r, __u32 field, __u32 *flags)
{
	__u32 len = r->len;

	if (len > KMON_PATH_MAX)
		len = KMON_PATH_MAX;
	if (r->cut)
		*flags |= KMON_F_TRUNCATED(field);
	if (bpf_probe_read_kernel(dst, len, &s->buf[r->start & (2 * KMON_PATH_MAX - 1)]))
		return 0;
	return len;
}

#endif /* KMON_HELPERS_PATH_H */
