/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * Socket helpers: syscall arguments at exit, fd -> socket, the two ends of a
 * socket, user sockaddrs, unix names, and the live network filter.
 *
 * Programs run at syscall exit (tp/syscalls/sys_exit_*), whose context holds
 * only the return value: the arguments come from the registers the kernel
 * saved at entry (bpf_task_pt_regs), which syscalls leave as they were.
 */
#ifndef KMON_HELPERS_SOCKET_H
#define KMON_HELPERS_SOCKET_H

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

/* Macros in the kernel's headers, so not in vmlinux.h's BTF. */
#define KMON_AF_UNIX 1
#define KMON_AF_INET 2
#define KMON_AF_INET6 10
#define KMON_S_IFMT 00170000
#define KMON_S_IFSOCK 0140000
#define KMON_EINPROGRESS 115
#define KMON_IPPROTO_TCP 6
#define KMON_IPPROTO_UDP 17
#define KMON_TCP_CLOSE 7
#define KMON_DNS_PORT 53

/* The open socket behind fd in the current task, or NULL if fd is none. */
static __always_inline struct socket *fd_socket(long fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;

	if (fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	if (!f || (BPF_CORE_READ(f, f_inode, i_mode) & KMON_S_IFMT) != KMON_S_IFSOCK)
		return NULL;
	return BPF_CORE_READ(f, private_data);
}

/* What a socket is: family, type, protocol. */
struct sock_kind {
	__u16 family;
	__u16 type;
	__u16 protocol;
};

static __always_inline struct sock_kind sock_kind(struct sock *sk)
{
	struct sock_kind k = {
		.family = BPF_CORE_READ(sk, __sk_common.skc_family),
		.type = BPF_CORE_READ(sk, sk_type),
		.protocol = BPF_CORE_READ(sk, sk_protocol),
	};
	return k;
}

static __always_inline int is_inet(__u16 family)
{
	return family == KMON_AF_INET || family == KMON_AF_INET6;
}

/* The socket's own end (for unix sockets only the family: names are a variable field). */
static __always_inline void sock_local(struct sock *sk, __u16 family, struct kmon_sockaddr *sa)
{
	sa->family = family;
	if (!is_inet(family))
		return;
	sa->port = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (family == KMON_AF_INET) {
		*(__u32 *)sa->addr = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		return;
	}
	bpf_core_read(sa->addr, sizeof(sa->addr), &sk->__sk_common.skc_v6_rcv_saddr);
	sa->scope_id = BPF_CORE_READ(sk, __sk_common.skc_bound_dev_if);
}

/* The connected peer (zeros when there is none). */
static __always_inline void sock_remote(struct sock *sk, __u16 family, struct kmon_sockaddr *sa)
{
	sa->family = family;
	if (!is_inet(family))
		return;
	sa->port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == KMON_AF_INET) {
		*(__u32 *)sa->addr = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		return;
	}
	bpf_core_read(sa->addr, sizeof(sa->addr), &sk->__sk_common.skc_v6_daddr);
	sa->scope_id = BPF_CORE_READ(sk, __sk_common.skc_bound_dev_if);
}

/*
 * A unix socket name (sun_path, n bytes available at src) into dst: a path
 * up to its NUL, or an abstract name (leading NUL, flagged, dropped: the rest
 * is the name, NULs included). Returns the length. dst has room for
 * KMON_UNIX_PATH_MAX + 1 bytes (the _str reads write a NUL).
 */
static __always_inline __u32 unix_name(char *dst, const char *src, long n, int user, __u32 *flags)
{
	char first = 0;
	long got;

	if (n <= 0)
		return 0; /* unnamed (an autobind or a client) */
	if (n > KMON_UNIX_PATH_MAX)
		n = KMON_UNIX_PATH_MAX;
	if (user ? bpf_probe_read_user(&first, 1, src) : bpf_probe_read_kernel(&first, 1, src))
		return 0;
	if (first == 0) {
		*flags |= KMON_F_ABSTRACT;
		n -= 1;
		if (n <= 0 || n > KMON_UNIX_PATH_MAX)
			return 0;
		got = user ? bpf_probe_read_user(dst, n, src + 1) : bpf_probe_read_kernel(dst, n, src + 1);
		return got ? 0 : n;
	}
	/* The _str reads stop at the NUL and never read past n bytes of src. */
	got = user ? bpf_probe_read_user_str(dst, n + 1, src) : bpf_probe_read_kernel_str(dst, n + 1, src);
	return got > 0 ? got - 1 : 0;
}

