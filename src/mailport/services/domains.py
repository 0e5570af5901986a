"""Own sending domains: add (key + records), check and activate, scheduled re-checks, sending rights.

The rules live in :mod:`mailport.core.dnsauth` (what the records must be, verdicts) and
:mod:`mailport.core.domainstate` (states, schedule, grace); this service looks DNS up, stores,
emits ``domain.state_changed`` and schedules the next ``domain_check`` job.

DNS: a check asks the domain's **authoritative** servers directly when they can be reached (so a
user who just published a record does not wait for caches), and falls back to the configured
resolvers, never cached, for anything the authoritative servers did not answer (a CNAME into
another zone, an unreachable server, addresses the SSRF guard refuses).
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets as random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

import idna
from sqlalchemy.orm import Session

from mailport.adapters.dkim import DkimSigner, generate_key, public_key_b64
from mailport.adapters.dns import DnsResolver
from mailport.adapters.queue import ClaimedJob, JobQueue
from mailport.adapters.storage.database import Database
from mailport.adapters.storage.domain_repository import DomainRepository
from mailport.adapters.storage.tables import Tenant
from mailport.adapters.storage.tables_domains import Domain
from mailport.clock import Clock
from mailport.core import netpolicy
from mailport.core.discovery import registrable_domain
from mailport.core.dnsauth import (
    TEXTS,
    Answer,
    DomainAnswers,
    LookupFailed,
    RecordKind,
    RecordVerdict,
    RequiredRecord,
    evaluate,
    normalize_domain,
    required_records,
    spf_queries,
)
from mailport.core.domainstate import (
    CheckOutcome,
    DomainState,
    Transition,
    after_check,
    check_outcome,
    manual_check_retry_after,
    sending_allowed,
)
from mailport.core.events import DomainStateChanged, EventPayload
from mailport.core.jobs import Done, JobResult
from mailport.core.returnpath import verp_address
from mailport.errors import ConfigurationError, Conflict, RemoteError, TryLater, ValidationError
from mailport.i18n import gettext
from mailport.ids import new_id
from mailport.services.secretstore import SecretStore
from mailport.settings import Settings

log = logging.getLogger(__name__)

__all__ = [
    "DOMAIN_CHECK_JOB",
    "CheckRateLimited",
    "CheckReport",
    "DomainNotSendable",
    "DomainNotVerified",
    "DomainSending",
    "DomainService",
    "DomainView",
    "EventRecorder",
    "explain_verdict",
]

DOMAIN_CHECK_JOB = "domain_check"
OWNER_KIND = "domain"
KEY_NAME = "dkim_private_key"
Fallback = Literal["refuse", "platform"]


class EventRecorder(Protocol):
    """What this service needs of :class:`mailport.services.webhooks.EventLog`."""

    def record(self, s: Session, *, tenant_id: str, payload: EventPayload, now: datetime) -> Any: ...


class CheckRateLimited(TryLater):
    """The domain was checked a moment ago; try again shortly."""

    code = "domain.check_rate_limited"


class DomainNotSendable(Conflict):
    """Mail from this domain is stopped until its DNS records pass again (``state`` says why)."""

    code = "domain.not_active"

    def __init__(self, message: str, *, domain: str, state: str) -> None:
        super().__init__(message, current=state)
        self.domain = domain
        self.state = state


class DomainNotVerified(ValidationError):
    """The domain has not passed its DNS check (``state``), so it cannot be chosen yet."""

    code = "domain.not_verified"

    def __init__(self, message: str, *, field: str | None = None, domain: str, state: str) -> None:
        super().__init__(message, field=field)
        self.domain = domain
        self.state = state


def explain_verdict(verdict: RecordVerdict, lang: str) -> dict[str, str]:
    """Title and fix of a verdict in ``lang`` (``mailport`` gettext domain)."""
    title, fix = TEXTS[verdict.code]
    params = dict(verdict.params)
    return {
        "title": gettext(lang, title).format(**params),
        "fix": gettext(lang, fix).format(**params),
    }


@dataclass(frozen=True, slots=True)
class DomainView:
    id: str
    name: str
    unicode_name: str
    selector: str
    state: str
    fallback: str
    state_since: datetime
    degraded_since: datetime | None
    last_checked_at: datetime | None
    next_check_at: datetime | None
    records: tuple[RequiredRecord, ...]
    last_check: dict[str, Any] | None
    created_at: datetime

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        last = None
        if self.last_check:
            verdicts = [_verdict_from_dict(v) for v in self.last_check.get("verdicts", [])]
            last = {**self.last_check, "verdicts": [_verdict_out(v, lang) for v in verdicts]}
        return {
            "id": self.id, "name": self.name, "unicode_name": self.unicode_name,
            "selector": self.selector, "state": self.state, "fallback": self.fallback,
            "sending": sending_allowed(DomainState(self.state)),
            "state_since": iso(self.state_since), "degraded_since": iso(self.degraded_since),
            "last_checked_at": iso(self.last_checked_at), "next_check_at": iso(self.next_check_at),
            "records": [r.to_dict() for r in self.records],
            "last_check": last, "created_at": iso(self.created_at),
        }


@dataclass(frozen=True, slots=True)
class CheckReport:
    """One check: verdict per record, the outcome, and the state before and after."""

    domain: DomainView
    verdicts: tuple[RecordVerdict, ...]
    outcome: CheckOutcome
    previous: str
    source: str  # authoritative | resolver

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "domain": self.domain.to_dict(lang),
            "outcome": self.outcome.value,
            "previous_state": self.previous,
            "state": self.domain.state,
            "source": self.source,
            "verdicts": [_verdict_out(v, lang) for v in self.verdicts],
        }


def _verdict_out(verdict: RecordVerdict, lang: str) -> dict[str, Any]:
    return {**verdict.to_dict(), **explain_verdict(verdict, lang)}


def _verdict_from_dict(data: dict[str, Any]) -> RecordVerdict:
    from mailport.core.dnsauth import Status

    return RecordVerdict(
        kind=RecordKind(data["kind"]), name=data["name"], status=Status(data["status"]), code=data["code"],
        required=bool(data.get("required", True)), found=tuple(data.get("found", ())),
        params=data.get("params", {}),
    )


@dataclass(frozen=True, slots=True)
class DomainSending:
    """How to send from an address of an active (or in-grace) own domain."""

    domain_id: str
    domain: str
    signer: DkimSigner
    return_path_host: str

    def envelope_from(self, token: str) -> str:
        """The VERP envelope sender for the message ``token`` (its id)."""
        return verp_address(token=token, host=self.return_path_host)


class DomainService:
    def __init__(
        self,
        *,
        db: Database,
        secrets: SecretStore,
        resolver: DnsResolver,
        queue: JobQueue,
        clock: Clock,
        settings: Settings,
        events: EventRecorder | None = None,
        keygen: Callable[[], Any] = generate_key,
    ) -> None:
        self.db = db
        self.secrets = secrets
        self.resolver = resolver
        self.queue = queue
        self.clock = clock
        self.settings = settings
        self.events = events
        self._keygen = keygen

    # -- configuration ---------------------------------------------------------------------

    @property
    def bounce_host(self) -> str:
        host = self.settings.platform_bounce_host or (
            f"bounces.{self.settings.platform_domain}" if self.settings.platform_domain else ""
        )
        if not host:
            raise ConfigurationError(
                "own domains need MAILPORT_PLATFORM_BOUNCE_HOST (or MAILPORT_PLATFORM_DOMAIN) for the return path",
                code="config.platform_missing",
            )
        return normalize_domain(host, field_name="MAILPORT_PLATFORM_BOUNCE_HOST")

    def _records(self, row: Domain, public_key: str) -> tuple[RequiredRecord, ...]:
        # The SPF the last check found (one record only): the suggestion merges with it.
        spf = next((v for v in (row.last_check or {}).get("verdicts", []) if v.get("kind") == "spf"), None)
        found = list(spf.get("found", ())) if spf else []
        return required_records(
            domain=row.name, selector=row.selector, public_key_der_b64=public_key,
            return_path_prefix=row.return_path_prefix, bounce_host=self.bounce_host,
            existing_spf=found[0] if len(found) == 1 else None,
        )

    def _view(self, s: Session, row: Domain) -> DomainView:
        key = self.secrets.get(s, tenant_id=row.tenant_id, owner_kind=OWNER_KIND, owner_id=row.id, name=KEY_NAME)
        if key is None:
            raise ConfigurationError("the DKIM key of this domain is missing", code="domain.key_missing")
        return DomainView(
            id=row.id, name=row.name, unicode_name=row.unicode_name, selector=row.selector, state=row.state,
            fallback=row.fallback, state_since=row.state_since, degraded_since=row.degraded_since,
            last_checked_at=row.last_checked_at, next_check_at=row.next_check_at,
            records=self._records(row, public_key_b64(key.reveal())), last_check=row.last_check,
            created_at=row.created_at,
        )

    @staticmethod
    def _row(s: Session, tenant_id: str, domain_id: str) -> Domain:
        return DomainRepository(s).get(tenant_id=tenant_id, domain_id=domain_id)

    # -- use cases -------------------------------------------------------------------------

    async def add(self, tenant_id: str, name: str, *, fallback: Fallback = "refuse") -> DomainView:
        """Register ``name``: a fresh RSA-2048 key (encrypted at rest), a selector, pending state.
        Errors name the request's field, ``name``."""
        ascii_name = normalize_domain(name, field_name="name")
        _check_fallback(fallback)
        platform = self.settings.platform_domain.strip().lower()
        if platform and (ascii_name == platform or ascii_name.endswith("." + platform)):
            raise ValidationError("the platform's own domain cannot be added as a tenant domain", field="name")
        _ = self.bounce_host  # refuse early when the operator has not configured the return path
        key = await asyncio.to_thread(self._keygen)  # RSA generation takes a few hundred ms
        return await asyncio.to_thread(self._insert, tenant_id, ascii_name, name, fallback, key)

    def _insert(self, tenant_id: str, ascii_name: str, given: str, fallback: str, key: Any) -> DomainView:
        now = self.clock.now()
        try:
            unicode_name = idna.decode(ascii_name)
        except idna.IDNAError:
            unicode_name = ascii_name
        with self.db.session() as s:
            domains = DomainRepository(s)
            if domains.find_by_name(tenant_id=tenant_id, name=ascii_name) is not None:
                raise Conflict(f"{unicode_name} is already added", code="domain.exists", field="name")
            row = Domain(
                id=new_id("dom"), tenant_id=tenant_id, name=ascii_name, unicode_name=unicode_name,
                selector=f"{self.settings.dkim_selector_prefix}-{random.token_hex(4)}",
                return_path_prefix=self.settings.return_path_prefix, state=DomainState.PENDING.value,
                fallback=fallback, state_since=now, degraded_since=None, last_checked_at=None,
                last_manual_check_at=None, next_check_at=now + timedelta(minutes=5), last_check=None,
                created_at=now, updated_at=now,
            )
            domains.add(row)
            self.secrets.put(s, tenant_id=tenant_id, owner_kind=OWNER_KIND, owner_id=row.id, name=KEY_NAME,
                             value=key.private_pem)
            self._schedule(s, row, now)
            return self._view(s, row)

    def list_domains(self, tenant_id: str) -> list[DomainView]:
        with self.db.session() as s:
            rows = DomainRepository(s).of_tenant(tenant_id=tenant_id)
            return [self._view(s, row) for row in rows]

    def get(self, tenant_id: str, domain_id: str) -> DomainView:
        with self.db.session() as s:
            return self._view(s, self._row(s, tenant_id, domain_id))

    def find(self, tenant_id: str, name: str) -> DomainView | None:
        ascii_name = normalize_domain(name)
        with self.db.session() as s:
            row = DomainRepository(s).find_by_name(tenant_id=tenant_id, name=ascii_name)
            return None if row is None else self._view(s, row)

    def set_fallback(self, tenant_id: str, domain_id: str, fallback: Fallback) -> DomainView:
        _check_fallback(fallback)
        with self.db.session() as s:
            row = self._row(s, tenant_id, domain_id)
            row.fallback = fallback
            row.updated_at = self.clock.now()
            return self._view(s, row)

    def remove(self, tenant_id: str, domain_id: str) -> None:
        with self.db.session() as s:
            row = self._row(s, tenant_id, domain_id)
            self.secrets.delete_owner(s, tenant_id=tenant_id, owner_kind=OWNER_KIND, owner_id=row.id)
            tenant = s.get(Tenant, tenant_id)
            if (tenant is not None and tenant.default_method == "domain" and tenant.default_from
                    and tenant.default_from.rpartition("@")[2] in (row.name, row.unicode_name)):
                # The business's default domain is gone: no default rather than a dangling one.
                tenant.default_method = tenant.default_from = None
            DomainRepository(s).delete(row)

    async def check(self, tenant_id: str, domain_id: str, *, manual: bool = True) -> CheckReport:
        """Look the records up now, judge them and move the state ("check and activate")."""
        now = self.clock.now()
        view = await asyncio.to_thread(self._claim_manual if manual else self.get, tenant_id, domain_id)
        verdicts, source = await self._lookup(view)
        return await asyncio.to_thread(self._apply, tenant_id, domain_id, verdicts, source, now)

    def _claim_manual(self, tenant_id: str, domain_id: str) -> DomainView:
        """Rate-limit on-demand checks per domain (each one costs several DNS queries)."""
        now = self.clock.now()
        with self.db.session() as s:
            row = self._row(s, tenant_id, domain_id)
            wait = manual_check_retry_after(
                row.last_manual_check_at, now=now,
                min_interval=timedelta(seconds=self.settings.domain_check_min_interval),
            )
            if wait is not None:
                seconds = math.ceil(wait)
                raise CheckRateLimited(
                    f"this domain was checked a moment ago; try again in {seconds} s", retry_after=seconds
                )
            row.last_manual_check_at = now
            return self._view(s, row)

    def _apply(
        self, tenant_id: str, domain_id: str, verdicts: tuple[RecordVerdict, ...], source: str, now: datetime
    ) -> CheckReport:
        outcome = check_outcome(verdicts)
        with self.db.session() as s:
            row = self._row(s, tenant_id, domain_id)
            previous = row.state
            transition = after_check(
                state=DomainState(row.state), state_since=row.state_since, created_at=row.created_at,
                degraded_since=row.degraded_since, outcome=outcome, now=now,
            )
            self._store(s, row, transition, verdicts, outcome, source, now)
            return CheckReport(domain=self._view(s, row), verdicts=verdicts, outcome=outcome,
                               previous=previous, source=source)

    def _store(
        self, s: Session, row: Domain, transition: Transition, verdicts: Sequence[RecordVerdict],
        outcome: CheckOutcome, source: str, now: datetime,
    ) -> None:
        row.state = transition.state.value
        row.state_since = transition.state_since
        row.degraded_since = transition.degraded_since
        row.next_check_at = transition.next_check_at
        row.last_checked_at = now
        row.updated_at = now
        row.last_check = {
            "at": now.isoformat(), "outcome": outcome.value, "source": source,
            "verdicts": [v.to_dict() for v in verdicts],
        }
        if transition.changed:
            log.info("domain %s: %s -> %s", row.name, transition.previous.value, transition.state.value)
            if self.events is not None:
                failing = [v.kind.value for v in verdicts if v.required and not v.ok]
                self.events.record(s, tenant_id=row.tenant_id, now=now, payload=DomainStateChanged(
                    domain_id=row.id, domain=row.name, previous=transition.previous.value,
                    state=transition.state.value, failing_records=failing,
                ))
        self._schedule(s, row, now)

    def _schedule(self, s: Session, row: Domain, now: datetime) -> None:
        if row.next_check_at is None:
            return
        self.queue.enqueue(
            kind=DOMAIN_CHECK_JOB, payload={"domain_id": row.id, "due": row.next_check_at.isoformat()},
            now=now, run_at=row.next_check_at, tenant_id=row.tenant_id,
            dedupe_key=f"{row.id}:{row.next_check_at.isoformat()}", session=s,
        )

    async def handle_check_job(self, job: ClaimedJob) -> JobResult:
        """The scheduled re-check; a job whose moment was superseded (a manual check moved the
        schedule) does nothing, so re-checks never pile up."""
        domain_id = str(job.payload.get("domain_id", ""))
        due = str(job.payload.get("due", ""))
        with self.db.session() as s:
            row = DomainRepository(s).find(domain_id)
            if row is None or row.next_check_at is None or row.next_check_at.isoformat() != due:
                return Done()
            tenant_id = row.tenant_id
        await self.check(tenant_id, domain_id, manual=False)
        return Done()

    # -- sending ---------------------------------------------------------------------------

    def sending_for(self, tenant_id: str, from_email_domain: str) -> DomainSending | Fallback:
        """How mail From ``…@from_email_domain`` may go out.

        A :class:`DomainSending` (sign as the domain) when it is active or within its grace
        period; ``"platform"`` when it is not and the tenant chose to fall back; otherwise
        :class:`DomainNotSendable` — never a signature with a ``d=`` whose key DNS does not show.
        """
        ascii_name = normalize_domain(from_email_domain, field_name="from")
        with self.db.session() as s:
            row = DomainRepository(s).find_by_name(tenant_id=tenant_id, name=ascii_name)
            if row is None:
                raise ValidationError(f"{from_email_domain} is not one of this tenant's domains; add it first",
                                      code="domain.unknown", field="from")
            if not sending_allowed(DomainState(row.state)):
                if row.fallback == "platform":
                    return "platform"
                raise DomainNotSendable(
                    f"mail from {row.unicode_name} is stopped: the domain is {row.state}; "
                    "fix its DNS records and check again",
                    domain=row.name, state=row.state,
                )
            key = self.secrets.get(s, tenant_id=tenant_id, owner_kind=OWNER_KIND, owner_id=row.id, name=KEY_NAME)
            if key is None:
                raise ConfigurationError("the DKIM key of this domain is missing", code="domain.key_missing")
            return DomainSending(
                domain_id=row.id, domain=row.name,
                signer=DkimSigner(domain=row.name, selector=row.selector, private_pem=key.reveal()),
                return_path_host=f"{row.return_path_prefix}.{row.name}",
            )

    # -- DNS -------------------------------------------------------------------------------

    async def _lookup(self, view: DomainView) -> tuple[tuple[RecordVerdict, ...], str]:
        lookup = DomainDns(resolver=self.resolver, settings=self.settings)
        answers, source = await lookup.answers(view.name, view.records)
        return evaluate(view.name, view.records, answers), source


