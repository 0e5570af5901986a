"""Which network addresses mailport may connect to on a user's behalf (the SSRF guard).

Discovery, autoconfig fetches and tenant-supplied SMTP/IMAP hosts all connect to names derived
from user input. A name that resolves into loopback, a private network, link-local space (where
cloud metadata services live) or another non-global range would let a caller probe the inside of
the network mailport runs in. Adapters resolve a name first, pass every address here, and connect
only to an address that passed — checking the name alone is not enough (DNS rebinding).

What is admitted besides public addresses is the operator's choice (:data:`AllowPrivate`): nothing
(the default), every address (``MAILPORT_ALLOW_PRIVATE_HOSTS``, for a lab), or only the operator's
own networks (``MAILPORT_ALLOW_PRIVATE_NETWORKS``, :class:`PrivateNetworks`) — an on-premises mail
server reachable without opening every internal network to everyone holding a tenant key.

Pure: strings in, a boolean or an exception out.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeAlias

from mailport.errors import HostNotAllowed

__all__ = ["AllowPrivate", "PrivateNetworks", "check_addresses", "check_host", "is_public_address"]

_Network: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class PrivateNetworks:
    """The non-public networks the operator lets tenants' hosts be in
    (``MAILPORT_ALLOW_PRIVATE_NETWORKS``), say the company's own mail server at 10.1.2.3: an
    address in one of them is admitted; every other private, loopback or link-local address is
    still refused. Names that only a local resolver knows (``mail``, ``exchange.corp``) are
    admitted by their spelling and judged, like every name, by the addresses they resolve to at
    each connection."""

    networks: tuple[_Network, ...]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> PrivateNetworks:
        """``10.1.2.0/24``, ``192.168.5.20``, ``fd12:3456::/48`` …; raises ``ValueError`` naming
        the entry that is not a network (host bits set are a mistake, not a wider network)."""
        networks: list[_Network] = []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry.strip()))
            except ValueError as exc:
                raise ValueError(f"{entry.strip()!r} is not an IP network like 10.1.2.0/24 ({exc})") from None
        return cls(tuple(networks))

    def admits(self, ip: str) -> bool:
        try:
            addr = _parse(ip)
        except ValueError:
            return False
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped  # ::ffff:10.1.2.3 is 10.1.2.3
        return any(addr in net for net in self.networks if net.version == addr.version)


AllowPrivate: TypeAlias = bool | PrivateNetworks
"""``False``: public addresses only; ``True``: every address (a lab); :class:`PrivateNetworks`:
public addresses and the operator's own networks."""

# Ranges ``ipaddress`` does not already flag as non-global but that must never be reached:
# shared address space (carrier-grade NAT, RFC 6598) and the well-known metadata endpoints.
_EXTRA_BLOCKED: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (
    ipaddress.ip_network("100.64.0.0/10"),
    ipaddress.ip_network("192.0.0.0/24"),
    ipaddress.ip_network("198.18.0.0/15"),
    ipaddress.ip_network("fd00:ec2::/32"),
)


def _parse(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    # Strip an IPv6 zone id ("fe80::1%eth0"): the scope does not change the range.
    return ipaddress.ip_address(ip.split("%", 1)[0].strip("[]"))


def is_public_address(ip: str) -> bool:
    """True when ``ip`` is a globally routable unicast address.

    IPv4-mapped and 6to4/NAT64-embedded IPv4 addresses are judged by the IPv4 address they carry,
    so ``::ffff:127.0.0.1`` is as private as ``127.0.0.1``. Anything unparseable is not public.
    """
    try:
        addr = _parse(ip)
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address):
        embedded = addr.ipv4_mapped or addr.sixtofour
        if embedded is None and addr in ipaddress.ip_network("64:ff9b::/96"):
            embedded = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public_address(str(embedded))
    if addr.is_multicast or addr.is_unspecified or addr.is_reserved:
        return False
    if not addr.is_global:
        return False
    return not any(addr in net for net in _EXTRA_BLOCKED if net.version == addr.version)


