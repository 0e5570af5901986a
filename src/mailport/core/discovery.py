"""Discovery, the pure half: from an address and looked-up answers to ranked server settings.

The adapters gather answers (catalog hit, autoconfig documents, ISPDB, MX, SRV, probes); this
module turns each answer into a :class:`Candidate`, ranks them in Thunderbird's order and builds
the :class:`DiscoveryResult` the API and CLI show. It never invents a setting no source gave:
a candidate carries only hosts and ports an answer contained.

Order of trust (lower tier wins):

====  ======================  ==================================================================
tier  origin                  why
====  ======================  ==================================================================
0     catalog                 hand-checked, knows auth kinds and hints
1     autoconfig              the domain's own ``https://autoconfig.<d>/…`` (TLS-verified)
2     autoconfig.well_known   ``https://<d>/.well-known/autoconfig/…``
3     ispdb                   Thunderbird's database, for the domain itself
4     mx                      the MX host belongs to a catalog provider (Workspace, 365, hosting)
5     mx.ispdb                ISPDB entry of the MX host's (registrable) domain
6     srv                     RFC 6186/8314 records; DNS is unauthenticated but the domain's own
7     autoconfig.http         plain HTTP: anyone on the path could have written it
8     probe                   a server answered on a usual name and port
====  ======================  ==================================================================

Pure: no I/O, no clock.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from publicsuffixlist import PublicSuffixList

from mailport.core.addresses import Address
from mailport.core.autoconfig import ClientConfig, ConfiguredServer, auth_kinds, fill_placeholders
from mailport.core.providers import N_, Hint, Provider, Security, ServerSettings

__all__ = [
    "ORIGIN_TIERS",
    "SRV_SERVICES",
    "Candidate",
    "DiscoveryResult",
    "MxRecord",
    "ProbeTarget",
    "ProviderRef",
    "SrvRecord",
    "TraceEntry",
    "autoconfig_urls",
    "best_tier",
    "candidate_from_config",
    "candidate_from_probes",
    "candidate_from_provider",
    "candidate_from_srv",
    "crosscheck",
    "decide",
    "lowest_mx",
    "mx_ispdb_domains",
    "probe_plan",
    "registrable_domain",
]

Source = Literal["catalog", "autoconfig", "ispdb", "mx", "srv", "probe"]
Kind = Literal["imap", "smtp"]

ORIGIN_TIERS: Mapping[str, int] = {
    "catalog": 0,
    "autoconfig": 1,
    "autoconfig.well_known": 2,
    "ispdb": 3,
    "mx": 4,
    "mx.ispdb": 5,
    "srv": 6,
    "autoconfig.http": 7,
    "probe": 8,
}
_PUBLIC_SOURCE: Mapping[str, Source] = {
    "catalog": "catalog",
    "autoconfig": "autoconfig",
    "autoconfig.well_known": "autoconfig",
    "autoconfig.http": "autoconfig",
    "ispdb": "ispdb",
    "mx": "mx",
    "mx.ispdb": "mx",
    "srv": "srv",
    "probe": "probe",
}

# RFC 6186 / RFC 8314 service labels, implicit TLS first within each kind.
SRV_SERVICES: Mapping[str, tuple[Kind, Security]] = {
    "_submissions._tcp": ("smtp", "tls"),
    "_submission._tcp": ("smtp", "starttls"),
    "_imaps._tcp": ("imap", "tls"),
    "_imap._tcp": ("imap", "starttls"),
}

DEFAULT_PROBE_PORTS: Mapping[tuple[Kind, Security], int] = {
    ("imap", "tls"): 993,
    ("imap", "starttls"): 143,
    ("smtp", "tls"): 465,
    ("smtp", "starttls"): 587,
}

UNTRUSTED_SOURCE = Hint(
    "discovery.untrusted_source",
    N_("These settings were fetched over an unencrypted connection; check them before you rely on them."),
)
GUESSED_USERNAME = Hint(
    "discovery.username_assumed",
    N_("The user name is assumed to be the full email address; change it if your provider uses another."),
)
PROBED = Hint(
    "discovery.probed",
    N_("These servers were found by trying the usual names and ports; the connection test will confirm them."),
)
NOT_FOUND = Hint(
    "discovery.not_found",
    N_("The server settings for this address could not be found; enter them as your provider documents them."),
)


@dataclass(frozen=True, slots=True)
class ProviderRef:
    id: str
    name: str

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name}


@dataclass(frozen=True, slots=True)
class MxRecord:
    preference: int
    host: str


@dataclass(frozen=True, slots=True)
class SrvRecord:
    priority: int
    weight: int
    port: int
    target: str


@dataclass(frozen=True, slots=True)
class ProbeTarget:
    kind: Kind
    host: str
    port: int
    security: Security


@dataclass(frozen=True, slots=True)
class TraceEntry:
    """One source's fate: ``found``, ``not_found``, ``invalid``, ``failed``, ``timeout``,
    ``refused`` (SSRF guard), ``cancelled`` (a better source had already answered) or ``skipped``."""

    source: str
    outcome: str
    ms: int
    detail: str = ""

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"source": self.source, "outcome": self.outcome, "ms": self.ms}
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass(frozen=True, slots=True)
class Candidate:
    """Settings one source proposed; ``origin`` is a key of :data:`ORIGIN_TIERS`."""

    origin: str
    imap: ServerSettings | None
    smtp: ServerSettings | None
    provider: ProviderRef | None = None
    auth: tuple[str, ...] = ()
    hints: tuple[Hint, ...] = ()

    @property
    def tier(self) -> int:
        return ORIGIN_TIERS[self.origin]

    @property
    def source(self) -> Source:
        return _PUBLIC_SOURCE[self.origin]

    @property
    def usable(self) -> bool:
        return self.imap is not None or self.smtp is not None


def _named_hint(code: str, template: str, **values: str) -> Hint:
    return Hint(code, template % values, template=template, values=tuple(values.items()))


@dataclass(frozen=True, slots=True)
class DiscoveryResult:
    email: str
    provider: ProviderRef | None
    imap: ServerSettings | None
    smtp: ServerSettings | None
    source: Source | None
    auth: tuple[str, ...]
    hints: tuple[Hint, ...]
    trace: tuple[TraceEntry, ...] = field(default=())
    suggestion: str | None = None
    """A catalogued domain the address's domain is probably a typo of (``gmial.com`` → ``gmail.com``)."""
    domain_exists: bool | None = None
    """``False`` when DNS says the domain does not exist at all; ``None`` when not asked or unknown."""

    @property
    def found(self) -> bool:
        return self.imap is not None or self.smtp is not None

    def with_typo_check(self, *, suggestion: str | None, domain_exists: bool | None) -> DiscoveryResult:
        """This result, telling the user about a likely typo and a domain that does not exist."""
        hints = list(self.hints)
        domain = self.email.rpartition("@")[2]
        if domain_exists is False:
            hints.insert(0, _named_hint("discovery.domain_unknown", N_(
                "The domain %(domain)s does not exist. Check the address for a typo."), domain=domain))
        if suggestion:
            hints.insert(0, _named_hint("discovery.did_you_mean", N_("Did you mean %(domain)s?"),
                                        domain=suggestion))
        return replace(self, hints=tuple(hints), suggestion=suggestion, domain_exists=domain_exists)

    def to_dict(self) -> dict[str, object]:
        return {
            "email": self.email,
            "provider": self.provider.to_dict() if self.provider else None,
            "imap": self.imap.to_dict() if self.imap else None,
            "smtp": self.smtp.to_dict() if self.smtp else None,
            "source": self.source,
            "auth": list(self.auth),
            "hints": [h.to_dict() for h in self.hints],
            "trace": [t.to_dict() for t in self.trace],
            "suggestion": self.suggestion,
            "domain_exists": self.domain_exists,
        }


