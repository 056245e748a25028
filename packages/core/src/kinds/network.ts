// Network kinds (Linux): socket calls at their return, TCP connection
// closes, UDP sends and the DNS queries among them. Addresses are
// struct kmon_sockaddr, decoded to text users can read and compare.
import { z } from 'zod';
import { isCleanSockaddr, lastAddressText, readSockaddr, SOCKADDR_SIZE, type SocketAddress } from '../network/address.js';
import { decodeDnsQuery, type DnsQuery } from '../network/dns.js';
import { comm, custom, flag, reserved, s32, schemas, text, u16, u32, u64, varCustom } from './define.js';
import { processStart } from './identity.js';
import { defineKind } from './kind.js';

/** Strict: readSockaddr adds `unusedBytes` when bytes the family does not use are not zero. */
const socketAddress: z.ZodType<SocketAddress> = z
  .object({
    family: schemas.u16,
    address: z.string(),
    port: schemas.u16,
    scopeId: schemas.u32,
  })
  .strict();

/** A struct kmon_sockaddr member (4-byte aligned). */
const sockaddr = (cName: string) => {
  const text = lastAddressText();
  return custom(cName, SOCKADDR_SIZE, 4, socketAddress, (view, buf, at) => readSockaddr(view, buf, at, text), isCleanSockaddr);
};

const dnsQuery: z.ZodType<DnsQuery> = z.object({
  id: schemas.u16,
  flags: schemas.u16,
  counts: z.object({ questions: schemas.u16, answers: schemas.u16, authorities: schemas.u16, additionals: schemas.u16 }),
  questions: z.array(z.object({ name: z.string(), type: z.string(), class: z.string() })),
});

/** Every network kind starts with its process (close: the process that opened the connection). */
const networkProcess = {
  /** Process start time: with pid, the process identity (the same on every event of the process). */
  startTime: processStart(),
} as const;

const abstractFlag = {
  /** The unix `path` is an abstract name (the kernel's leading NUL dropped); `kmon watch` shows it as `@name`. */
  abstract: flag('KMON_F_ABSTRACT', 14),
};

export const connect = defineKind({
  name: 'connect',
  number: 14,
  struct: 'kmon_connect',
  doc: 'A socket connect() returned: connected, in progress (non-blocking) or failed.',
  fields: {
    ...networkProcess,
    /** Process name. */
    comm: comm('comm'),
    /** The socket's own end after the call (the address and port the kernel chose). */
    local: sockaddr('local'),
    /** The destination as passed to connect(). */
    remote: sockaddr('remote'),
    /** 0, -115 (EINPROGRESS: a non-blocking connect under way), or another -errno such as -111 (ECONNREFUSED). */
    result: s32('result'),
    /** The socket's file descriptor. */
    fd: s32('fd'),
    /** Socket type: 1 SOCK_STREAM, 2 SOCK_DGRAM, 5 SOCK_SEQPACKET. */
    socketType: u16('type'),
    /** 6 TCP, 17 UDP; 0 for unix sockets. */
    protocol: u16('protocol'),
    /** Unix sockets: the destination's path or abstract name; '' for others. */
    path: text('path_len'),
    _reserved: reserved('reserved', 'u16'),
  },
  flags: abstractFlag,
});

export const accept = defineKind({
  name: 'accept',
  number: 15,
  struct: 'kmon_accept',
  doc: 'accept() or accept4() returned a connection.',
  fields: {
    ...networkProcess,
    /** Process name. */
    comm: comm('comm'),
    /** The listening end (its address and port). */
    local: sockaddr('local'),
    /** The peer (for TCP, its port is the connecting side's local port). */
    remote: sockaddr('remote'),
    /** The listening socket's file descriptor. */
    fd: s32('fd'),
    /** The accepted connection's file descriptor. */
    newFd: s32('new_fd'),
    /** Socket type: 1 SOCK_STREAM, 5 SOCK_SEQPACKET. */
    socketType: u16('type'),
    /** 6 TCP; 0 for unix sockets. */
    protocol: u16('protocol'),
    /** Unix sockets: the listening path or abstract name; '' for others. */
    path: text('path_len'),
    _reserved: reserved('reserved', 'u16'),
  },
  flags: abstractFlag,
});

