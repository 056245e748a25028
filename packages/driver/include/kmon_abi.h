/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * kmon record ABI: the single source of truth for the records every kmon
 * driver (Linux eBPF, Windows WDM) writes and @kmon/core decodes.
 *
 * A record is a common header followed by a kind-specific fixed body and then
 * the body's variable-length fields, in the order the body declares their
 * lengths, with no terminating NUL. The whole record is zero-padded to a
 * multiple of KMON_RECORD_ALIGN and `size` counts every byte of it.
 *
 * Strings are UTF-8 bytes as the kernel saw them (Linux does not guarantee
 * valid UTF-8; the decoder replaces invalid sequences). argv is the
 * NUL-separated argument block as in /proc/PID/cmdline.
 *
 * A body's `*_len` members are the lengths of its variable fields, in order;
 * field N's truncation flag is KMON_F_TRUNCATED(N), named per kind by an
 * `enum kmon_<kind>_var` beside the struct (drivers use those names).
 *
 * Layout is pinned twice: by the static asserts at the end of this file (so no
 * driver builds against a moved field) and by @kmon/core's ABI test, which
 * compiles this header to BTF and compares every member (name, offset, size,
 * signedness), every constant and kind number with the TypeScript kind
 * definitions (packages/core/src/kinds), the one TS description of each kind.
 *
 * Only fixed-width unsigned/signed char, short, int and long long are used:
 * they have the same size on LP64 Linux, LLP64 Windows and BPF.
 */
#ifndef KMON_ABI_H
#define KMON_ABI_H

typedef unsigned char kmon_u8;
typedef unsigned short kmon_u16;
typedef unsigned int kmon_u32;
typedef int kmon_s32;
typedef unsigned long long kmon_u64;

/*
 * Bumped whenever a kind's layout changes, so that a decoder never reads
 * records of another layout (captures name the version they hold). 2: the
 * network kinds carry start_ns.
 */
#define KMON_ABI_VERSION 2
#define KMON_RECORD_ALIGN 8
#define KMON_COMM_LEN 16

/* Hard caps of the variable-length fields (bytes). */
#define KMON_PATH_MAX 4096
#define KMON_ARGV_MAX 32768      /* argv cap chosen at load may not exceed this */
#define KMON_ARGV_DEFAULT 4096
#define KMON_PAYLOAD_MAX 4096    /* synthetic records */
#define KMON_KEY_MAX 1024        /* registry key / value name */
#define KMON_UNIX_PATH_MAX 108   /* sun_path: a unix socket's path or abstract name */
#define KMON_DNS_MAX 512         /* DNS query bytes kept (the classic UDP message limit) */
#define KMON_PATH_DEPTH_MAX 128  /* path components a Linux path walk follows; deeper paths are cut */

enum kmon_kind {
	KMON_KIND_EXEC = 1,         /* a process replaced its image (execve) */
	KMON_KIND_EXIT = 2,         /* a whole process exited (not each thread) */
	KMON_KIND_FORK = 3,         /* a process (or, if asked, a thread) was created */
	KMON_KIND_SYNTH = 4,        /* synthetic load-generator record (tests, benchmarks) */
	KMON_KIND_IMAGE_LOAD = 5,   /* Windows: an image was mapped */
	KMON_KIND_REGISTRY_SET = 6, /* Windows: a registry value was written */
	KMON_KIND_OPEN = 7,         /* a file was opened (open, openat, openat2, creat) */
	KMON_KIND_UNLINK = 8,       /* a name was removed (unlink, unlinkat, rmdir) */
	KMON_KIND_RENAME = 9,       /* rename, renameat, renameat2 */
	KMON_KIND_MKDIR = 10,       /* mkdir, mkdirat */
	KMON_KIND_CHMOD = 11,       /* chmod, fchmod, fchmodat, fchmodat2 */
	KMON_KIND_CHOWN = 12,       /* chown, fchown, lchown, fchownat */
	KMON_KIND_LINK = 13,        /* link, linkat, symlink, symlinkat */
	KMON_KIND_CONNECT = 14,     /* a socket connect() returned (success, in progress or error) */
	KMON_KIND_ACCEPT = 15,      /* accept()/accept4() returned a connection */
	KMON_KIND_LISTEN = 16,      /* listen() returned */
	KMON_KIND_BIND = 17,        /* bind() returned */
	KMON_KIND_CLOSE = 18,       /* a TCP connection this session saw open was closed */
	KMON_KIND_SEND = 19,        /* UDP datagrams were sent to one destination by one call */
	KMON_KIND_DNS = 20,         /* a UDP datagram was sent to port 53: a DNS query */
	KMON_KIND_EXEC_FAILED = 21, /* an execve/execveat failed */
	KMON_KIND_PROCESS = 22,     /* a process that was running when the session attached (the snapshot) */
	KMON_KIND_COUNT = 23        /* array bound for per-kind counters; kind 0 is never used */
};

