"""DNS lookups through dnspython, cached, with errors translated into :mod:`mailport.errors`.

Every name mailport looks up goes through one :class:`DnsResolver` — MX, SRV and TXT for
discovery and domain checks, and the A/AAAA of every host it connects to (autoconfig URLs,
probes, SMTP/IMAP servers), so ``MAILPORT_DNS_NAMESERVERS`` really decides what mailport sees
and tests can point any name at loopback.

Caching: answers 24 h, "no such name / no such record" 1 h (RFC 2308's spirit, fixed bounds
rather than the zone's TTLs so a user fixing their DNS is not kept waiting by a long negative
TTL — ``clear()`` drops the cache for an explicit re-check). Failures (SERVFAIL, timeouts) are
never cached. The clock is injectable for tests.

Error translation:
- NXDOMAIN / NoAnswer → an empty list (``resolve_addresses``: :class:`NetworkError`
  ``net.host_not_found``, since a host to connect to that has no address is an error);
- all servers failed (SERVFAIL, REFUSED) → :class:`NetworkError` ``net.dns_failure``;
- no answer in time → :class:`RemoteTimeout` ``net.timeout``; ``stage`` is ``dns``.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver

from mailport.core.discovery import MxRecord, SrvRecord
from mailport.errors import ConfigurationError, NetworkError, RemoteTimeout

if TYPE_CHECKING:
    from mailport.settings import Settings

__all__ = ["DnsResolver", "Resolver", "parse_nameserver"]

POSITIVE_TTL = 24 * 3600.0
NEGATIVE_TTL = 3600.0
_MAX_ENTRIES = 10_000


class Resolver(Protocol):
    """What callers need from DNS; :class:`DnsResolver` is the real one."""

    async def mx(self, domain: str) -> list[MxRecord]: ...
    async def srv(self, name: str) -> list[SrvRecord]: ...
    async def txt(self, name: str) -> list[str]: ...
    async def cname(self, name: str) -> str | None: ...
    async def resolve_addresses(self, host: str) -> list[str]: ...


def parse_nameserver(value: str) -> tuple[str, int]:
    """``"ip"``, ``"ip:port"``, ``"[v6]:port"`` or a bare IPv6 address → ``(ip, port)``."""
    text = value.strip()
    host, port = text, 53
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            if not rest.startswith(":") or not rest[1:].isdigit():
                raise ConfigurationError(f"invalid DNS nameserver {value!r}")
            port = int(rest[1:])
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
        if not port_text.isdigit():
            raise ConfigurationError(f"invalid DNS nameserver {value!r}")
        port = int(port_text)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ConfigurationError(f"DNS nameserver must be an IP address: {value!r}") from None
    if not 0 < port < 65536:
        raise ConfigurationError(f"invalid DNS nameserver port in {value!r}")
    return host, port


class DnsResolver:
    """Async, cached lookups; one instance per process (it holds the cache)."""

    def __init__(
        self,
        *,
        nameservers: Sequence[str] = (),
        timeout: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
        positive_ttl: float = POSITIVE_TTL,
        negative_ttl: float = NEGATIVE_TTL,
    ) -> None:
        if nameservers:
            resolver = dns.asyncresolver.Resolver(configure=False)
            resolver.nameservers = [
                dns.nameserver.Do53Nameserver(ip, port)
                for ip, port in (parse_nameserver(ns) for ns in nameservers)
            ]
        else:
            resolver = dns.asyncresolver.Resolver()
        resolver.lifetime = timeout
        resolver.timeout = timeout
        self._resolver = resolver
        self._timeout = timeout
        self._clock = clock
        self._positive_ttl = positive_ttl
        self._negative_ttl = negative_ttl
        self._cache: dict[tuple[str, str], tuple[float, tuple[Any, ...]]] = {}
        self._inflight: dict[tuple[str, str], asyncio.Future[tuple[Any, ...]]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> DnsResolver:
        return cls(nameservers=settings.dns_nameservers, timeout=settings.dns_timeout)

    def uncached(self, *, nameservers: Sequence[str] | None = None) -> DnsResolver:
        """A sibling that never caches: the same servers (or ``nameservers``, ``"ip:port"``).

        For a user-requested re-check ("check and activate") and for asking a domain's
        authoritative servers directly, where a cached answer would hide a fresh DNS change.
        """
        servers = list(nameservers) if nameservers is not None else self._nameserver_texts
        return DnsResolver(nameservers=servers, timeout=self._timeout, clock=self._clock,
                           positive_ttl=0.0, negative_ttl=0.0)

    @property
    def _nameserver_texts(self) -> list[str]:
        texts: list[str] = []
        for ns in self._resolver.nameservers:  # strings when read from resolv.conf
            address, port = ((ns.address, ns.port) if isinstance(ns, dns.nameserver.Do53Nameserver)
                             else (str(ns), self._resolver.port))
            if isinstance(ns, (str, dns.nameserver.Do53Nameserver)):
                texts.append(f"[{address}]:{port}" if ":" in address else f"{address}:{port}")
        return texts

    async def ns(self, zone: str) -> list[str]:
        """The name servers of ``zone`` (host names, no trailing dot); ``[]`` if it has none."""
        return sorted(str(row) for row in await self._query(zone, "NS"))

    def clear(self) -> None:
        """Forget every cached answer (e.g. before a user-requested DNS re-check)."""
        self._cache.clear()

    async def mx(self, domain: str) -> list[MxRecord]:
        """MX records of ``domain``, most preferred first; a null MX (RFC 7505) has host ``""``."""
        rows = await self._query(domain, "MX")
        records = [MxRecord(*row) for row in rows]
        return sorted(records, key=lambda r: (r.preference, r.host))

    async def domain_exists(self, domain: str) -> bool:
        """Whether ``domain`` exists in DNS at all (NXDOMAIN: no; any answer, even an empty one: yes)."""
        try:
            await self._resolver.resolve(domain, "SOA", lifetime=self._timeout, search=False,
                                         raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return False
        except dns.exception.Timeout as exc:
            raise RemoteTimeout(f"The DNS lookup of {_display(domain)} timed out", code="net.timeout",
                                stage="dns", host=_display(domain)) from exc
        except dns.exception.DNSException as exc:
            raise NetworkError(f"The DNS lookup of {_display(domain)} failed", code="net.dns_failure",
                               stage="dns", host=_display(domain)) from exc
        return True

    async def srv(self, name: str) -> list[SrvRecord]:
        """SRV records at ``name`` (``_imaps._tcp.example.com``); target ``"."`` means none."""
        rows = await self._query(name, "SRV")
        return [SrvRecord(*row) for row in rows]

    async def txt(self, name: str) -> list[str]:
        """TXT records at ``name``, each one's strings joined (how SPF/DKIM/DMARC read them)."""
        return [str(row) for row in await self._query(name, "TXT")]

    async def cname(self, name: str) -> str | None:
        """The target of the CNAME at ``name`` (no trailing dot), or ``None``."""
        rows = await self._query(name, "CNAME")
        return str(rows[0]) if rows else None

    async def resolve_addresses(self, host: str) -> list[str]:
        """IPv4 and IPv6 addresses of ``host`` (IPv4 first); an IP literal is returned as is.

        Raises :class:`NetworkError` ``net.host_not_found`` when the name has no address.
        """
        literal = host.strip().strip("[]")
        try:
            return [str(ipaddress.ip_address(literal))]
        except ValueError:
            pass
        if literal.lower().rstrip(".") == "localhost" or literal.lower().rstrip(".").endswith(".localhost"):
            # RFC 6761: always the loopback, never asked of DNS (which does not know the name);
            # whether a tenant may connect there is the address policy's decision, not DNS's.
            return ["127.0.0.1", "::1"]
        results = await asyncio.gather(
            self._query(host, "A"), self._query(host, "AAAA"), return_exceptions=True
        )
        addresses: list[str] = []
        errors: list[BaseException] = []
        for result in results:
            if isinstance(result, BaseException):
                errors.append(result)
            else:
                addresses.extend(str(a) for a in result)
        if addresses:
            return addresses
        if errors:
            raise errors[0]
        raise NetworkError(
            f"The host name {_display(host)} does not exist in DNS",
            code="net.host_not_found", stage="dns", host=_display(host),
        )

    async def _query(self, name: str, rdtype: str) -> tuple[Any, ...]:
        qname = _to_ascii(name)
        if qname is None:
            return ()
        key = (qname, rdtype)
        now = self._clock()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        # Concurrent askers of the same question share one query (discovery probes ask for the
        # A/AAAA of imap.<d> once per port, all at the same moment).
        inflight = self._inflight.get(key)
        if inflight is None:
            inflight = asyncio.ensure_future(self._lookup(qname, rdtype, name))
            self._inflight[key] = inflight
            inflight.add_done_callback(functools.partial(self._finished, key))
        # shield: one asker being cancelled (its own deadline) must not cancel the others' query.
        return await asyncio.shield(inflight)

    def _finished(self, key: tuple[str, str], task: asyncio.Future[tuple[Any, ...]]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved here, so an error nobody awaited any more is not logged

    async def _lookup(self, qname: str, rdtype: str, name: str) -> tuple[Any, ...]:
        key = (qname, rdtype)
        try:
            answer = await self._resolver.resolve(
                qname, rdtype, lifetime=self._timeout, search=False, raise_on_no_answer=True
            )
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.YXDOMAIN):
            self._store(key, (), self._negative_ttl)
            return ()
        except dns.exception.Timeout as exc:
            raise RemoteTimeout(
                f"The DNS lookup of {_display(name)} timed out",
                code="net.timeout", stage="dns", host=_display(name),
            ) from exc
        except dns.resolver.NoNameservers as exc:
            raise NetworkError(
                f"The DNS servers failed to answer for {_display(name)}",
                code="net.dns_failure", stage="dns", host=_display(name),
            ) from exc
        except dns.exception.DNSException as exc:
            raise NetworkError(
                f"The DNS lookup of {_display(name)} failed",
                code="net.dns_failure", stage="dns", host=_display(name),
            ) from exc
        rows = tuple(_row(rdata, rdtype) for rdata in answer)
        self._store(key, rows, self._positive_ttl)
        return rows

    def _store(self, key: tuple[str, str], rows: tuple[Any, ...], ttl: float) -> None:
        if len(self._cache) >= _MAX_ENTRIES:
            now = self._clock()
            for stale in [k for k, (exp, _) in self._cache.items() if exp <= now]:
                del self._cache[stale]
            while len(self._cache) >= _MAX_ENTRIES:
                del self._cache[next(iter(self._cache))]  # oldest insertion
        self._cache[key] = (self._clock() + ttl, rows)


def _row(rdata: Any, rdtype: str) -> Any:
    """A plain, cacheable value of one record (rdata classes vary by type)."""
    if rdtype == "MX":
        return (int(rdata.preference), _name(rdata.exchange))
    if rdtype == "SRV":
        return (int(rdata.priority), int(rdata.weight), int(rdata.port), _name(rdata.target) or ".")
    if rdtype == "TXT":
        return b"".join(rdata.strings).decode("utf-8", "replace")
    if rdtype in ("CNAME", "NS"):
        return _name(rdata.target)
    return rdata.to_text()


def _name(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower() if name != dns.name.root else ""


def _to_ascii(name: str) -> str | None:
    """The query name in ASCII (IDNA 2008 via dnspython), or ``None`` if it cannot be a name."""
    text = name.strip().rstrip(".")
    if not text:
        return None
    try:
        return dns.name.from_text(text).to_text(omit_final_dot=True).lower()
    except (dns.exception.DNSException, UnicodeError, ValueError):
        return None


def _display(name: str) -> str:
    return name.strip().rstrip(".")
