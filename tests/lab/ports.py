"""Free loopback ports for the lab servers.

Ports come from the kernel (bind to port 0), all sockets of one call are held open together so
one call never returns the same port twice; several test runs on one machine therefore get
different ports (the kernel spreads them over the ephemeral range). A tiny race remains between
closing the probe socket and the server binding it: the lab retries its start with new ports
when a bind fails.
"""

from __future__ import annotations

import socket

LOOPBACK = "127.0.0.1"


def free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    """Return ``count`` distinct TCP ports that were free on ``host`` a moment ago."""
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((host, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def free_port(host: str = LOOPBACK) -> int:
    """Return one TCP port that was free on ``host`` a moment ago."""
    return free_ports(1, host)[0]


def free_udp_tcp_port(host: str = LOOPBACK, attempts: int = 50) -> int:
    """Return a port free for BOTH UDP and TCP on ``host`` (for the DNS server)."""
    for _ in range(attempts):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            t.bind((host, 0))
            port = t.getsockname()[1]
            try:
                u.bind((host, port))
            except OSError:
                continue
            return port
        finally:
            t.close()
            u.close()
    raise RuntimeError("no port free for both UDP and TCP")