export const listen = defineKind({
  name: 'listen',
  number: 16,
  struct: 'kmon_listen',
  doc: 'listen() returned: a socket now takes connections (or failed to).',
  fields: {
    ...networkProcess,
    /** Process name. */
    comm: comm('comm'),
    /** The bound address and port. */
    local: sockaddr('local'),
    /** 0 or -errno. */
    result: s32('result'),
    /** The socket's file descriptor. */
    fd: s32('fd'),
    /** Socket type: 1 SOCK_STREAM, 5 SOCK_SEQPACKET. */
    socketType: u16('type'),
    /** 6 TCP; 0 for unix sockets. */
    protocol: u16('protocol'),
    /** Unix sockets: the bound path or abstract name; '' for others. */
    path: text('path_len'),
    _reserved0: reserved('reserved0', 'u16'),
    /** The backlog as passed. */
    backlog: u32('backlog'),
    _reserved1: reserved('reserved1', 'u32'),
  },
  flags: abstractFlag,
});

export const bind = defineKind({
  name: 'bind',
  number: 17,
  struct: 'kmon_bind',
  doc: 'bind() returned: a socket took a local address (or failed to).',
  fields: {
    ...networkProcess,
    /** Process name. */
    comm: comm('comm'),
    /** The bound address; on success with port 0 asked, the port the kernel chose. */
    local: sockaddr('local'),
    /** 0 or -errno (-98 EADDRINUSE, -13 EACCES, ...). */
    result: s32('result'),
    /** The socket's file descriptor. */
    fd: s32('fd'),
    /** Socket type: 1 SOCK_STREAM, 2 SOCK_DGRAM, ... */
    socketType: u16('type'),
    /** 6 TCP, 17 UDP; 0 for unix sockets. */
    protocol: u16('protocol'),
    /** Unix sockets: the path or abstract name; '' for others. */
    path: text('path_len'),
    _reserved: reserved('reserved', 'u16'),
  },
  flags: abstractFlag,
});

export const close = defineKind({
  name: 'close',
  number: 18,
  struct: 'kmon_close',
  doc:
    'A TCP connection this session saw open (by connect or accept) closed. pid, tid, comm and cgroupId are the ' +
    'process that opened it, whichever task the kernel closed it on.',
  fields: {
    ...networkProcess,
    /** Name of the process that opened the connection. */
    comm: comm('comm'),
    /** This end of the connection. */
    local: sockaddr('local'),
    /** The peer. */
    remote: sockaddr('remote'),
    /** From connect/accept returning to the close, ns. */
    durationNs: u64('duration_ns'),
    /** Payload bytes sent (each once: retransmissions are not counted twice). */
    bytesSent: u64('bytes_sent'),
    /** Payload bytes received. */
    bytesReceived: u64('bytes_received'),
  },
  flags: {
    /** The connection was accepted (inbound), not connected. */
    inbound: flag('KMON_F_INBOUND', 15),
  },
});

export const send = defineKind({
  name: 'send',
  number: 19,
  struct: 'kmon_send',
  doc: 'UDP datagrams were sent to one destination by one sendto/sendmsg/sendmmsg call (one event per destination per call).',
  fields: {
    ...networkProcess,
    /** Process name. */
    comm: comm('comm'),
    /** The sending socket's own end. */
    local: sockaddr('local'),
    /** The destination: from the call, or the socket's connected peer. */
    remote: sockaddr('remote'),
    /** The socket's file descriptor. */
    fd: s32('fd'),
    /** Datagrams this call sent to `remote`. */
    datagrams: u32('datagrams'),
    /** Their bytes. */
    bytes: u64('bytes'),
  },
});

export const dns = defineKind({
  name: 'dns',
  number: 20,
  struct: 'kmon_dns',
  doc: 'A UDP datagram was sent to port 53: a DNS query, decoded from the bytes sent.',
  fields: {
    ...networkProcess,
    /** Process name. */
    comm: comm('comm'),
    /** The sending socket's own end. */
    local: sockaddr('local'),
    /** The DNS server it was sent to. */
    server: sockaddr('server'),
    /** The socket's file descriptor. */
    fd: s32('fd'),
    /** The query: id and questions (names and types). */
    query: varCustom('query_len', dnsQuery, decodeDnsQuery),
    _reserved: reserved('reserved', 'u16'),
  },
});
