/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * Network programs: connect, accept, listen, bind, TCP close, UDP send and
 * DNS queries.
 *
 * Socket calls are read at their syscall exit (helpers/syscall.h: one
 * tracepoint per syscall, unrelated syscalls pay nothing; or the sys_exit
 * dispatcher without tracefs). TCP closes come from the
 * inet_sock_set_state tracepoint, which often runs in softirq on behalf of
 * no particular task: the close is attributed to the task whose connect or
 * accept opened the connection (kmon_flows, keyed by socket), never to the
 * task that happens to be current.
 */
#ifndef KMON_PROGRAMS_NETWORK_H
#define KMON_PROGRAMS_NETWORK_H

#include "../helpers/socket.h"

static __always_inline void *net_slot(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&kmon_net_buf, &zero);
}

/* The process filter first; a TCP close is reported only for flows opened by a wanted task. */
static __always_inline int net_task_wanted(void)
{
	return (bpf_get_current_pid_tgid() >> 32) != kmon_cfg.self_tgid && process_wanted();
}

/* Every network record's body starts with start_ns and comm, which net_header() fills. */
#define KMON_NET_BODY(type)                                                                         \
	_Static_assert(__builtin_offsetof(struct type, start_ns) == sizeof(struct kmon_header) &&  \
			       __builtin_offsetof(struct type, comm) == sizeof(struct kmon_header) + 8, \
		       #type)
KMON_NET_BODY(kmon_connect);
KMON_NET_BODY(kmon_accept);
KMON_NET_BODY(kmon_listen);
KMON_NET_BODY(kmon_bind);
KMON_NET_BODY(kmon_close);
KMON_NET_BODY(kmon_send);
KMON_NET_BODY(kmon_dns);

/* The header, the process start and the comm of the current task. */
static __always_inline void net_header(struct kmon_header *h, __u16 kind)
{
	__u64 id = bpf_get_current_pid_tgid();

	fill_header(h, kind, id >> 32, (__u32)id);
	*(__u64 *)(h + 1) = current_process_start();
	bpf_get_current_comm((char *)(h + 1) + sizeof(__u64), KMON_COMM_LEN);
}

/* Submits a record built in kmon_net_buf whose variable field is len bytes. */
static __always_inline void submit_var(struct kmon_header *h, __u32 body, __u32 len, __u32 kind)
{
	char *var = (char *)h + body;

	if (len > KMON_DNS_MAX) /* the largest variable field; restated for the verifier */
		return;
	submit(h, padded_size(var, len, body), kind);
}

/* Remembers who opened a TCP connection (its record's process start and comm) for the close. */
static __always_inline void track_flow(struct sock *sk, __u32 inbound, __u64 process_start_ns, const char *comm)
{
	__u64 key = (__u64)sk, id = bpf_get_current_pid_tgid();
	struct kmon_flow flow = {
		.opened_ns = bpf_ktime_get_ns(),
		.process_start_ns = process_start_ns,
		.cgroup_id = bpf_get_current_cgroup_id(),
		.tgid = id >> 32,
		.tid = (__u32)id,
		.inbound = inbound,
	};

	if (!kind_enabled(KMON_KIND_CLOSE))
		return;
	__builtin_memcpy(flow.comm, comm, KMON_COMM_LEN);
	bpf_map_update_elem(&kmon_flows, &key, &flow, BPF_ANY);
}

/* ---- connect, accept, bind, listen ------------------------------------------------------ */

/* The socket a call was made on. */
struct sock_call {
	struct sock *sk;
	struct sock_kind k;
};

/*
 * The record of a call on socket fd, in kmon_net_buf: zeroed (size bytes),
 * header, start_ns and comm filled, and the socket in *c. 0 when the task is not
 * reported or fd is not a socket.
 */
static __always_inline void *sock_call_record(long fd, __u16 kind, __u32 size, struct sock_call *c)
{
	struct kmon_header *h;
	struct socket *sock;

	if (!net_task_wanted() || !(sock = fd_socket(fd)) || !(h = net_slot()))
		return 0;
	c->sk = BPF_CORE_READ(sock, sk);
	c->k = sock_kind(c->sk);
	__builtin_memset(h, 0, size);
	net_header(h, kind);
	return h;
}

static __always_inline int on_connect(struct pt_regs *regs, long ret)
{
	long fd = ARG1(regs);
	struct sock_call c;
	struct kmon_connect *e = sock_call_record(fd, KMON_KIND_CONNECT, sizeof(*e), &c);
	__u32 len;

	if (!e)
		return 0;
	/* The destination as passed: a failed connect has cleared the socket's. */
	len = user_sockaddr(&e->remote, (char *)(e + 1), (const void *)ARG2(regs), ARG3(regs), &e->hdr.flags);
	if (!net_wanted(&e->remote))
		return 0;
	sock_local(c.sk, c.k.family, &e->local);
	e->result = ret;
	e->fd = fd;
	e->type = c.k.type;
	e->protocol = c.k.protocol;
	e->path_len = len;
	if ((ret == 0 || ret == -KMON_EINPROGRESS) && c.k.protocol == KMON_IPPROTO_TCP)
		track_flow(c.sk, 0, e->start_ns, e->comm);
	if (kind_enabled(KMON_KIND_CONNECT))
		submit_var(&e->hdr, sizeof(*e), len, KMON_KIND_CONNECT);
	return 0;
}

/* accept and accept4: both ends come from the new connection's socket. */
static __always_inline int on_accept(struct pt_regs *regs, long new_fd)
{
	struct sock_call c;
	struct kmon_accept *e;
	__u32 len = 0;

	if (new_fd < 0 || !(e = sock_call_record(new_fd, KMON_KIND_ACCEPT, sizeof(*e), &c)))
		return 0;
	sock_remote(c.sk, c.k.family, &e->remote);
	if (!net_wanted(&e->remote))
		return 0;
	sock_local(c.sk, c.k.family, &e->local);
	if (c.k.family == KMON_AF_UNIX)
		len = sock_unix_name(c.sk, (char *)(e + 1), &e->hdr.flags);
	e->fd = ARG1(regs);
	e->new_fd = new_fd;
	e->type = c.k.type;
	e->protocol = c.k.protocol;
	e->path_len = len;
	if (c.k.protocol == KMON_IPPROTO_TCP)
		track_flow(c.sk, 1, e->start_ns, e->comm);
	if (kind_enabled(KMON_KIND_ACCEPT))
		submit_var(&e->hdr, sizeof(*e), len, KMON_KIND_ACCEPT);
	return 0;
}

static __always_inline int on_bind(struct pt_regs *regs, long ret)
{
	long fd = ARG1(regs);
	struct sock_call c;
	struct kmon_bind *e = sock_call_record(fd, KMON_KIND_BIND, sizeof(*e), &c);
	__u32 len;

	if (!e)
		return 0;
	len = user_sockaddr(&e->local, (char *)(e + 1), (const void *)ARG2(regs), ARG3(regs), &e->hdr.flags);
	if (ret == 0)
		sock_local(c.sk, c.k.family, &e->local); /* port 0 asked: the kernel's choice */
	if (!net_wanted(&e->local))
		return 0;
	e->result = ret;
	e->fd = fd;
	e->type = c.k.type;
	e->protocol = c.k.protocol;
	e->path_len = len;
	submit_var(&e->hdr, sizeof(*e), len, KMON_KIND_BIND);
	return 0;
}

static __always_inline int on_listen(struct pt_regs *regs, long ret)
{
	long fd = ARG1(regs);
	struct sock_call c;
	struct kmon_listen *e = sock_call_record(fd, KMON_KIND_LISTEN, sizeof(*e), &c);
	__u32 len = 0;

	if (!e)
		return 0;
	sock_local(c.sk, c.k.family, &e->local);
	if (!net_wanted(&e->local))
		return 0;
	if (c.k.family == KMON_AF_UNIX)
		len = sock_unix_name(c.sk, (char *)(e + 1), &e->hdr.flags);
	e->result = ret;
	e->fd = fd;
	e->type = c.k.type;
	e->protocol = c.k.protocol;
	e->path_len = len;
	e->backlog = ARG2(regs);
	submit_var(&e->hdr, sizeof(*e), len, KMON_KIND_LISTEN);
	return 0;
}

/* ---- TCP close ---------------------------------------------------------------------------- */

/* Payload bytes sent once each (bytes_acked would count the SYN and FIN). */
static __always_inline __u64 tcp_data_sent(const struct tcp_sock *tp)
{
	return BPF_CORE_READ(tp, bytes_sent) - BPF_CORE_READ(tp, bytes_retrans);
}

/*
 * Payload bytes received: bytes_received follows rcv_nxt, which the peer's
 * FIN advances by one; tcp_fin() marks the socket SOCK_DONE when it takes one.
 */
static __always_inline __u64 tcp_data_received(const struct tcp_sock *tp)
{
	__u64 n = BPF_CORE_READ(tp, bytes_received);
	unsigned long sk_flags = BPF_CORE_READ(tp, inet_conn.icsk_inet.sk.__sk_common.skc_flags);

	if (n && (sk_flags & (1ul << bpf_core_enum_value(enum sock_flags, SOCK_DONE))))
		n--;
	return n;
}

SEC("?tp_btf/inet_sock_set_state")
int BPF_PROG(kmon_tcp_close, const struct sock *sk, const int oldstate, const int newstate)
{
	__u64 key = (__u64)sk;
	struct kmon_close e = {};
	struct kmon_flow *flow;
	__u16 family;

	if (newstate != KMON_TCP_CLOSE || !(flow = bpf_map_lookup_elem(&kmon_flows, &key)))
		return 0;
	fill_header(&e.hdr, KMON_KIND_CLOSE, flow->tgid, flow->tid);
	e.hdr.cgroup_id = flow->cgroup_id;
	e.start_ns = flow->process_start_ns;
	if (flow->inbound)
		e.hdr.flags |= KMON_F_INBOUND;
	__builtin_memcpy(e.comm, flow->comm, KMON_COMM_LEN);
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	sock_local((struct sock *)sk, family, &e.local);
	sock_remote((struct sock *)sk, family, &e.remote);
	/* A closing socket has released its port number (skc_num); inet_sport stays. */
	e.local.port = bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
	e.duration_ns = e.hdr.ts_ns - flow->opened_ns;
	e.bytes_sent = tcp_data_sent((const struct tcp_sock *)sk);
	e.bytes_received = tcp_data_received((const struct tcp_sock *)sk);
	bpf_map_delete_elem(&kmon_flows, &key);
	submit(&e.hdr, sizeof(e), KMON_KIND_CLOSE);
	return 0;
}

/* ---- UDP send and DNS --------------------------------------------------------------------- */

/* One send call on a UDP socket: the destination being accumulated, and its socket. */
struct send_state {
	struct kmon_send ev;
	struct sock *sk;
	const struct mmsghdr *vec; /* sendmmsg's messages */
	__u16 family;
};

/* Starts a send call's state; 0 if fd is not a UDP socket of a task we report. */
static __always_inline int send_begin(struct send_state *st, long fd)
{
	struct socket *sock;
	struct sock_kind k;

	if (!net_task_wanted() || !(sock = fd_socket(fd)))
		return 0;
	st->sk = BPF_CORE_READ(sock, sk);
	k = sock_kind(st->sk);
	if (!is_inet(k.family) || k.protocol != KMON_IPPROTO_UDP)
		return 0;
	st->family = k.family;
	net_header(&st->ev.hdr, KMON_KIND_SEND);
	sock_local(st->sk, k.family, &st->ev.local);
	st->ev.fd = fd;
	return 1;
}

/* Reports the destination accumulated so far, if any. */
static __always_inline void send_flush(struct send_state *st)
{
	if (!st->ev.datagrams)
		return;
	if (kind_enabled(KMON_KIND_SEND))
		submit(&st->ev.hdr, sizeof(st->ev), KMON_KIND_SEND);
	st->ev.datagrams = 0;
	st->ev.bytes = 0;
}

/* A datagram to port 53: its bytes as sent, for user space to decode. */
static __always_inline void emit_dns(struct send_state *st, const struct kmon_sockaddr *server, const void *data,
				     __u64 len)
{
	struct kmon_dns *e = net_slot();

	if (!e)
		return;
	__builtin_memset(e, 0, sizeof(*e));
	net_header(&e->hdr, KMON_KIND_DNS);
	if (len > KMON_DNS_MAX) {
		e->hdr.flags |= KMON_F_TRUNCATED(KMON_DNS_VAR_QUERY);
		len = KMON_DNS_MAX;
	}
	if (bpf_probe_read_user((char *)(e + 1), len, data))
		return;
	e->local = st->ev.local;
	e->server = *server;
	e->fd = st->ev.fd;
	e->query_len = len;
	submit_var(&e->hdr, sizeof(*e), len, KMON_KIND_DNS);
}

/*
 * One datagram of the call: sent bytes to name (or, without one, to the
 * socket's connected peer), its data at data. Consecutive datagrams to one
 * destination make one send event.
 */
static __always_inline void on_datagram(struct send_state *st, const void *name, long namelen, const void *data,
					__u64 sent)
{
	struct kmon_sockaddr dst = {};
	__u32 flags = 0;

	if (name && namelen > 0)
		user_sockaddr(&dst, NULL, name, namelen, &flags);
	else
		sock_remote(st->sk, st->family, &dst);
	if (!net_wanted(&dst))
		return;
	if (!same_sockaddr(&dst, &st->ev.remote))
		send_flush(st);
	st->ev.remote = dst;
	st->ev.datagrams++;
	st->ev.bytes += sent;
	if (dst.port == KMON_DNS_PORT && kind_enabled(KMON_KIND_DNS))
		emit_dns(st, &dst, data, sent);
}

/* A user msghdr's destination and first buffer (resolvers send one buffer per query). */
static __always_inline void on_msghdr(struct send_state *st, const struct user_msghdr *m, __u64 sent)
{
	struct iovec iov = {};

	if (m->msg_iovlen > 0)
		bpf_probe_read_user(&iov, sizeof(iov), m->msg_iov);
	on_datagram(st, m->msg_name, m->msg_namelen, iov.iov_base, sent < iov.iov_len ? sent : iov.iov_len);
}

static __always_inline int on_sendto(struct pt_regs *regs, long ret)
{
	struct send_state st = {};

	if (ret < 0 || !send_begin(&st, ARG1(regs)))
		return 0;
	on_datagram(&st, (const void *)ARG5(regs), ARG6(regs),
		    (const void *)ARG2(regs), ret);
	send_flush(&st);
	return 0;
}

static __always_inline int on_sendmsg(struct pt_regs *regs, long ret)
{
	struct send_state st = {};
	struct user_msghdr m = {};

	if (ret < 0 || !send_begin(&st, ARG1(regs)) ||
	    bpf_probe_read_user(&m, sizeof(m), (const void *)ARG2(regs)))
		return 0;
	on_msghdr(&st, &m, ret);
	send_flush(&st);
	return 0;
}

/* bpf_loop callback: message i of a sendmmsg (the kernel has set its msg_len). */
static long sendmmsg_one(__u32 i, void *ctx)
{
	struct send_state *st = ctx;
	struct mmsghdr m = {};

	if (bpf_probe_read_user(&m, sizeof(m), &st->vec[i]))
		return 1;
	on_msghdr(st, &m.msg_hdr, m.msg_len);
	return 0;
}

/* glibc's resolver sends its A and AAAA queries with one sendmmsg. */
static __always_inline int on_sendmmsg(struct pt_regs *regs, long ret)
{
	struct send_state st = {};

	if (ret <= 0 || !send_begin(&st, ARG1(regs)))
		return 0;
	st.vec = (const struct mmsghdr *)ARG2(regs);
	bpf_loop(ret, sendmmsg_one, &st, 0); /* ret: messages sent, at most UIO_MAXIOV */
	send_flush(&st);
	return 0;
}

KMON_SYSCALL_EXIT(connect, on_connect)
KMON_SYSCALL_EXIT(accept, on_accept)
KMON_SYSCALL_EXIT(accept4, on_accept)
KMON_SYSCALL_EXIT(bind, on_bind)
KMON_SYSCALL_EXIT(listen, on_listen)
KMON_SYSCALL_EXIT(sendto, on_sendto)
KMON_SYSCALL_EXIT(sendmsg, on_sendmsg)
KMON_SYSCALL_EXIT(sendmmsg, on_sendmmsg)

#endif /* KMON_PROGRAMS_NETWORK_H */
