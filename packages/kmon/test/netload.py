"""Socket workloads for network.test.ts: the exact syscalls the kinds are
about (a blocking connect, a non-blocking one, sendto), which Node's
non-blocking sockets cannot make. One process per role, so events can be
checked against the pid that made them. Prints what the test needs to know
(ports, errnos) as one JSON line."""
import errno
import json
import socket
import sys


def say(**fields):
    print(json.dumps(fields), flush=True)


def recv_exactly(s, n):
    got = b''
    while len(got) < n:
        chunk = s.recv(n - len(got))
        if not chunk:
            break
        got += chunk
    return got


def family_of(host):
    return socket.AF_INET6 if ':' in host else socket.AF_INET


def tcp_server(host, expect, reply):
    """Accepts one connection, reads `expect` bytes, answers `reply` bytes, waits for the peer to close."""
    with socket.socket(family_of(host), socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        s.listen(1)
        say(port=s.getsockname()[1])
        conn, _ = s.accept()
        recv_exactly(conn, int(expect))
        conn.sendall(b'r' * int(reply))
        while conn.recv(4096):
            pass
        conn.close()


def tcp_client(host, port, send, expect):
    """Blocking connect, sends `send` bytes, reads `expect` bytes, closes first."""
    with socket.socket(family_of(host), socket.SOCK_STREAM) as s:
        s.connect((host, int(port)))
        say(local_port=s.getsockname()[1])
        s.sendall(b's' * int(send))
        recv_exactly(s, int(expect))


def connect(host, port, mode='blocking'):
    """One connect; prints its errno (0 on success). mode: blocking, nonblocking, v6socket."""
    family = socket.AF_INET6 if mode == 'v6socket' else family_of(host)
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setblocking(mode != 'nonblocking')
        say(errno=s.connect_ex((host, int(port))))


def unix(name):
    """A unix listener at `name` ('@x' is the abstract name x), one client connecting to it."""
    address = '\0' + name[1:] if name.startswith('@') else name
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(address)
        server.listen(1)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(address)
            conn, _ = server.accept()
            conn.close()
    say(done=True)


def sendto(host, port, payload_hex):
    """One UDP datagram with sendto."""
    with socket.socket(family_of(host), socket.SOCK_DGRAM) as s:
        s.sendto(bytes.fromhex(payload_hex), (host, int(port)))
        say(local_port=s.getsockname()[1])


if __name__ == '__main__':
    globals()[sys.argv[1].replace('-', '_')](*sys.argv[2:])