# --- candidates from each kind of answer ------------------------------------------------------


def candidate_from_provider(provider: Provider, address: Address, *, origin: str) -> Candidate:
    """The catalog's settings for ``provider`` (``origin`` ``catalog`` or ``mx``)."""
    return Candidate(
        origin=origin,
        imap=_filled(provider.imap, address),
        smtp=_filled(provider.smtp, address),
        provider=ProviderRef(provider.id, provider.name),
        auth=provider.auth,
        hints=provider.hints,
    )


def candidate_from_config(config: ClientConfig, address: Address, *, origin: str) -> Candidate | None:
    """The best IMAP and SMTP server of an autoconfig/ISPDB document, placeholders filled."""
    imap = _first_server(config.imap, address)
    smtp = _first_server(config.smtp, address)
    if imap is None and smtp is None:
        return None
    chosen = [s for s in (imap, smtp) if s is not None]
    auth = auth_kinds(chosen) or ("password",)
    provider = (
        ProviderRef(config.provider_id, config.display_name or config.provider_id)
        if config.provider_id
        else None
    )
    hints = (UNTRUSTED_SOURCE,) if origin == "autoconfig.http" else ()
    return Candidate(
        origin=origin,
        imap=imap.settings if imap else None,
        smtp=smtp.settings if smtp else None,
        provider=provider,
        auth=auth,
        hints=hints,
    )