/* Header flags. Bits 0..7: variable-length field N of the body was cut at its cap. */
#define KMON_F_TRUNCATED(n) (1u << (n))
#define KMON_F_TRUNCATED_MASK 0xffu
#define KMON_F_THREAD (1u << 8)       /* fork: the child is a thread of the parent */
#define KMON_F_CORE_DUMPED (1u << 9)  /* exit: the process dumped core */

/* Header flags of the file kinds (bits 10-13). */
enum kmon_file_flag {
	KMON_F_FILE_CREATED = 1u << 10,    /* open: this call created the file */
	/* The path fields are the kernel-resolved base directory (cwd or dirfd) joined
	 * with the path as the process gave it: `.`, `..` and symlinks in the given
	 * part were not resolved by the kernel, the decoder normalises it lexically.
	 * Name-based calls always; a failed open (there is no file to walk). */
	KMON_F_FILE_UNRESOLVED = 1u << 11,
	KMON_F_FILE_DIR = 1u << 12,        /* unlink: a directory was removed (rmdir, AT_REMOVEDIR) */
	KMON_F_FILE_SYMLINK = 1u << 13,    /* link: a symbolic link; `target` is its content as given */
};

struct kmon_header {
	kmon_u16 abi_version;  /* KMON_ABI_VERSION */
	kmon_u16 kind;         /* enum kmon_kind */
	kmon_u32 size;         /* whole record in bytes, header and padding included */
	kmon_u32 flags;        /* KMON_F_* */
	kmon_u32 cpu;          /* CPU the record was produced on */
	kmon_u64 seq;          /* one per record attempted, per CPU: a gap of n on a CPU is n records dropped and counted (kmon.sys numbers per CPU and kind; @kmon/native renumbers a session's records per CPU) */
	kmon_u64 ts_ns;        /* CLOCK_MONOTONIC ns (Windows: interrupt time in ns) */
	kmon_u32 tgid;         /* process of the task that caused the event */
	kmon_u32 tid;          /* that task */
	kmon_u64 cgroup_id;    /* its cgroup v2 id (0 on Windows) */
};

/* Process identity is (tgid, start_ns): pids are reused, start times are not. */

struct kmon_exec {
	struct kmon_header hdr;
	kmon_u64 start_ns;         /* process start, same clock as ts_ns */
	kmon_u64 parent_start_ns;
	kmon_u32 ppid;
	kmon_u32 uid;
	kmon_u32 gid;
	kmon_u32 argc;             /* arguments passed, even when argv was cut */
	char comm[KMON_COMM_LEN];  /* NUL-padded */
	kmon_u16 path_len;         /* field 0: executable path as passed to exec */
	kmon_u16 argv_len;         /* field 1: NUL-separated arguments */
	kmon_u16 exe_len;          /* field 2: executable, absolute path resolved by the kernel (Linux) */
	kmon_u16 cwd_len;          /* field 3: working directory, resolved by the kernel (Linux) */
};
enum kmon_exec_var { KMON_EXEC_VAR_PATH = 0, KMON_EXEC_VAR_ARGV = 1, KMON_EXEC_VAR_EXE = 2, KMON_EXEC_VAR_CWD = 3 };

struct kmon_exit {
	struct kmon_header hdr;
	kmon_u64 start_ns;         /* so lifetime = hdr.ts_ns - start_ns */
	kmon_s32 exit_code;        /* exit status (0..255 on Linux, NTSTATUS-sized on Windows) */
	kmon_u32 signal;           /* terminating signal, 0 if the process exited */
	char comm[KMON_COMM_LEN];
};

