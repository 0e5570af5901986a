"""Typed settings from ``MAILPORT_*`` environment variables.

Built once at the composition root by :func:`load_settings` — never at import time — and
validated there: production refuses to start with a missing secret or admin key, development
generates a secret key into the data directory once and warns about it.
"""

from __future__ import annotations

import logging
import os
import secrets
from base64 import urlsafe_b64encode
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from mailport.core.netpolicy import AllowPrivate, PrivateNetworks
from mailport.errors import ConfigurationError

log = logging.getLogger(__name__)



def installation_data_dir() -> Path:
    """Where an installation keeps its data when nobody says otherwise: ``var/`` of the source
    checkout mailport runs from (``make install`` is an editable install), else the user's data
    directory. Never the current directory: a command run from another folder must find the same
    database and keys, not silently start an empty one."""
    package = Path(__file__).resolve().parent
    checkout = package.parent.parent
    if package.parent.name == "src" and (checkout / "pyproject.toml").is_file():
        return checkout / "var"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mailport"


DEFAULT_DATA_DIR = installation_data_dir()


class Settings(BaseSettings):
    """Every setting of mailport; each is read from ``MAILPORT_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="MAILPORT_", extra="ignore", frozen=True)

    env: Literal["development", "production", "test"] = Field(
        "development", description="`production` refuses insecure defaults; `development` generates a local secret key."
    )
    host: str = Field("127.0.0.1", description="Address the HTTP server listens on.")
    port: int = Field(8400, ge=1, le=65535, description="Port the HTTP server listens on.")
    data_dir: Path = Field(
        DEFAULT_DATA_DIR, description="Directory for the SQLite database and the generated development key. Default: "
                                      "`var/` of the source checkout mailport is installed from, else "
                                      "`$XDG_DATA_HOME/mailport`; never the current directory."
    )
    database_url: str = Field(
        "", description="SQLAlchemy URL; empty means SQLite at `<data_dir>/mailport.db`. PostgreSQL: "
                        "`postgresql+psycopg://user@host/db`."
    )
    secret_key: str = Field(
        "", description="Key(s) encrypting secrets at rest: `id:base64key[,id:base64key…]`, the first one encrypts. "
                        "Required in production.", repr=False
    )
    admin_key: str = Field(
        "", description="Operator key for tenant management (`Authorization: Bearer …`). Required in production.",
        repr=False
    )
    public_url: str = Field(
        "", description="External base URL of this service (links in mails and OAuth redirects); default "
                        "`http://<host>:<port>`."
    )
    log_level: str = Field("INFO", description="Logging level.")
    log_format: Literal["auto", "json", "console"] = Field(
        "auto", description="`auto`: JSON in production, readable otherwise."
    )
    dns_nameservers: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated `ip[:port]` DNS servers used for every lookup; empty = the "
                                          "system's."
    )
    dns_timeout: float = Field(3.0, gt=0, description="Seconds per DNS query.")
    ispdb_url: str = Field(
        "https://autoconfig.thunderbird.net/v1.1/", description="Base URL of Thunderbird's ISPDB or your mirror; "
                                                                "operator configuration, so it may be on a private "
                                                                "address (the SSRF guard still covers every URL "
                                                                "derived from user input)."
    )
    discovery_deadline: float = Field(
        8.0, gt=0, description="Hard deadline in seconds for the whole discovery pipeline."
    )
    discovery_crosscheck_timeout: float = Field(
        1.5, ge=0, description="Seconds a catalog hit waits for the provider's published configuration "
        "(autoconfig, ISPDB) to check itself against; 0 answers from the catalog alone.")
    discovery_probe: bool = Field(True, description="Whether discovery may probe the usual host names and ports.")
    autoconfig_https_port: int = Field(
        443, description="Port for autoconfig HTTPS lookups (tests point it at a local server)."
    )
    autoconfig_http_port: int = Field(80, description="Port for autoconfig HTTP lookups (untrusted fallback).")
    ca_file: str = Field("", description="Extra PEM bundle of trusted certificate authorities, added to the system's.")
    allow_private_hosts: bool = Field(
        False, description="Allow tenant-supplied hosts on every loopback/private/link-local network and local names "
                           "(localhost, *.local, single-label), and http:// webhooks (a test lab only: on premises, "
                           "list your own networks in `MAILPORT_ALLOW_PRIVATE_NETWORKS` instead)."
    )
    allow_private_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated private networks tenants' mail servers and webhooks may be "
                                          "in (`10.1.2.0/24,192.168.5.20`), for an on-premises mail server; every "
                                          "other private, loopback and link-local address stays refused. Local names "
                                          "(`exchange.corp`) are then judged by the addresses they resolve to."
    )
    allow_insecure_auth: bool = Field(
        False, description="Allow password authentication over unencrypted connections (`security=none`)."
    )
    connect_timeout: float = Field(10.0, gt=0, description="Seconds to wait for a TCP connect, greeting or reply.")
    verify_roundtrip_timeout: float = Field(
        60.0, gt=0, description="Seconds verification waits for the test mail to arrive."
    )
    suppress_after_soft_bounces: int = Field(
        3, ge=0, le=100, description="Consecutive soft bounces (full mailbox, spam block, …) that put an "
        "address on the suppression list; 0: soft bounces never do (hard bounces always do).")
    max_message_bytes: int = Field(
        25 * 1024 * 1024, gt=0, description="Largest message (with attachments) accepted for sending."
    )
    worker_concurrency: int = Field(
        256, ge=1, description="Sends (and Sent copies, domain checks) one worker keeps in flight at once; they wait "
                               "on remote servers, not on the CPU."
    )
    worker_tenant_share: float = Field(
        0.25, gt=0, le=1, description="Share of a worker's capacity one tenant may hold while other tenants' work "
                                      "waits (1 = no fair share)."
    )
    retention_jobs_days: float = Field(
        30.0, ge=0, description="Days finished jobs and finished webhook deliveries are kept before they are pruned."
    )
    retention_bodies_days: float = Field(
        90.0, ge=0, description="Days the bodies (wire bytes) of finished messages are kept; the message, its "
                                "recipients and events stay."
    )
    retention_interval: float = Field(
        3600.0, ge=1, description="Seconds between two prunes (one worker of the installation does each)."
    )
    webhook_concurrency: int = Field(
        64, ge=1, description="Webhook deliveries one worker keeps in flight, apart from sending, so a slow receiver "
                              "never delays mail."
    )
    embedded_worker: bool = Field(True, description="Run the worker inside `mailport serve` (the SQLite default).")
    api_processes: int = Field(
        1, ge=1, le=64, description="API processes `mailport serve` runs on one listening socket (one core each: the "
                                    "accept path is Python, one GIL per process); the embedded worker still runs "
                                    "once. More than 1 pays on a box with a core to spare for the month-end batch run."
    )
    inbox_window_days: int = Field(
        90, ge=1, le=3650, description="Days of mail the first inbox sync of an account brings in."
    )
    inbox_max_accounts: int = Field(
        1000, ge=0, description="Accounts one worker keeps synced (IDLE connections); 0 turns inbox sync off in that "
                                "worker."
    )
    inbox_lease: float = Field(
        90.0, ge=3, description="Seconds a worker's hold on an account lasts without renewal; a dead worker's accounts "
                                "move to the others after this."
    )
    inbox_connect_concurrency: int = Field(
        50, ge=1, description="Accounts one worker connects (and syncs for the first time) at once."
    )
    inbox_connect_rate: float = Field(
        100.0, gt=0, description="New IMAP connections per second one worker opens to one server (reconnects after an "
                                 "outage are paced too)."
    )
    worker_lease: float = Field(
        60.0, ge=3, description="Seconds a worker's claim on a job lasts without renewal: how long the jobs of a "
                                "worker that vanished without a trace (a frozen or partitioned host) wait before "
                                "another takes them over. A worker that died where mailport runs again is noticed at "
                                "once."
    )
    send_account_concurrency: int = Field(
        4, ge=1, description="Messages one account sends at the same time (SMTP connections per mailbox)."
    )
    send_account_rate_per_minute: int = Field(
        0, ge=0, description="Messages one account may send per minute; 0 = no limit beyond the account's daily cap."
    )
    send_retry_min_delay: float = Field(
        300.0, gt=0, description="Seconds before the first retry of a deferred message (doubles per attempt, with "
                                 "jitter)."
    )
    send_retry_max_delay: float = Field(
        4000.0, gt=0, description="Longest wait in seconds between two attempts of a deferred message."
    )
    send_give_up_after: float = Field(
        4 * 24 * 3600.0, gt=0, description="Seconds after which a message still deferred fails with `send.gave_up` "
                                           "(default 4 days)."
    )
    webhook_timeout: float = Field(10.0, gt=0, description="Seconds a webhook receiver has to answer one delivery.")
    ui_frame_ancestors: str = Field(
        "'self'", description="CSP `frame-ancestors` of the web pages: origins allowed to show them in an iframe (e.g. "
                              "`https://app.example.com`); `'none'` forbids framing."
    )
    ui_session_minutes: int = Field(
        480, ge=5, le=1440, description="How long a web-page session lasts after the host product's signed link was "
                                        "opened."
    )
    oauth_redirect_url: str = Field(
        "", description="OAuth redirect URL registered with Google/Microsoft; default `<public_url>/oauth/callback`."
    )
    oauth_google_client_id: str = Field(
        "", description="Google OAuth client id (Google Cloud console, type Web application); empty = Google sign-in "
                        "off."
    )
    oauth_google_client_secret: str = Field("", description="Google OAuth client secret.", repr=False)
    oauth_google_authorization_url: str = Field(
        "", description="Override of Google's authorization endpoint (tests point it at a local server)."
    )
    oauth_google_token_url: str = Field("", description="Override of Google's token endpoint.")
    oauth_google_revocation_url: str = Field("", description="Override of Google's token revocation endpoint.")
    oauth_google_jwks_url: str = Field("", description="Override of Google's ID-token signing keys (JWKS) URL.")
    oauth_google_issuer: str = Field("", description="Override of the issuer Google's ID tokens must name.")
    oauth_microsoft_client_id: str = Field(
        "", description="Microsoft Entra application (client) id; empty = Microsoft sign-in off."
    )
    oauth_microsoft_client_secret: str = Field("", description="Microsoft Entra client secret.", repr=False)
    oauth_microsoft_tenant: str = Field(
        "common", description="Microsoft tenant: `common` (work and personal accounts), `organizations`, `consumers` "
                              "or one tenant id."
    )
    oauth_microsoft_authorization_url: str = Field(
        "", description="Override of Microsoft's authorization endpoint (tests point it at a local server)."
    )
    oauth_microsoft_token_url: str = Field("", description="Override of Microsoft's token endpoint.")
    oauth_microsoft_revocation_url: str = Field(
        "", description="Revocation endpoint for Microsoft (it has none; for tests)."
    )
    oauth_microsoft_jwks_url: str = Field("", description="Override of Microsoft's ID-token signing keys (JWKS) URL.")
    oauth_microsoft_issuer: str = Field(
        "", description="Override of the issuer Microsoft's ID tokens must name (`{tenantid}` is replaced by the "
                        "token's tenant)."
    )
    oauth_google_scope_profile: Literal["send", "send_and_inbox", "imap_smtp"] = Field(
        "send", description="What \"Sign in with Google\" asks for: `send` (`gmail.send`, Gmail API; sensitive scope, "
                            "brand verification), `send_and_inbox` (adds `gmail.readonly`, restricted: yearly CASA "
                            "assessment) or `imap_smtp` (`https://mail.google.com/`, restricted; SMTP/IMAP with "
                            "XOAUTH2)."
    )
    oauth_microsoft_scope_profile: Literal["send", "send_and_inbox", "imap_smtp"] = Field(
        "send", description="What \"Sign in with Microsoft\" asks for: `send` (`Mail.Send` + `Mail.ReadWrite`, "
                            "Microsoft Graph; ReadWrite for the draft + upload session of messages over 4 MB), "
                            "`send_and_inbox` (adds `Mail.Read`) or `imap_smtp` (`SMTP.Send` + "
                            "`IMAP.AccessAsUser.All`; needs SMTP AUTH enabled in the tenant)."
    )
    gmail_api_url: str = Field(
        "", description="Override of the Gmail API base URL `https://gmail.googleapis.com` (tests point it at a local "
                        "server)."
    )
    graph_api_url: str = Field(
        "", description="Override of the Microsoft Graph base URL `https://graph.microsoft.com` (tests point it at a "
                        "local server)."
    )
    provider_api_poll_interval: float = Field(
        60.0, gt=0, description="Seconds between two looks at an inbox synced through the Gmail API (it has no IDLE; "
                                "push would need Google Cloud Pub/Sub)."
    )
    provider_api_timeout: float = Field(
        60.0, gt=0, description="Seconds one Gmail API / Microsoft Graph request may take (large uploads included)."
    )
    platform_smtp_url: str = Field(
        "", description="How platform mail leaves: `smtps://user:pass@host:465` (implicit TLS) or "
                        "`smtp://user:pass@host:587` (STARTTLS required), or `capture` (development: stored and "
                        "viewable, nothing leaves). Empty: platform sending is off.", repr=False
    )
    platform_domain: str = Field(
        "", description="The platform's sending domain: platform-method mail is From `<tenant alias>@<this domain>`."
    )
    product_name: str = Field(
        "", max_length=100, description="The host product's name, the sender name of mails mailport sends on its own "
                                        "(reply-address confirmations); empty: the business's own name. Never "
                                        "\"mailport\": the business's customers and staff do not know it."
    )
    platform_bounce_host: str = Field(
        "", description="Where return paths point (own domains' CNAME target, the platform's VERP bounce address); "
                        "default `bounces.<platform domain>`."
    )
    platform_dkim_selector: str = Field("mailport", description="DKIM selector of the platform domain's key.")
    platform_dkim_key_file: str = Field(
        "", description="PEM file with the platform domain's RSA DKIM key; development generates one into the data "
                        "directory."
    )
    dkim_selector_prefix: str = Field(
        "mp", description="Start of the DKIM selector generated for each own domain (`mp-1a2b3c4d`)."
    )
    return_path_prefix: str = Field(
        "mp-bounces", description="The label of an own domain's return-path CNAME (`mp-bounces.<domain>` → the bounce "
                                  "host)."
    )
    domain_check_min_interval: float = Field(
        30.0, ge=0, description="Seconds a tenant waits between two on-demand DNS checks of one domain."
    )
    dns_authoritative_port: int = Field(
        53, ge=1, le=65535, description="Port on which a domain's authoritative name servers are asked during checks "
                                        "(tests point it at a local server)."
    )

    max_request_bytes: int = Field(
        1024 * 1024, ge=1024, le=1024**3, description="Largest request body of a route that declares no limit of its "
                                                      "own (the message routes take `MAX_MESSAGE_BYTES` × 4/3 + 1 MB)."
    )
    large_request_tenant_mb: int = Field(
        64, ge=1, le=1024 * 1024, description="Megabytes of request bodies over `MAX_REQUEST_BYTES` (big attachments, "
                                              "batches) one tenant may have in progress per API process; beyond it "
                                              "429 with `Retry-After` (a tenant's first is always admitted). A 25 MB "
                                              "message holds ~150 MB of memory while it is built."
    )
    large_request_budget_mb: int = Field(
        200, ge=1, le=1024 * 1024, description="Megabytes of large request bodies all tenants together may have in "
                                               "progress per API process; beyond it 503 with `Retry-After`."
    )
    http_header_timeout: float = Field(
        10.0, gt=0, le=300, description="Seconds a client has to send a request's headers (slow-header attacks are cut "
                                        "off)."
    )
    http_body_timeout: float = Field(
        30.0, gt=0, le=600, description="Seconds a request body may pause between two chunks before the request fails "
                                        "with 408."
    )
    http_keep_alive_timeout: int = Field(
        5, ge=1, le=300, description="Seconds an idle keep-alive connection stays open."
    )
    http_limit_concurrency: int = Field(
        2000, ge=10, le=100_000, description="Connections plus requests in progress one API process takes; beyond it "
                                             "new requests get 503 at once."
    )
    auth_failures_per_address: int = Field(
        20, ge=1, le=100_000, description="Failed authentications one client address may make per "
                                          "`AUTH_FAILURE_WINDOW` before it gets 429 (per API process)."
    )
    auth_failures_per_key: int = Field(
        10, ge=1, le=100_000, description="Failed authentications with one API key id per window before wrong keys "
                                          "with that id get 429 (per API process)."
    )
    auth_failure_window: float = Field(
        60.0, gt=0, le=86400, description="Seconds over which failed authentications are counted."
    )
    auth_block_seconds: float = Field(
        60.0, gt=0, le=86400, description="Seconds a client address or key id stays blocked after crossing its limit "
                                          "(`Retry-After`)."
    )
    metrics_token: str = Field(
        "", description="Bearer token `/metrics` requires (`Authorization: Bearer …`), ≥ 32 random characters. Empty: "
                        "`/metrics` is open in development and closed (403) in production.", repr=False
    )
    worker_metrics_port: int = Field(
        0, ge=0, le=65535, description="Port on which `mailport worker` serves its own `/metrics` (on "
                                       "`MAILPORT_WORKER_METRICS_HOST`); 0 = off."
    )
    worker_metrics_host: str = Field("127.0.0.1", description="Listen address of the worker's `/metrics`.")
    behind_tls_proxy: bool = Field(
        False, description="Production with an `http://` public URL: set only when a TLS-terminating proxy in front "
                           "sets `X-Forwarded-Proto` (browsers still see https)."
    )

    @field_validator("dns_nameservers", "allow_private_networks", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("allow_private_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        PrivateNetworks.parse(value)  # a typo must stop the start, not open or close a network silently
        return value

    @property
    def private_hosts(self) -> AllowPrivate:
        """What the SSRF guard admits besides public addresses (:data:`~mailport.core.netpolicy.AllowPrivate`)."""
        if self.allow_private_hosts:
            return True
        if self.allow_private_networks:
            return _private_networks(tuple(self.allow_private_networks))
        return False

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'mailport.db').as_posix()}"

    @property
    def effective_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


@lru_cache(maxsize=8)
def _private_networks(entries: tuple[str, ...]) -> PrivateNetworks:
    """Parsed once per list (a property of the settings, not a cached one: ``model_copy`` would
    carry a cached value over to a copy whose fields say otherwise)."""
    return PrivateNetworks.parse(entries)


def load_settings(**overrides: object) -> Settings:
    """Read, validate and complete the settings; the one place that does so. A value that does
    not parse is a :class:`ConfigurationError` naming its environment variable (an operator reads
    it at start-up, not a traceback)."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"MAILPORT_{'_'.join(str(part) for part in error['loc']).upper()}: "
            f"{str(error['msg']).removeprefix('Value error, ')}" for error in exc.errors())
        raise ConfigurationError(f"invalid setting — {problems}") from None
    if settings.is_production:
        missing = [name for name in ("secret_key", "admin_key") if not getattr(settings, name)]
        if missing:
            names = ", ".join(f"MAILPORT_{name.upper()}" for name in missing)
            raise ConfigurationError(f"{names} must be set when MAILPORT_ENV=production")
        _check_production(settings)
        if settings.allow_private_hosts:
            log.warning("MAILPORT_ALLOW_PRIVATE_HOSTS is on in production: tenants may reach every internal host; "
                        "list only your own networks in MAILPORT_ALLOW_PRIVATE_NETWORKS instead")
        return settings
    updates: dict[str, str] = {}
    if not settings.secret_key:
        updates["secret_key"] = _development_value(
            settings.data_dir / "secret.key",
            lambda: "dev1:" + urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "MAILPORT_SECRET_KEY",
        )
    if not settings.admin_key:
        updates["admin_key"] = _development_value(
            settings.data_dir / "admin.key",
            lambda: "mpa_" + secrets.token_urlsafe(32),
            "MAILPORT_ADMIN_KEY",
        )
    return settings.model_copy(update=updates) if updates else settings