def candidate_from_srv(answers: Mapping[str, Sequence[SrvRecord]], address: Address) -> Candidate | None:
    """Settings from RFC 6186 SRV answers keyed by service label (``_imaps._tcp`` …).

    A lone record with target ``.`` means "not offered" (RFC 6186 §3.4). Within a service the
    lowest priority, then highest weight wins (deterministic, no random weighting: we pick one
    server to propose, not to balance load). Implicit TLS beats STARTTLS (RFC 8314 §5.1).
    """
    found: dict[Kind, ServerSettings] = {}
    for service, (kind, security) in SRV_SERVICES.items():
        if kind in found:
            continue
        records = [r for r in answers.get(service, ()) if _host(r.target) and 0 < r.port < 65536]
        if not records:
            continue
        best = min(records, key=lambda r: (r.priority, -r.weight, _host(r.target)))
        found[kind] = ServerSettings(
            _host(best.target), best.port, security, address.ascii_email or address.email
        )
    if not found:
        return None
    return Candidate(
        origin="srv",
        imap=found.get("imap"),
        smtp=found.get("smtp"),
        auth=("password",),
        hints=(GUESSED_USERNAME,),
    )


def candidate_from_probes(answered: Iterable[ProbeTarget], address: Address) -> Candidate | None:
    """Settings from the probe targets whose server answered, in :func:`probe_plan` order."""
    found: dict[Kind, ServerSettings] = {}
    for target in answered:
        if target.kind not in found:
            found[target.kind] = ServerSettings(
                target.host, target.port, target.security, address.ascii_email or address.email
            )
    if not found:
        return None
    return Candidate(
        origin="probe",
        imap=found.get("imap"),
        smtp=found.get("smtp"),
        auth=("password",),
        hints=(PROBED, GUESSED_USERNAME),
    )


# --- what to look up --------------------------------------------------------------------------


def autoconfig_urls(address: Address, *, https_port: int = 443, http_port: int = 80) -> dict[str, str]:
    """The domain's own autoconfig URLs, keyed by origin (Thunderbird's order)."""
    from urllib.parse import quote

    domain = address.ascii_domain
    email = quote(address.ascii_email or address.email, safe="@")

    def base(scheme: str, host: str, port: int) -> str:
        default = 443 if scheme == "https" else 80
        return f"{scheme}://{host}" + ("" if port == default else f":{port}")

    path = f"/mail/config-v1.1.xml?emailaddress={email}"
    return {
        "autoconfig": base("https", f"autoconfig.{domain}", https_port) + path,
        "autoconfig.well_known": base("https", domain, https_port)
        + f"/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress={email}",
        "autoconfig.http": base("http", f"autoconfig.{domain}", http_port) + path,
    }


def lowest_mx(records: Iterable[MxRecord]) -> str | None:
    """The host of the most preferred MX, or ``None`` (no MX, or a null MX per RFC 7505)."""
    usable = [r for r in records if _host(r.host)]
    if not usable:
        return None
    return _host(min(usable, key=lambda r: (r.preference, _host(r.host))).host)


def registrable_domain(host: str) -> str | None:
    """The registrable domain of ``host`` by the Public Suffix List (``a.b.example.co.uk`` →
    ``example.co.uk``); for a TLD the list does not know (``.test``) the last label is taken as
    the public suffix, as the list's default rule ``*`` says."""
    host = _host(host)
    if not host or "." not in host:
        return None
    found: str | None = _public_suffix_list().privatesuffix(host, accept_unknown=True)
    return found


@functools.cache
def _public_suffix_list() -> PublicSuffixList:
    # The snapshot bundled with the package (kept current by its releases); never fetched at run time.
    return PublicSuffixList()


def mx_ispdb_domains(mx_host: str) -> list[str]:
    """Domains to ask the ISPDB for, given the MX host: the registrable domain plus one label
    (``mail.provider.co.uk`` from ``mx1.mail.provider.co.uk``) first, then the registrable one."""
    host = _host(mx_host)
    base = registrable_domain(host)
    if base is None:
        return []
    out: list[str] = []
    labels = host[: -len(base)].rstrip(".").split(".") if host != base else []
    if labels and labels[-1] and len(labels) > 1:
        out.append(f"{labels[-1]}.{base}")
    out.append(base)
    return out


def probe_plan(
    address: Address, *, ports: Mapping[tuple[Kind, Security], int] = DEFAULT_PROBE_PORTS
) -> list[ProbeTarget]:
    """Usual names and ports to try, most likely first: implicit TLS, then STARTTLS; never plain."""
    domain = address.ascii_domain
    plan: list[ProbeTarget] = []
    for kind, prefix in (("imap", "imap"), ("smtp", "smtp")):
        for security in ("tls", "starttls"):
            port = ports[(kind, security)]  # type: ignore[index]
            for host in (f"{prefix}.{domain}", f"mail.{domain}", domain):
                plan.append(ProbeTarget(kind, host, port, security))  # type: ignore[arg-type]
    return plan