class DomainDns:
    """The lookups of one check: authoritative servers first, uncached resolvers as fallback."""

    def __init__(self, *, resolver: DnsResolver, settings: Settings) -> None:
        self.recursive = resolver.uncached()
        self.settings = settings
        self.authoritative: DnsResolver | None = None
        self.authoritative_answered = False

    async def answers(self, domain: str, records: Sequence[RequiredRecord]) -> tuple[DomainAnswers, str]:
        self.authoritative = await self._authoritative(domain)
        by_kind = {r.kind: r for r in records}
        dkim, return_path, dmarc, apex = await asyncio.gather(
            self._ask("TXT", by_kind[RecordKind.DKIM].name),
            self._ask("CNAME", by_kind[RecordKind.RETURN_PATH].name),
            self._ask("TXT", by_kind[RecordKind.DMARC].name),
            self._ask("TXT", domain),
        )
        organizational = registrable_domain(domain)
        org_dmarc: Answer | None = None
        if organizational and organizational != domain and dmarc == ():
            org_dmarc = await self._ask("TXT", f"_dmarc.{organizational}", authoritative=False)
        spf: dict[tuple[str, str], Answer] = {}
        for _round in range(6):  # include depth; spf_queries also caps the total
            wanted = spf_queries(domain, apex, spf)
            if not wanted:
                break
            results = await asyncio.gather(*(self._ask(rtype, name, authoritative=False) for rtype, name in wanted))
            spf.update(zip(wanted, results, strict=True))
        source = "authoritative" if self.authoritative_answered else "resolver"
        return DomainAnswers(
            dkim=dkim, return_path=return_path, dmarc=dmarc, apex_txt=apex, spf=spf,
            organizational_dmarc=org_dmarc, organizational_domain=organizational,
        ), source

    async def _ask(self, rtype: str, name: str, *, authoritative: bool = True) -> Answer:
        if authoritative and self.authoritative is not None:
            try:
                rows = await _query(self.authoritative, rtype, name)
            except RemoteError:
                rows = ()
            else:
                self.authoritative_answered = True
            if rows:
                return rows
        try:
            return await _query(self.recursive, rtype, name)
        except RemoteError as exc:
            return LookupFailed(exc.code)

    async def _authoritative(self, domain: str) -> DnsResolver | None:
        """A resolver aimed at the zone's name servers, or ``None`` when they cannot be used."""
        labels = domain.split(".")
        for start in range(len(labels) - 1):
            zone = ".".join(labels[start:])
            try:
                hosts = await self.recursive.ns(zone)
            except RemoteError:
                return None
            if hosts:
                break
        else:
            return None
        addresses: list[str] = []
        for host in hosts[:4]:
            try:
                found = await self.recursive.resolve_addresses(host)
            except RemoteError:
                continue
            for ip in found:
                try:
                    netpolicy.check_addresses([ip], allow_private=self.settings.private_hosts)
                except RemoteError:
                    continue  # a name server inside a private network is not ours to query
                addresses.append(ip)
        if not addresses:
            return None
        port = self.settings.dns_authoritative_port
        servers = [f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}" for ip in addresses[:4]]
        return self.recursive.uncached(nameservers=servers)


async def _query(resolver: DnsResolver, rtype: str, name: str) -> tuple[str, ...]:
    ask: dict[str, Callable[[str], Awaitable[Any]]] = {
        "TXT": resolver.txt, "A": resolver.resolve_addresses, "MX": resolver.mx, "CNAME": resolver.cname,
    }
    if rtype == "A":
        try:
            return tuple(await resolver.resolve_addresses(name))
        except RemoteError as exc:
            if exc.code == "net.host_not_found":
                return ()
            raise
    result = await ask[rtype](name)
    if result is None:
        return ()
    if isinstance(result, list):
        return tuple(str(getattr(r, "host", r)) for r in result)
    return (str(result),)


def _check_fallback(value: str) -> None:
    if value not in ("refuse", "platform"):
        raise ValidationError("fallback must be 'refuse' or 'platform'", field="fallback")