/* The name a unix socket is bound to, as the kernel keeps it. */
static __always_inline __u32 sock_unix_name(struct sock *sk, char *dst, __u32 *flags)
{
	struct unix_address *addr = BPF_CORE_READ((struct unix_sock *)sk, addr);

	if (!addr)
		return 0;
	/* len counts sun_family too */
	return unix_name(dst, addr->name[0].sun_path, BPF_CORE_READ(addr, len) - 2, 0, flags);
}

/*
 * A sockaddr from user memory (connect, bind, sendto, sendmsg). IPv4/IPv6
 * fill sa; a unix name goes to dst (returns its length; a NULL dst, for
 * callers that only take IP sockets, drops it). Other families keep only
 * their number.
 */
static __always_inline __u32 user_sockaddr(struct kmon_sockaddr *sa, char *dst, const void *uaddr, long len,
					   __u32 *flags)
{
	struct sockaddr_in6 in6 = {};
	__u16 family = 0;

	if (!uaddr || len < 2 || bpf_probe_read_user(&family, sizeof(family), uaddr))
		return 0;
	sa->family = family;
	if (family == KMON_AF_UNIX && dst)
		return unix_name(dst, ((const struct sockaddr_un *)uaddr)->sun_path, len - 2, 1, flags);
	if (family == KMON_AF_INET && len >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in in4 = {};

		bpf_probe_read_user(&in4, sizeof(in4), uaddr);
		sa->port = bpf_ntohs(in4.sin_port);
		*(__u32 *)sa->addr = in4.sin_addr.s_addr;
	} else if (family == KMON_AF_INET6 && len >= sizeof(in6)) {
		bpf_probe_read_user(&in6, sizeof(in6), uaddr);
		sa->port = bpf_ntohs(in6.sin6_port);
		__builtin_memcpy(sa->addr, in6.sin6_addr.in6_u.u6_addr8, 16);
		sa->scope_id = in6.sin6_scope_id;
	}
	return 0;
}

static __always_inline int same_sockaddr(const struct kmon_sockaddr *a, const struct kmon_sockaddr *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2];
}

/* ::ffff:a.b.c.d: IPv4 on an IPv6 socket. */
static __always_inline int v4_mapped(const __u8 *a)
{
	const __u32 *w = (const __u32 *)a;

	return w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0xffff);
}

static __always_inline int is_loopback(__u16 family, const __u8 *a)
{
	const __u32 *w = (const __u32 *)a;

	if (family == KMON_AF_INET)
		return a[0] == 127;
	if (v4_mapped(a))
		return a[12] == 127;
	return w[0] == 0 && w[1] == 0 && w[2] == 0 && w[3] == bpf_htonl(1);
}

static __always_inline __u32 prefix_verdict(__u16 family, const __u8 *a)
{
	__u32 *v;

	if (family == KMON_AF_INET || v4_mapped(a)) {
		struct kmon_net_prefix4 key = { .prefixlen = 32 };

		*(__u32 *)key.addr = family == KMON_AF_INET ? *(const __u32 *)a : *(const __u32 *)(a + 12);
		v = bpf_map_lookup_elem(&kmon_net_cidr4, &key);
	} else {
		struct kmon_net_prefix6 key = { .prefixlen = 128 };

		__builtin_memcpy(key.addr, a, 16);
		v = bpf_map_lookup_elem(&kmon_net_cidr6, &key);
	}
	return v ? *v : 0;
}

static __always_inline int verdict_keeps(__u32 verdict, __u32 include_only)
{
	return verdict != KMON_NET_EXCLUDE && (!include_only || verdict == KMON_NET_INCLUDE);
}

/*
 * The live network filter on the address an event is about (the remote end,
 * or the local one for bind/listen). Sockets without an IP address (unix)
 * pass unless the filter keeps only included addresses or ports.
 */
static __always_inline int net_wanted(const struct kmon_sockaddr *sa)
{
	__u32 zero = 0;
	struct kmon_net_filter *f = bpf_map_lookup_elem(&kmon_net_filter, &zero);
	__u32 verdict;

	if (!f)
		return 1;
	if (!is_inet(sa->family))
		return !f->include_addrs && !f->include_ports;
	if (f->drop_loopback && is_loopback(sa->family, sa->addr))
		return 0;
	if (f->lookup_addrs || f->include_addrs) {
		verdict = f->lookup_addrs ? prefix_verdict(sa->family, sa->addr) : 0;
		if (!verdict_keeps(verdict, f->include_addrs))
			return 0;
	}
	if (f->lookup_ports || f->include_ports) {
		__u16 port = sa->port;
		__u32 *v = f->lookup_ports ? bpf_map_lookup_elem(&kmon_net_ports, &port) : NULL;

		if (!verdict_keeps(v ? *v : 0, f->include_ports))
			return 0;
	}
	return 1;
}

#endif /* KMON_HELPERS_SOCKET_H */