struct kmon_fork {
	struct kmon_header hdr;    /* hdr.tgid/tid: the parent */
	kmon_u64 parent_start_ns;
	kmon_u64 child_start_ns;
	kmon_u32 child_tgid;
	kmon_u32 child_tid;
	char comm[KMON_COMM_LEN];
};

struct kmon_synth {
	struct kmon_header hdr;
	kmon_u64 value;            /* generator's own counter, echoed */
	kmon_u16 payload_len;      /* field 0: filler bytes */
	kmon_u16 reserved0;
	kmon_u32 reserved1;
};
enum kmon_synth_var { KMON_SYNTH_VAR_PAYLOAD = 0 };

struct kmon_image_load {
	struct kmon_header hdr;
	kmon_u64 image_base;       /* user-mode images only; 0 for system images */
	kmon_u64 image_size;
	kmon_u16 path_len;         /* field 0 */
	kmon_u16 reserved0;
	kmon_u32 reserved1;
};
enum kmon_image_load_var { KMON_IMAGE_LOAD_VAR_PATH = 0 };

struct kmon_registry_set {
	struct kmon_header hdr;
	kmon_u32 value_type;       /* REG_* */
	kmon_u32 data_size;
	kmon_u16 key_len;          /* field 0: key path */
	kmon_u16 value_name_len;   /* field 1 */
	kmon_u32 reserved;
};
enum kmon_registry_set_var { KMON_REGISTRY_SET_VAR_KEY = 0, KMON_REGISTRY_SET_VAR_VALUE_NAME = 1 };

/*
 * Network kinds. Flag bits 14..17 belong to them. Addresses are as the
 * kernel has them: IPv4 on an AF_INET6 socket stays ::ffff:a.b.c.d here
 * (decoders show it as IPv4), ports are in host byte order.
 */
enum kmon_net_flag {
	KMON_F_ABSTRACT = 1u << 14, /* the unix path field is an abstract name (its leading NUL dropped) */
	KMON_F_INBOUND = 1u << 15,  /* close: the connection was accepted, not connected */
};

struct kmon_sockaddr {
	kmon_u16 family;    /* AF_* (AF_UNIX 1, AF_INET 2, AF_INET6 10); 0: none */
	kmon_u16 port;      /* host byte order */
	kmon_u32 scope_id;  /* IPv6 scope (interface index), else 0 */
	kmon_u8 addr[16];   /* network order: IPv4 in the first 4 bytes, IPv6 in all 16 */
};

struct kmon_connect {
	struct kmon_header hdr;
	kmon_u64 start_ns;            /* process start: (tgid, start_ns) is the process */
	char comm[KMON_COMM_LEN];
	struct kmon_sockaddr local;   /* the socket's own end after the call */
	struct kmon_sockaddr remote;  /* the destination as passed to connect() */
	kmon_s32 result;              /* 0, -EINPROGRESS (non-blocking) or -errno */
	kmon_s32 fd;
	kmon_u16 type;                /* SOCK_STREAM 1, SOCK_DGRAM 2, ... */
	kmon_u16 protocol;            /* IPPROTO_TCP 6, IPPROTO_UDP 17; 0 for unix */
	kmon_u16 path_len;            /* field 0: unix destination path or abstract name */
	kmon_u16 reserved;
};
enum kmon_connect_var { KMON_CONNECT_VAR_PATH = 0 };

struct kmon_accept {
	struct kmon_header hdr;
	kmon_u64 start_ns;            /* process start: (tgid, start_ns) is the process */
	char comm[KMON_COMM_LEN];
	struct kmon_sockaddr local;   /* the listening end */
	struct kmon_sockaddr remote;  /* the peer */
	kmon_s32 fd;                  /* the listening socket */
	kmon_s32 new_fd;              /* the accepted connection */
	kmon_u16 type;
	kmon_u16 protocol;
	kmon_u16 path_len;            /* field 0: unix listening path or abstract name */
	kmon_u16 reserved;
};
enum kmon_accept_var { KMON_ACCEPT_VAR_PATH = 0 };

struct kmon_listen {
	struct kmon_header hdr;
	kmon_u64 start_ns;            /* process start: (tgid, start_ns) is the process */
	char comm[KMON_COMM_LEN];
	struct kmon_sockaddr local;   /* the bound address */
	kmon_s32 result;              /* 0 or -errno */
	kmon_s32 fd;
	kmon_u16 type;
	kmon_u16 protocol;
	kmon_u16 path_len;            /* field 0: unix path or abstract name */
	kmon_u16 reserved0;
	kmon_u32 backlog;             /* as passed */
	kmon_u32 reserved1;
};
enum kmon_listen_var { KMON_LISTEN_VAR_PATH = 0 };