def check_addresses(addresses: Iterable[str], *, allow_private: AllowPrivate) -> None:
    """Raise :class:`HostNotAllowed` unless every address may be connected to.

    An empty list is refused too: a name that resolves to nothing cannot be judged safe.
    ``allow_private`` ``True`` (``MAILPORT_ALLOW_PRIVATE_HOSTS``) admits every parseable address,
    :class:`PrivateNetworks` those in the operator's networks.
    """
    items = list(addresses)
    if not items:
        raise HostNotAllowed("The host name did not resolve to any address", code="net.host_not_found")
    for ip in items:
        try:
            _parse(ip)
        except ValueError:
            raise HostNotAllowed("The host resolved to something that is not an IP address") from None
        if allow_private is True or is_public_address(ip):
            continue
        if not (isinstance(allow_private, PrivateNetworks) and allow_private.admits(ip)):
            raise HostNotAllowed(
                "The host points into a private, loopback or reserved network, which is not allowed",
                address=ip,
            )


# Names that never lead to a public server, refused by their spelling before anything resolves
# them: ``localhost`` (RFC 6761: always the loopback), mDNS ``.local`` (link-local), the
# private-use ``home.arpa`` (RFC 8375) and ``.internal`` (reserved by ICANN for private use in
# 2024), and the undelegated suffixes home and office networks use.
_PRIVATE_SUFFIXES = ("localhost", "local", "internal", "home.arpa", "localdomain", "lan", "home", "corp",
                     "intranet", "private")


def _legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address ``inet_aton`` (and so curl, browsers and many resolvers) reads in ``host``:
    one to four parts, each decimal, ``0x`` hex or ``0`` octal — ``127.1``, ``0``, ``2130706433``,
    ``0x7f000001``, ``0177.0.0.1``. None when ``host`` is not such a number."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values: list[int] = []
    for part in parts:
        try:
            if part[:2] in ("0x", "0X"):
                values.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                values.append(int(part[1:], 8))
            elif part.isdigit():
                values.append(int(part))
            else:
                return None
        except ValueError:
            return None
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (5 - len(values)):
        return None
    number = sum(v << (8 * (3 - i)) for i, v in enumerate(head)) + last
    return ipaddress.IPv4Address(number)


def check_host(host: str, *, allow_private: AllowPrivate) -> str:
    """Judge a host as a tenant typed it, before anything resolves it; returns it lower-cased,
    without a trailing dot or IPv6 brackets.

    Refused (:class:`HostNotAllowed`) unless ``allow_private`` (``MAILPORT_ALLOW_PRIVATE_HOSTS``;
    with :class:`PrivateNetworks`, IP literals in them, and local names, which their addresses judge):
    an IP literal of a non-public address (``[::1]``, ``::ffff:127.0.0.1``), a numeric shorthand
    that ``inet_aton`` — and so curl, browsers and many resolvers — reads as one (``127.1``, ``0``,
    ``2130706433``, ``0x7f000001``, ``0177.0.0.1``), ``localhost`` and names under a private-use
    suffix (``*.localhost``, ``*.local``, ``*.internal``, …), and single-label names (a system
    resolver completes them with its own search domain). Other names are judged by the addresses
    they resolve to, at every connection. A shorthand of a public address is returned as typed:
    it is not a host name either, and the caller's syntax check refuses it.
    """
    name = host.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    try:
        literal = _parse(name)
    except ValueError:
        pass
    else:
        check_addresses([str(literal)], allow_private=allow_private)
        return name
    name = name.rstrip(".")
    shorthand = _legacy_ipv4(name)
    if shorthand is not None:
        check_addresses([str(shorthand)], allow_private=allow_private)
        return name
    if allow_private is True:
        return name
    if isinstance(allow_private, PrivateNetworks):
        if name == "localhost" or name.endswith(".localhost"):  # always the loopback (RFC 6761)
            check_addresses(["127.0.0.1"], allow_private=allow_private)
        return name
    if "." not in name or any(name == s or name.endswith("." + s) for s in _PRIVATE_SUFFIXES):
        raise HostNotAllowed(
            "The host name points into a private, loopback or local network, which is not allowed",
            address=name,
        )
    return name