# --- the catalog against what the provider publishes -------------------------------------------


def crosscheck(
    catalog: Candidate, config: ClientConfig, address: Address, *, origin: str
) -> tuple[Candidate, tuple[str, ...]]:
    """The catalog candidate corrected by the provider's own published ``config``, and how they differ.

    The catalog agrees for a protocol when its (host, port, security) is among the servers the
    document lists for it (a provider publishing 465 and 587 agrees with a catalog saying either).
    Where it does not, the published server wins — the provider's current data beats a hand-written
    entry that may have gone stale — while provider, auth kinds and hints stay the catalog's. A
    protocol the document does not publish keeps the catalog's server.
    """
    differences: list[str] = []
    chosen: dict[str, ServerSettings | None] = {"imap": catalog.imap, "smtp": catalog.smtp}
    for kind, servers in (("imap", config.imap), ("smtp", config.smtp)):
        published = [f for f in (_filled(s.settings, address) for s in servers) if f and "%" not in f.host]
        ours = chosen[kind]
        if not published:
            continue
        if ours is not None and any(_same_server(ours, p) for p in published):
            continue
        theirs = published[0]
        differences.append(f"{kind}: catalog {_describe(ours)}, {origin} {_describe(theirs)}")
        chosen[kind] = theirs
    if not differences:
        return catalog, ()
    corrected = Candidate(origin=catalog.origin, imap=chosen["imap"], smtp=chosen["smtp"],
                          provider=catalog.provider, auth=catalog.auth, hints=catalog.hints)
    return corrected, tuple(differences)


def _same_server(a: ServerSettings, b: ServerSettings) -> bool:
    return (a.host, a.port, a.security) == (b.host, b.port, b.security)


def _describe(server: ServerSettings | None) -> str:
    return "none" if server is None else f"{server.host}:{server.port} {server.security}"


# --- ranking ----------------------------------------------------------------------------------


def best_tier(candidates: Iterable[Candidate]) -> int | None:
    """The tier of the best usable candidate so far (for stopping slower lookups early)."""
    tiers = [c.tier for c in candidates if c.usable]
    return min(tiers) if tiers else None


def decide(
    address: Address,
    candidates: Iterable[Candidate],
    *,
    trace: Sequence[TraceEntry] = (),
    closed: Provider | None = None,
    closed_source: Source = "catalog",
) -> DiscoveryResult:
    """Rank the candidates and build the result.

    The best usable candidate gives provider, source, auth and hints. If it lacks one of IMAP or
    SMTP, the next candidate offering that half fills it (still only what a source said).
    ``closed`` is a catalog provider that offers no IMAP/SMTP at all: the result explains that.
    """
    if closed is not None:
        return DiscoveryResult(
            email=address.email,
            provider=ProviderRef(closed.id, closed.name),
            imap=None,
            smtp=None,
            source=closed_source,
            auth=(),
            hints=closed.hints,
            trace=tuple(trace),
        )
    ranked = sorted((c for c in candidates if c.usable), key=lambda c: c.tier)
    if not ranked:
        return DiscoveryResult(
            email=address.email, provider=None, imap=None, smtp=None, source=None,
            auth=(), hints=(NOT_FOUND,), trace=tuple(trace),
        )
    best = ranked[0]
    imap = best.imap or next((c.imap for c in ranked if c.imap), None)
    smtp = best.smtp or next((c.smtp for c in ranked if c.smtp), None)
    provider = best.provider or next((c.provider for c in ranked if c.provider), None)
    return DiscoveryResult(
        email=address.email,
        provider=provider,
        imap=imap,
        smtp=smtp,
        source=best.source,
        auth=best.auth or ("password",),
        hints=best.hints,
        trace=tuple(trace),
    )


def _first_server(servers: Sequence[ConfiguredServer], address: Address) -> ConfiguredServer | None:
    for server in servers:
        filled = _filled(server.settings, address)
        if filled is not None and "%" not in filled.host:
            return ConfiguredServer(filled, server.authentication)
    return None


def _filled(settings: ServerSettings | None, address: Address) -> ServerSettings | None:
    if settings is None:
        return None
    return ServerSettings(
        host=fill_placeholders(settings.host, address).lower(),
        port=settings.port,
        security=settings.security,
        username=fill_placeholders(settings.username, address),
    )


def _host(name: str) -> str:
    return name.strip().rstrip(".").lower()