struct kmon_bind {
	struct kmon_header hdr;
	kmon_u64 start_ns;            /* process start: (tgid, start_ns) is the process */
	char comm[KMON_COMM_LEN];
	struct kmon_sockaddr local;   /* the bound address (the kernel's choice of port on success) */
	kmon_s32 result;              /* 0 or -errno */
	kmon_s32 fd;
	kmon_u16 type;
	kmon_u16 protocol;
	kmon_u16 path_len;            /* field 0: unix path or abstract name */
	kmon_u16 reserved;
};
enum kmon_bind_var { KMON_BIND_VAR_PATH = 0 };

/* hdr.tgid/tid/cgroup_id, start_ns and comm: the task whose connect or accept opened the connection. */
struct kmon_close {
	struct kmon_header hdr;
	kmon_u64 start_ns;            /* that task's process start */
	char comm[KMON_COMM_LEN];     /* that task's name */
	struct kmon_sockaddr local;
	struct kmon_sockaddr remote;
	kmon_u64 duration_ns;         /* from connect/accept returning to the close */
	kmon_u64 bytes_sent;          /* acknowledged by the peer */
	kmon_u64 bytes_received;
};

struct kmon_send {
	struct kmon_header hdr;
	kmon_u64 start_ns;            /* process start: (tgid, start_ns) is the process */
	char comm[KMON_COMM_LEN];
	struct kmon_sockaddr local;
	struct kmon_sockaddr remote;  /* from the call, or the socket's connected peer */
	kmon_s32 fd;
	kmon_u32 datagrams;           /* sent by this call to this destination */
	kmon_u64 bytes;
};

struct kmon_dns {
	struct kmon_header hdr;
	kmon_u64 start_ns;            /* process start: (tgid, start_ns) is the process */
	char comm[KMON_COMM_LEN];
	struct kmon_sockaddr local;
	struct kmon_sockaddr server;
	kmon_s32 fd;
	kmon_u16 query_len;           /* field 0: the datagram as sent, cut at KMON_DNS_MAX */
	kmon_u16 reserved;
};
enum kmon_dns_var { KMON_DNS_VAR_QUERY = 0 };

/*
 * The snapshot (kind 22): one record per process alive when the session
 * attached, written before any ring record, so that a consumer knows the
 * processes it will see events of. Not from the ring: hdr.cpu is
 * KMON_CPU_SNAPSHOT, hdr.seq numbers the snapshot's records 0, 1, ... in a
 * sequence of their own, and no kmon_cpu_stats counts them. hdr.ts_ns is
 * when the process was read; hdr.tgid/tid/cgroup_id are the process's.
 * Process context owns header flag bits 18-21.
 */
enum kmon_snapshot {
	KMON_CPU_SNAPSHOT = 0xffffffffu,
	/* The record was built from /proc, not by the kernel: start times have
	 * clock-tick resolution (and follow CLOCK_BOOTTIME, converted), so
	 * (tgid, start_ns) may differ from the same process's event records. */
	KMON_F_APPROXIMATE = 1u << 18,
};

struct kmon_process {
	struct kmon_header hdr;
	kmon_u64 start_ns;         /* process start, same clock as ts_ns: (tgid, start_ns) is the process */
	kmon_u64 parent_start_ns;  /* (ppid, parent_start_ns) is its parent */
	kmon_u32 ppid;
	kmon_u32 uid;              /* real ids */
	kmon_u32 gid;
	kmon_u32 argc;             /* arguments its exec was given (0 for kernel threads), even when argv was cut */
	char comm[KMON_COMM_LEN];
	kmon_u16 exe_len;          /* field 0: executable, absolute path resolved by the kernel ('' for kernel threads) */
	kmon_u16 cwd_len;          /* field 1: working directory, resolved by the kernel */
	kmon_u16 argv_len;         /* field 2: NUL-separated arguments, as in /proc/PID/cmdline */
	kmon_u16 reserved;
};
enum kmon_process_var { KMON_PROCESS_VAR_EXE = 0, KMON_PROCESS_VAR_CWD = 1, KMON_PROCESS_VAR_ARGV = 2 };

