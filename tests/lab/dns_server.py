"""DnsLab: a real authoritative DNS server (dnslib's server, UDP and TCP) on 127.0.0.1.

Tests load zones at run time in BIND zone-file syntax::

    dns_lab.load_zone('''
        $ORIGIN example.test.
        $TTL 60
        @            SOA  ns1 hostmaster 1 3600 600 86400 60
        @            MX   10 mx1
        @            TXT  "v=spf1 " "include:_spf.example.test -all"
        _imaps._tcp  SRV  0 1 993 imap
        imap         A    127.0.0.1
        www          CNAME imap
    ''')

Rules: a later ``load_zone`` REPLACES the records of every (name, type) it contains and keeps the
rest; ``remove(name, rtype=None)`` deletes. Each ``$ORIGIN`` without an SOA gets a synthesized
SOA, so negative answers carry one in the authority section. Answers are authoritative (AA):
CNAMEs are followed within the loaded data; an existing name without the asked type is
NOERROR/NODATA; a name that does not exist (and has no names below it) is NXDOMAIN.
Faults: ``servfail(name)`` answers SERVFAIL, ``timeout(name)`` never answers, ``refuse(name)``
answers REFUSED. ``nameserver`` is "127.0.0.1:PORT" (the format of MAILPORT_DNS_NAMESERVERS).
Zone text is parsed with dnspython (dnslib's own parser gets relative names wrong).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

import dns.name
import dns.rdatatype
import dns.resolver
import dns.ttl
import dns.zonefile
from dnslib import QTYPE, RCODE, RD, RDMAP, RR, DNSBuffer, DNSError, DNSRecord
from dnslib.server import DNSLogger, DNSServer

from .ports import LOOPBACK, free_udp_tcp_port

_DIRECTIVE = re.compile(r"^\s*\$(ORIGIN|TTL|INCLUDE|GENERATE)\b\s*(\S*)", re.IGNORECASE)
DEFAULT_TTL = 300


def _norm(name: str) -> str:
    name = name.strip().lower()
    return name if name.endswith(".") else name + "."


def _rtype(rtype: str | int) -> int:
    return int(dns.rdatatype.RdataType.make(rtype))


@dataclass(frozen=True)
class Query:
    """One query the server received."""

    name: str
    rtype: str
    protocol: str  # "udp" or "tcp"


class _QuietLogger(DNSLogger):
    def __init__(self) -> None:
        super().__init__(log="-request,-reply,-truncated,-error,-recv,-send,-data")


def parse_zone(text: str, origin: str | None = None,
               default_ttl: int = DEFAULT_TTL) -> tuple[list[RR], list[str]]:
    """Parse BIND zone-file text into dnslib RRs; also return the origins it named."""
    origin_name = dns.name.from_text(origin) if origin else dns.name.root
    ttl = default_ttl
    origins: list[str] = [origin_name.to_text().lower()] if origin else []
    rrs: list[RR] = []
    chunk: list[str] = []

    def flush() -> None:
        body = "\n".join(chunk)
        chunk.clear()
        if not body.strip():
            return
        # rdclass=None: a class token ("IN") may or may not be written; without it the
        # reader would take "IN" for the record type.
        for rrset in dns.zonefile.read_rrsets(body, origin=origin_name, relativize=False,
                                              default_ttl=ttl, rdclass=None):
            t = int(rrset.rdtype)
            cls = RDMAP.get(QTYPE.get(t), RD)
            for rdata in rrset:
                wire = rdata.to_wire()
                rrs.append(RR(rname=rrset.name.to_text().lower(), rtype=t, ttl=rrset.ttl,
                              rdata=cls.parse(DNSBuffer(wire), len(wire))))

    for line in text.splitlines():
        m = _DIRECTIVE.match(line)
        if not m:
            chunk.append(line)
            continue
        flush()
        kind, arg = m.group(1).upper(), m.group(2)
        if kind == "ORIGIN":
            origin_name = dns.name.from_text(arg, origin_name)
            origins.append(origin_name.to_text().lower())
        elif kind == "TTL":
            ttl = int(dns.ttl.from_text(arg))
        else:
            raise ValueError(f"${kind} is not supported by the lab DNS server")
    flush()
    return rrs, origins


class _Resolver:
    def __init__(self, lab: DnsLab) -> None:
        self.lab = lab

    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        return self.lab._answer(request, handler.protocol)


class DnsLab:
    """The lab DNS server; see the module docstring for zones, answers and faults."""

    host = LOOPBACK

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, list[RR]] = {}
        self._zones: dict[str, RR] = {}  # origin -> SOA RR
        self._faults: dict[str, str] = {}
        self.queries: list[Query] = []
        self.port = 0
        self._servers: list[DNSServer] = []

    @property
    def nameserver(self) -> str:
        """``"127.0.0.1:PORT"``, the format of MAILPORT_DNS_NAMESERVERS."""
        return f"{self.host}:{self.port}"

    # ------------------------------------------------------------------ lifecycle
    def start(self, attempts: int = 10) -> DnsLab:
        """Serve on a port free for both UDP and TCP."""
        for attempt in range(attempts):
            port = free_udp_tcp_port()
            try:
                udp = DNSServer(_Resolver(self), address=LOOPBACK, port=port,
                                logger=_QuietLogger())
                try:
                    tcp = DNSServer(_Resolver(self), address=LOOPBACK, port=port, tcp=True,
                                    logger=_QuietLogger())
                except OSError:
                    udp.server.server_close()
                    raise
            except OSError:
                if attempt + 1 == attempts:
                    raise
                continue
            self.port = port
            self._servers = [udp, tcp]
            for server in self._servers:  # like start_thread(), with a quicker shutdown poll
                server.thread = threading.Thread(target=server.server.serve_forever,
                                                 kwargs={"poll_interval": 0.05}, daemon=True)
                server.thread.start()
            return self
        raise RuntimeError("unreachable")

    def stop(self) -> None:
        """Stop both servers."""
        for server in self._servers:
            server.stop()
            server.server.server_close()
        self._servers = []

    # ------------------------------------------------------------------ data
    def load_zone(self, text: str, origin: str | None = None, *,
                  default_ttl: int = DEFAULT_TTL) -> list[RR]:
        """Load records from zone-file text (``$ORIGIN``/``$TTL`` understood; ``origin`` is
        the starting origin). Replaces existing records with the same name AND type. Returns
        the parsed records."""
        rrs, origins = parse_zone(text, origin, default_ttl)
        with self._lock:
            replaced: set[tuple[str, int]] = set()
            for rr in rrs:
                name, t = str(rr.rname).lower(), rr.rtype
                if (name, t) not in replaced:
                    replaced.add((name, t))
                    self._records[name] = [r for r in self._records.get(name, [])
                                           if r.rtype != t]
                self._records.setdefault(name, []).append(rr)
                if t == QTYPE.SOA:
                    self._zones[name] = rr
            for o in origins:
                if o != "." and o not in self._zones:
                    self._zones[o] = RR.fromZone(
                        f"{o} {DEFAULT_TTL} IN SOA ns.{o} hostmaster.{o} 1 3600 600 86400 60")[0]
        return rrs

    def add(self, name: str, rtype: str, value: str, ttl: int = DEFAULT_TTL) -> None:
        """Set one record (replacing the records of that name and type), e.g.
        ``add("example.test", "TXT", '"v=spf1 -all"')``."""
        self.load_zone(f"{_norm(name)} {ttl} IN {rtype} {value}\n")

    def remove(self, name: str, rtype: str | None = None) -> None:
        """Delete every record of ``name`` (or only those of ``rtype``)."""
        key = _norm(name)
        with self._lock:
            if rtype is None:
                self._records.pop(key, None)
                self._zones.pop(key, None)
            else:
                t = _rtype(rtype)
                kept = [r for r in self._records.get(key, []) if r.rtype != t]
                if kept:
                    self._records[key] = kept
                else:
                    self._records.pop(key, None)
                if t == QTYPE.SOA:
                    self._zones.pop(key, None)

    def reset(self) -> None:
        """Forget every zone, record, fault and logged query."""
        with self._lock:
            self._records.clear()
            self._zones.clear()
            self._faults.clear()
            self.queries.clear()

    # ------------------------------------------------------------------ faults
    def servfail(self, name: str) -> None:
        """Answer SERVFAIL for ``name`` (any type)."""
        with self._lock:
            self._faults[_norm(name)] = "servfail"

    def timeout(self, name: str) -> None:
        """Never answer queries for ``name`` (the client times out), on UDP and TCP."""
        with self._lock:
            self._faults[_norm(name)] = "timeout"

    def refuse(self, name: str) -> None:
        """Answer REFUSED for ``name``."""
        with self._lock:
            self._faults[_norm(name)] = "refused"

    def clear_faults(self) -> None:
        """Answer normally again."""
        with self._lock:
            self._faults.clear()

    # ------------------------------------------------------------------ clients
    def resolver(self, timeout: float = 2.0) -> dns.resolver.Resolver:
        """A dnspython Resolver that asks only this server (no caching)."""
        r = dns.resolver.Resolver(configure=False)
        r.nameservers = [self.host]
        r.port = self.port
        r.timeout = r.lifetime = timeout
        return r

    # ------------------------------------------------------------------ server side
    def _zone_for(self, name: str) -> RR | None:
        labels = name.rstrip(".").split(".")
        for i in range(len(labels)):
            soa = self._zones.get(".".join(labels[i:]) + ".")
            if soa is not None:
                return soa
        return None

    def _exists(self, name: str) -> bool:
        return name in self._records or any(k.endswith("." + name) for k in self._records)

    def _answer(self, request: DNSRecord, protocol: str) -> DNSRecord:
        qname = str(request.q.qname).lower()
        qtype = request.q.qtype
        reply = request.reply(ra=0, aa=1)
        with self._lock:
            self.queries.append(Query(qname, QTYPE.get(qtype, str(qtype)), protocol))
            fault = self._faults.get(qname)
            if fault == "timeout":
                raise DNSError("lab fault: no answer")  # dnslib's handler then sends nothing
            if fault == "servfail":
                reply.header.rcode = RCODE.SERVFAIL
                return reply
            if fault == "refused":
                reply.header.rcode = RCODE.REFUSED
                return reply
            name = qname
            answered = False
            for _ in range(10):  # follow CNAMEs inside our data
                rrs = self._records.get(name, [])
                cnames = [r for r in rrs if r.rtype == QTYPE.CNAME]
                if cnames and qtype not in (QTYPE.CNAME, QTYPE.ANY):
                    for r in cnames:
                        reply.add_answer(r)
                    name = str(cnames[0].rdata.label).lower()
                    continue
                matched = [r for r in rrs if qtype == QTYPE.ANY or r.rtype == qtype]
                for r in matched:
                    reply.add_answer(r)
                answered = bool(matched)
                break
            if not answered:
                if not self._exists(name):
                    reply.header.rcode = RCODE.NXDOMAIN
                soa = self._zone_for(name)
                if soa is not None:
                    reply.add_auth(soa)
        return reply