MIN_KEY_LENGTH = 32


def _check_production(settings: Settings) -> None:
    """Refuse what would make a production installation easy to break into."""
    problems: list[str] = []
    for name, value in (("MAILPORT_ADMIN_KEY", settings.admin_key), ("MAILPORT_METRICS_TOKEN", settings.metrics_token)):
        if value and (len(value) < MIN_KEY_LENGTH or not _looks_random(value)):
            problems.append(f"{name} must be at least {MIN_KEY_LENGTH} random characters "
                            "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)")
    if not settings.public_url:
        problems.append("MAILPORT_PUBLIC_URL must be set (the https address users and providers reach)")
    elif settings.public_url.lower().startswith("http://") and not settings.behind_tls_proxy:
        problems.append("MAILPORT_PUBLIC_URL must be https:// (set MAILPORT_BEHIND_TLS_PROXY=true only when "
                        "a TLS-terminating proxy in front sets X-Forwarded-Proto)")
    elif not settings.public_url.lower().startswith(("https://", "http://")):
        problems.append("MAILPORT_PUBLIC_URL must be an https:// URL")
    if problems:
        raise ConfigurationError("production settings refused: " + "; ".join(problems))


def _looks_random(value: str) -> bool:
    """Not one character repeated or a short pattern: at least 16 distinct characters."""
    return len(set(value)) >= 16


def _development_value(path: Path, make: Callable[[], str], variable: str) -> str:
    """A value generated once into the data directory, so development restarts keep it."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    value = make()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process of this installation won the race
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    log.warning("generated %s into %s for development; set %s in production", path.name, path, variable)
    return value