/* A failed exec: what was attempted and why it failed (the process goes on with its old image). */
struct kmon_exec_failed {
	struct kmon_header hdr;
	kmon_s32 error;            /* errno of the failure (ENOENT, EACCES, ENOEXEC...), positive */
	kmon_u32 argc;             /* arguments read from the caller's argv, even when argv was cut */
	char comm[KMON_COMM_LEN];  /* the caller's name */
	kmon_u16 path_len;         /* field 0: the path as passed */
	kmon_u16 argv_len;         /* field 1: NUL-separated arguments */
	kmon_u32 reserved;
};
enum kmon_exec_failed_var { KMON_EXEC_FAILED_VAR_PATH = 0, KMON_EXEC_FAILED_VAR_ARGV = 1 };

/*
 * File kinds (Linux). Paths are absolute: walked by the kernel from the file
 * or directory, or, with KMON_F_FILE_UNRESOLVED, the walked base directory
 * joined with the path as given. A path longer than KMON_PATH_MAX or deeper
 * than KMON_PATH_DEPTH_MAX keeps its last components and is flagged as cut.
 * `result` is the syscall's return value: >= 0 success, else -errno (failed
 * calls are recorded only when the session asks for them).
 */
struct kmon_open {
	struct kmon_header hdr;
	kmon_u64 start_ns;         /* process start: (tgid, start_ns) is the process */
	kmon_u64 ino;              /* inode number (0 when the open failed) */
	kmon_u32 dev;              /* device as stat() reports st_dev (0 when the open failed) */
	kmon_u32 flags;            /* O_* flags as requested */
	kmon_u32 mode;             /* requested mode with O_CREAT/O_TMPFILE, else 0 */
	kmon_s32 result;           /* the new fd, or -errno */
	char comm[KMON_COMM_LEN];
	kmon_u16 path_len;         /* field 0 */
	kmon_u16 reserved0;
	kmon_u32 reserved1;
};
enum kmon_open_var { KMON_OPEN_VAR_PATH = 0 };

struct kmon_unlink {
	struct kmon_header hdr;
	kmon_u64 start_ns;
	kmon_s32 result;
	kmon_u32 reserved0;
	char comm[KMON_COMM_LEN];
	kmon_u16 path_len;         /* field 0 */
	kmon_u16 reserved1;
	kmon_u32 reserved2;
};
enum kmon_unlink_var { KMON_UNLINK_VAR_PATH = 0 };

struct kmon_rename {
	struct kmon_header hdr;
	kmon_u64 start_ns;
	kmon_u32 flags;            /* renameat2 RENAME_* flags, else 0 */
	kmon_s32 result;
	char comm[KMON_COMM_LEN];
	kmon_u16 old_len;          /* field 0: the old path */
	kmon_u16 new_len;          /* field 1: the new path */
	kmon_u32 reserved;
};
enum kmon_rename_var { KMON_RENAME_VAR_OLD = 0, KMON_RENAME_VAR_NEW = 1 };

struct kmon_mkdir {
	struct kmon_header hdr;
	kmon_u64 start_ns;
	kmon_u32 mode;             /* requested mode (before the umask) */
	kmon_s32 result;
	char comm[KMON_COMM_LEN];
	kmon_u16 path_len;         /* field 0 */
	kmon_u16 reserved0;
	kmon_u32 reserved1;
};
enum kmon_mkdir_var { KMON_MKDIR_VAR_PATH = 0 };

struct kmon_chmod {
	struct kmon_header hdr;
	kmon_u64 start_ns;
	kmon_u32 mode;             /* the new mode */
	kmon_s32 result;
	char comm[KMON_COMM_LEN];
	kmon_u16 path_len;         /* field 0 (fchmod: resolved from the fd) */
	kmon_u16 reserved0;
	kmon_u32 reserved1;
};
enum kmon_chmod_var { KMON_CHMOD_VAR_PATH = 0 };

struct kmon_chown {
	struct kmon_header hdr;
	kmon_u64 start_ns;
	kmon_u32 uid;              /* the new owner, 0xffffffff: unchanged */
	kmon_u32 gid;              /* the new group, 0xffffffff: unchanged */
	kmon_s32 result;
	kmon_u32 reserved0;
	char comm[KMON_COMM_LEN];
	kmon_u16 path_len;         /* field 0 (fchown: resolved from the fd) */
	kmon_u16 reserved1;
	kmon_u32 reserved2;
};
enum kmon_chown_var { KMON_CHOWN_VAR_PATH = 0 };

