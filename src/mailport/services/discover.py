"""Discover server settings for an email address: run the lookups, bounded, and let the core rank.

Order (GUIDE §3, Thunderbird's): the catalog answers for known address domains — checked, within
``crosscheck_timeout``, against what the provider itself publishes (its autoconfig, the ISPDB):
a disagreement is reported in the trace and the published server wins; else,
in parallel and each within its own timeout, the domain's autoconfig URLs (HTTPS; plain HTTP only
as an untrusted fallback), the ISPDB, MX (catalog MX patterns, else the ISPDB for the MX host's
domain) and SRV. As soon as no pending lookup could beat the best answer so far, the rest are
cancelled. Only when nothing was found are the usual host names probed (switchable off). The
whole run never exceeds ``settings.discovery_deadline``, whatever stage is running: every stage
is bounded by it, and one outer timeout guards them all (a stage added later included); the
trace says what each source did.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from mailport.core import providers
from mailport.core.addresses import Address, parse_address
from mailport.core.autoconfig import ClientConfig, parse_config
from mailport.core.discovery import (
    DEFAULT_PROBE_PORTS,
    ORIGIN_TIERS,
    SRV_SERVICES,
    Candidate,
    DiscoveryResult,
    Kind,
    ProbeTarget,
    SrvRecord,
    TraceEntry,
    autoconfig_urls,
    best_tier,
    candidate_from_config,
    candidate_from_probes,
    candidate_from_provider,
    candidate_from_srv,
    crosscheck,
    decide,
    lowest_mx,
    mx_ispdb_domains,
    probe_plan,
)
from mailport.core.providers import Security
from mailport.errors import HostNotAllowed, MailportError, NetworkError, RemoteTimeout

if TYPE_CHECKING:
    from mailport.adapters.dns import Resolver
    from mailport.adapters.http import HttpResponse
    from mailport.adapters.probe import ProbeOutcome
    from mailport.settings import Settings

__all__ = ["DiscoveryService", "discover"]

SOURCE_TIMEOUT = 4.0
PROBE_TIMEOUT = 5.0
PROBE_CAP = 15.0
PROBE_CONCURRENCY = 6
CROSSCHECK_TIMEOUT = 1.5
_GRACE = 0.05
# The published sources a catalog entry is checked against, most authoritative first.
_PUBLISHED = ("autoconfig", "autoconfig.well_known", "ispdb")


class Fetcher(Protocol):
    async def get(self, url: str, *, timeout: float) -> HttpResponse: ...


class ProbeRunner(Protocol):
    async def probe(self, target: ProbeTarget, *, timeout: float) -> ProbeOutcome: ...


@dataclass(slots=True)
class _Answer:
    """What one lookup task produced: trace entries and at most one candidate."""

    candidate: Candidate | None = None
    trace: list[TraceEntry] = field(default_factory=list)
    closed: providers.Provider | None = None  # the MX belongs to a provider without IMAP/SMTP
    config: ClientConfig | None = None  # the parsed document, for autoconfig/ISPDB answers


class DiscoveryService:
    """The discovery use case; adapters come in through the constructor."""

    def __init__(
        self,
        *,
        resolver: Resolver,
        fetcher: Fetcher,
        prober: ProbeRunner | None,
        ispdb_url: str,
        deadline: float,
        https_port: int = 443,
        http_port: int = 80,
        source_timeout: float = SOURCE_TIMEOUT,
        probe_timeout: float = PROBE_TIMEOUT,
        probe_ports: Mapping[tuple[Kind, Security], int] = DEFAULT_PROBE_PORTS,
        crosscheck_timeout: float = CROSSCHECK_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._resolver = resolver
        self._fetcher = fetcher
        self._prober = prober
        self._ispdb_url = ispdb_url if ispdb_url.endswith("/") else ispdb_url + "/"
        self._deadline = deadline
        self._https_port = https_port
        self._http_port = http_port
        self._source_timeout = source_timeout
        self._probe_timeout = probe_timeout
        self._probe_ports = probe_ports
        self._crosscheck_timeout = crosscheck_timeout
        self._clock = clock

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        resolver: Resolver | None = None,
        probe_ports: Mapping[tuple[Kind, Security], int] = DEFAULT_PROBE_PORTS,
    ) -> DiscoveryService:
        """Wire the real adapters; pass the process's shared ``resolver`` to share its cache.

        ``probe_ports`` replaces the standard ports (993/143/465/587) — for tests and benches."""
        from mailport.adapters.dns import DnsResolver
        from mailport.adapters.http import HttpFetcher
        from mailport.adapters.probe import Prober

        resolver = resolver or DnsResolver.from_settings(settings)
        return cls(
            resolver=resolver,
            fetcher=HttpFetcher.from_settings(settings, resolver=resolver),
            prober=Prober.from_settings(settings, resolver=resolver) if settings.discovery_probe else None,
            ispdb_url=settings.ispdb_url,
            deadline=settings.discovery_deadline,
            https_port=settings.autoconfig_https_port,
            http_port=settings.autoconfig_http_port,
            probe_ports=probe_ports,
            crosscheck_timeout=settings.discovery_crosscheck_timeout,
        )

    async def discover(self, email: str, *, probe: bool = True) -> DiscoveryResult:
        """Settings for ``email``; raises :class:`~mailport.errors.AddressError` for bad input.

        Never raises for lookup failures: those are in the result's trace. A likely typo of a
        catalogued domain (``gmial.com``) and a domain that does not exist are said as hints.
        """
        started = self._clock()
        result = await self._discover(email, probe=probe)
        domain = parse_address(email).ascii_domain
        suggestion = providers.suggest_domain(domain)
        # The existence check is part of the lookup: it gets what is left of the same deadline.
        left = self._deadline - (self._clock() - started)
        exists = None if result.found else await self._domain_exists(domain, timeout=left)
        if suggestion is None and exists is not False:
            return result
        return result.with_typo_check(suggestion=suggestion, domain_exists=exists)

    async def _domain_exists(self, domain: str, *, timeout: float) -> bool | None:
        # Only the real resolver can tell NXDOMAIN from "no MX"; injected fakes need not.
        check = getattr(self._resolver, "domain_exists", None)
        if check is None or timeout <= 0:
            return None
        try:
            async with asyncio.timeout(timeout):
                return bool(await check(domain))
        except (MailportError, TimeoutError):
            return None  # DNS trouble (or no time left) is no proof that the domain is missing

    async def _discover(self, email: str, *, probe: bool) -> DiscoveryResult:
        address = parse_address(email)
        started = self._clock()
        until = started + self._deadline
        trace: list[TraceEntry] = []

        provider = providers.find_by_domain(address.ascii_domain)
        if provider is not None:
            trace.append(TraceEntry("catalog", "found", 0, provider.id))
            if provider.closed:
                return decide(address, [], trace=trace, closed=provider)
            catalog = candidate_from_provider(provider, address, origin="catalog")
            if catalog.usable:
                if self._crosscheck_timeout > 0:
                    catalog = await self._crosscheck(catalog, address, until=until, trace=trace)
                return decide(address, [catalog], trace=trace)
        else:
            trace.append(TraceEntry("catalog", "not_found", 0))

        candidates: list[Candidate] = []
        closed: list[providers.Provider] = []
        try:
            # The stages bound themselves and report their own timeouts; this outer bound, a
            # moment later, holds whatever any of them (or a stage added later) does.
            async with asyncio.timeout(max(0.0, until - self._clock()) + _GRACE):
                await self._search(address, probe=probe, until=until, trace=trace,
                                   candidates=candidates, closed=closed)
        except TimeoutError:
            trace.append(TraceEntry("deadline", "timeout", self._ms(started)))
        trace.sort(key=lambda t: ORIGIN_TIERS.get(t.source, 99))
        if closed and best_tier(candidates) is None:
            return decide(address, [], trace=trace, closed=closed[0], closed_source="mx")
        return decide(address, candidates, trace=trace)

    async def _search(
        self, address: Address, *, probe: bool, until: float, trace: list[TraceEntry],
        candidates: list[Candidate], closed: list[providers.Provider],
    ) -> None:
        await self._lookups(address, until=until, trace=trace, candidates=candidates, closed=closed)
        if closed or best_tier(candidates) is not None:
            return
        if probe and self._prober is not None:
            found = await self._probes(address, until=until, trace=trace)
            if found is not None:
                candidates.append(found)
        else:
            trace.append(TraceEntry("probe", "skipped", 0))

    # --- the catalog checked against the provider's published configuration -------------------

    async def _crosscheck(
        self, catalog: Candidate, address: Address, *, until: float, trace: list[TraceEntry]
    ) -> Candidate:
        urls = autoconfig_urls(address, https_port=self._https_port, http_port=self._http_port)
        urls["ispdb"] = self._ispdb_url + address.ascii_domain
        budget = max(0.0, min(self._crosscheck_timeout, until - self._clock()))
        began = self._clock()
        tasks = {origin: asyncio.create_task(self._config(origin, urls[origin], address))
                 for origin in _PUBLISHED}
        done, pending = await asyncio.wait(tasks.values(), timeout=budget)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        for origin, task in tasks.items():
            if task in done:
                trace.extend(task.result().trace)
            else:
                trace.append(TraceEntry(origin, "timeout", self._ms(began)))
        for origin, task in tasks.items():  # the most authoritative published document decides
            answer = task.result() if task in done else None
            if answer is None or answer.config is None or answer.candidate is None:
                continue
            corrected, differences = crosscheck(catalog, answer.config, address, origin=origin)
            trace.append(TraceEntry("catalog", "disagrees" if differences else "confirmed",
                                    self._ms(began), "; ".join(differences) or origin))
            return corrected
        return catalog

    # --- the parallel lookups -----------------------------------------------------------------

    async def _lookups(
        self, address: Address, *, until: float, trace: list[TraceEntry],
        candidates: list[Candidate], closed: list[providers.Provider],
    ) -> None:
        urls = autoconfig_urls(address, https_port=self._https_port, http_port=self._http_port)
        jobs: dict[str, Callable[[], Awaitable[_Answer]]] = {
            "autoconfig": lambda: self._config("autoconfig", urls["autoconfig"], address),
            "autoconfig.well_known": lambda: self._config(
                "autoconfig.well_known", urls["autoconfig.well_known"], address
            ),
            "ispdb": lambda: self._config("ispdb", self._ispdb_url + address.ascii_domain, address),
            "mx": lambda: self._mx(address, until=until),
            "srv": lambda: self._srv(address),
            "autoconfig.http": lambda: self._config("autoconfig.http", urls["autoconfig.http"], address),
        }
        began = self._clock()
        tasks = {
            asyncio.create_task(self._bounded(origin, job, until=until)): origin
            for origin, job in jobs.items()
        }
        pending = set(tasks)
        try:
            while pending:
                remaining = until - self._clock()
                if remaining <= 0:
                    break
                done, pending = await asyncio.wait(
                    pending, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done:
                    answer = task.result()
                    trace.extend(answer.trace)
                    if answer.candidate is not None:
                        candidates.append(answer.candidate)
                    if answer.closed is not None and not closed:
                        closed.append(answer.closed)
                best = best_tier(candidates)
                # Stop once nothing still running could rank above what we have.
                if best is not None and all(ORIGIN_TIERS[tasks[t]] > best for t in pending):
                    for task in pending:
                        task.cancel()
                        trace.append(TraceEntry(tasks[task], "cancelled", self._ms(began)))
                    pending = set()
        finally:
            for task in pending:
                task.cancel()
                trace.append(TraceEntry(tasks[task], "timeout", self._ms(began)))
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    async def _bounded(
        self, origin: str, job: Callable[[], Awaitable[_Answer]], *, until: float
    ) -> _Answer:
        began = self._clock()
        timeout = max(0.0, min(self._source_timeout, until - began))
        # The MX step may chain two ISPDB fetches after the MX lookup: give it the overall budget.
        if origin == "mx":
            timeout = max(0.0, until - began)
        try:
            return await asyncio.wait_for(job(), timeout)
        except TimeoutError:
            return _Answer(trace=[TraceEntry(origin, "timeout", self._ms(began))])

    async def _config(self, origin: str, url: str, address: Address) -> _Answer:
        began = self._clock()
        try:
            response = await self._fetcher.get(url, timeout=self._source_timeout)
        except MailportError as exc:
            return _Answer(trace=[TraceEntry(origin, _outcome(exc), self._ms(began), exc.code)])
        if response.status != 200:
            outcome = "not_found" if response.status in (404, 410) else "failed"
            return _Answer(trace=[TraceEntry(origin, outcome, self._ms(began), f"http {response.status}")])
        try:
            config = parse_config(response.body)
        except MailportError as exc:
            return _Answer(trace=[TraceEntry(origin, "invalid", self._ms(began), exc.code)])
        candidate = candidate_from_config(config, address, origin=origin)
        outcome = "found" if candidate is not None else "invalid"
        return _Answer(candidate, [TraceEntry(origin, outcome, self._ms(began))], config=config)

    async def _mx(self, address: Address, *, until: float) -> _Answer:
        began = self._clock()
        try:
            records = await self._resolver.mx(address.ascii_domain)
        except MailportError as exc:
            return _Answer(trace=[TraceEntry("mx", _outcome(exc), self._ms(began), exc.code)])
        host = lowest_mx(records)
        if host is None:
            return _Answer(trace=[TraceEntry("mx", "not_found", self._ms(began))])
        provider = providers.find_by_mx(host)
        if provider is not None and provider.closed:
            # e.g. a custom domain hosted at Proton: explain, offer nothing.
            return _Answer(
                trace=[TraceEntry("mx", "found", self._ms(began), f"{host} ({provider.id})")],
                closed=provider,
            )
        if provider is not None and (provider.imap or provider.smtp):
            candidate = candidate_from_provider(provider, address, origin="mx")
            return _Answer(candidate, [TraceEntry("mx", "found", self._ms(began), f"{host} ({provider.id})")])
        trace = [TraceEntry("mx", "found", self._ms(began), host)]
        # The MX host's domain in the ISPDB: most specific name first, all fetched at once.
        domains = mx_ispdb_domains(host)
        ispdb_began = self._clock()
        timeout = max(0.0, min(self._source_timeout, until - ispdb_began))
        answers = await asyncio.gather(
            *(
                self._config("mx.ispdb", self._ispdb_url + domain, address)
                for domain in domains
                if domain != address.ascii_domain  # the ISPDB source already asked for that one
            ),
            return_exceptions=False,
        ) if domains and timeout > 0 else []
        for answer in answers:
            if answer.candidate is not None:
                trace.append(TraceEntry("mx.ispdb", "found", self._ms(ispdb_began)))
                return _Answer(answer.candidate, trace)
        trace.append(TraceEntry("mx.ispdb", "not_found", self._ms(ispdb_began)))
        return _Answer(trace=trace)

    async def _srv(self, address: Address) -> _Answer:
        began = self._clock()
        services = list(SRV_SERVICES)
        results = await asyncio.gather(
            *(self._resolver.srv(f"{service}.{address.ascii_domain}") for service in services),
            return_exceptions=True,
        )
        answers: dict[str, list[SrvRecord]] = {}
        errors: list[MailportError] = []
        for service, result in zip(services, results, strict=True):
            if isinstance(result, MailportError):
                errors.append(result)
            elif isinstance(result, BaseException):
                raise result
            else:
                answers[service] = result
        candidate = candidate_from_srv(answers, address)
        if candidate is not None:
            return _Answer(candidate, [TraceEntry("srv", "found", self._ms(began))])
        if errors:
            return _Answer(trace=[TraceEntry("srv", _outcome(errors[0]), self._ms(began), errors[0].code)])
        return _Answer(trace=[TraceEntry("srv", "not_found", self._ms(began))])

    # --- probing ------------------------------------------------------------------------------

    async def _probes(self, address: Address, *, until: float, trace: list[TraceEntry]) -> Candidate | None:
        assert self._prober is not None
        prober = self._prober
        began = self._clock()
        budget = min(PROBE_CAP, until - began)
        if budget <= 0:
            trace.append(TraceEntry("probe", "timeout", 0))
            return None
        plan = probe_plan(address, ports=self._probe_ports)
        gate = asyncio.Semaphore(PROBE_CONCURRENCY)

        async def one(target: ProbeTarget) -> ProbeTarget | None:
            """``target`` if a verified server of the right protocol answered there."""
            async with gate:
                left = min(self._probe_timeout, until - self._clock())
                if left <= 0:
                    return None
                outcome = await prober.probe(target, timeout=left)
                return target if outcome.ok else None

        try:
            results = await asyncio.wait_for(asyncio.gather(*(one(t) for t in plan)), budget)
        except TimeoutError:
            trace.append(TraceEntry("probe", "timeout", self._ms(began)))
            return None
        answered = [t for t in results if t is not None]
        candidate = candidate_from_probes(answered, address)
        if candidate is None:
            trace.append(TraceEntry("probe", "not_found", self._ms(began)))
            return None
        detail = ", ".join(f"{t.host}:{t.port}" for t in (candidate.imap, candidate.smtp) if t)
        trace.append(TraceEntry("probe", "found", self._ms(began), detail))
        return candidate

    def _ms(self, began: float) -> int:
        return max(0, round((self._clock() - began) * 1000))


def _outcome(exc: MailportError) -> str:
    if isinstance(exc, HostNotAllowed) and exc.code == "net.host_not_allowed":
        return "refused"
    if isinstance(exc, RemoteTimeout):
        return "timeout"
    if isinstance(exc, NetworkError) and exc.code == "net.host_not_found":
        return "not_found"
    return "failed"


async def discover(
    email: str, *, settings: Settings, probe: bool = True, resolver: Resolver | None = None
) -> DiscoveryResult:
    """Discover settings for ``email`` with adapters built from ``settings``.

    ``probe=False`` (CLI ``--no-probe``) skips probing; ``settings.discovery_probe`` off does too.
    """
    service = DiscoveryService.from_settings(settings, resolver=resolver)
    return await service.discover(email, probe=probe)