struct kmon_link {
	struct kmon_header hdr;
	kmon_u64 start_ns;
	kmon_s32 result;
	kmon_u32 reserved0;
	char comm[KMON_COMM_LEN];
	kmon_u16 target_len;       /* field 0: the existing path (link), or the symlink's content as given */
	kmon_u16 path_len;         /* field 1: the new name */
	kmon_u32 reserved1;
};
enum kmon_link_var { KMON_LINK_VAR_TARGET = 0, KMON_LINK_VAR_PATH = 1 };

/* Drop and truncation counters, one instance per CPU (Linux) or per driver (Windows, which numbers per CPU all the same). */
struct kmon_cpu_stats {
	kmon_u64 attempted;                 /* records the driver tried to emit (next seq) */
	kmon_u64 dropped[KMON_KIND_COUNT];  /* per kind: the ring was full */
	kmon_u64 truncated;                 /* records with a KMON_F_TRUNCATED bit */
};

#define KMON_ALIGN_UP(n) (((n) + KMON_RECORD_ALIGN - 1) & ~(kmon_u32)(KMON_RECORD_ALIGN - 1))
/* The largest record: an exec with its path, argv, executable and cwd at their caps. */
#define KMON_RECORD_MAX \
	KMON_ALIGN_UP(sizeof(struct kmon_exec) + KMON_PATH_MAX + KMON_PATH_MAX + KMON_PATH_MAX + KMON_ARGV_MAX)

#if defined(__cplusplus)
#define KMON_STATIC_ASSERT(e, m) static_assert(e, m)
#else
#define KMON_STATIC_ASSERT(e, m) _Static_assert(e, m)
#endif
#define KMON_PIN(type, field, off) \
	KMON_STATIC_ASSERT(__builtin_offsetof(struct type, field) == (off), #type "." #field " moved")
#define KMON_PIN_SIZE(type, n) KMON_STATIC_ASSERT(sizeof(struct type) == (n), #type " resized")

KMON_PIN_SIZE(kmon_header, 48);
KMON_PIN(kmon_header, seq, 16);
KMON_PIN(kmon_header, cgroup_id, 40);
KMON_PIN_SIZE(kmon_exec, 104);
KMON_PIN(kmon_exec, comm, 80);
KMON_PIN(kmon_exec, path_len, 96);
KMON_PIN_SIZE(kmon_exit, 80);
KMON_PIN_SIZE(kmon_fork, 88);
KMON_PIN_SIZE(kmon_synth, 64);
KMON_PIN_SIZE(kmon_image_load, 72);
KMON_PIN_SIZE(kmon_registry_set, 64);
KMON_PIN_SIZE(kmon_sockaddr, 24);
KMON_PIN_SIZE(kmon_connect, 136);
KMON_PIN(kmon_connect, start_ns, 48);
KMON_PIN(kmon_connect, remote, 96);
KMON_PIN_SIZE(kmon_accept, 136);
KMON_PIN_SIZE(kmon_listen, 120);
KMON_PIN_SIZE(kmon_bind, 112);
KMON_PIN_SIZE(kmon_close, 144);
KMON_PIN_SIZE(kmon_send, 136);
KMON_PIN_SIZE(kmon_dns, 128);
KMON_PIN_SIZE(kmon_exec_failed, 80);
KMON_PIN_SIZE(kmon_process, 104);
KMON_PIN(kmon_process, exe_len, 96);
KMON_PIN_SIZE(kmon_open, 104);
KMON_PIN(kmon_open, path_len, 96);
KMON_PIN_SIZE(kmon_unlink, 88);
KMON_PIN_SIZE(kmon_rename, 88);
KMON_PIN_SIZE(kmon_mkdir, 88);
KMON_PIN_SIZE(kmon_chmod, 88);
KMON_PIN_SIZE(kmon_chown, 96);
KMON_PIN_SIZE(kmon_link, 88);
KMON_PIN_SIZE(kmon_cpu_stats, 8 * (2 + KMON_KIND_COUNT));

#endif /* KMON_ABI_H */
