"""Mailbox accounts: create, edit, remove, and hand their settings and secret to the senders.

The password is stored only as an AES-GCM token bound to (tenant, account) and is never returned.
Removing an account deletes its secrets with it; SQLite runs with ``secure_delete`` so the
ciphertext does not linger in free pages either.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets as random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from mailport.adapters.secrets import Secret
from mailport.adapters.storage.database import Database
from mailport.adapters.storage.repositories import AccountRepository
from mailport.adapters.storage.tables import Account, Tenant
from mailport.clock import Clock
from mailport.core import netpolicy
from mailport.core.accountstate import State, decide, state_of
from mailport.core.addresses import parse_address, reject_control_chars
from mailport.core.events import AccountNeedsAttention
from mailport.core.message import check_header_text
from mailport.core.verification import AccountConfig, Endpoint, same_server
from mailport.errors import Conflict, HostNotAllowed, NotFound, ValidationError
from mailport.ids import new_id
from mailport.services.secretstore import SecretStore
from mailport.services.webhooks import EventLog
from mailport.settings import Settings

OWNER = "account"
PASSWORD = "password"
ALIAS_CODE_TTL = timedelta(hours=1)
ALIAS_CODE_ATTEMPTS = 5
"""Six digits and five tries: a guesser's chance is 5 in a million per mailed code."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountInput:
    """What a caller gives to connect a mailbox (the API and CLI build this)."""

    email: str
    smtp: dict[str, Any]
    imap: dict[str, Any] | None = None
    display_name: str | None = None
    password: str | None = None
    auth_kind: str = "password"
    provider_id: str | None = None
    daily_limit: int | None = None
    transport: str = "smtp_imap"


@dataclass(frozen=True, slots=True)
class AccountView:
    id: str
    email: str
    display_name: str | None
    provider_id: str | None
    auth_kind: str
    smtp: dict[str, Any]
    imap: dict[str, Any] | None
    aliases: list[dict[str, Any]]
    daily_limit: int | None
    status: str
    has_password: bool
    last_verification: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    extra: dict[str, Any] = field(default_factory=dict)
    transport: str = "smtp_imap"
    attention: dict[str, Any] | None = None

    @property
    def state(self) -> State:
        """``working`` | ``needs_attention`` | ``not_tested`` (see :mod:`mailport.core.accountstate`)."""
        return state_of(self.status)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "email": self.email,
            "display_name": self.display_name,
            "provider_id": self.provider_id,
            "auth_kind": self.auth_kind,
            "transport": self.transport,
            "smtp": self.smtp,
            "imap": self.imap,
            "aliases": [{"email": a["email"], "verified": bool(a.get("verified"))} for a in self.aliases],
            "daily_limit": self.daily_limit,
            "status": self.status,
            "state": self.state,
            "attention": self.attention if self.state == "needs_attention" else None,
            "has_password": self.has_password,
            "last_verification": self.last_verification,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


class AccountService:
    def __init__(self, *, db: Database, secrets: SecretStore, clock: Clock, settings: Settings,
                 events: EventLog | None = None) -> None:
        self.db = db
        self.secrets = secrets
        self.clock = clock
        self.settings = settings
        self.events = events

    # -- create / read -----------------------------------------------------------------------

    def create(self, tenant_id: str, spec: AccountInput) -> AccountView:
        address = parse_address(spec.email)
        smtp = self._endpoint(spec.smtp, field_name="smtp", default_username=address.email)
        imap = self._endpoint(spec.imap, field_name="imap", default_username=address.email) if spec.imap else None
        self._check_auth(spec.auth_kind, spec.password, [smtp] + ([imap] if imap else []))
        display_name = _clean_name(spec.display_name)
        now = self.clock.now()
        with self.db.session() as s:
            repo = AccountRepository(s)
            if repo.find_by_email(tenant_id=tenant_id, email=address.email) is not None:
                raise Conflict(f"an account for {address.email} exists already", code="account.exists")
            account = repo.add(
                Account(
                    id=new_id("acc"), tenant_id=tenant_id, email=address.email, display_name=display_name,
                    provider_id=spec.provider_id, auth_kind=spec.auth_kind, transport=spec.transport,
                    smtp=_endpoint_dict(smtp),
                    imap=_endpoint_dict(imap) if imap else None, aliases=[], daily_limit=spec.daily_limit,
                    status="unverified", last_verification=None, created_at=now, updated_at=now,
                )
            )
            if spec.password:
                self._store_password(s, tenant_id, account.id, spec.password, now)
            return self._view(s, account)

    def list_accounts(self, tenant_id: str) -> list[AccountView]:
        with self.db.session() as s:
            return [self._view(s, a) for a in AccountRepository(s).list_for_tenant(tenant_id=tenant_id)]

    def get(self, tenant_id: str, account_id: str) -> AccountView:
        with self.db.session() as s:
            return self._view(s, AccountRepository(s).get(tenant_id=tenant_id, account_id=account_id))

    def find_by_email(self, tenant_id: str, email: str) -> AccountView | None:
        address = parse_address(email)
        with self.db.session() as s:
            account = AccountRepository(s).find_by_email(tenant_id=tenant_id, email=address.email)
            return self._view(s, account) if account else None

    # -- change ------------------------------------------------------------------------------

    def update(self, tenant_id: str, account_id: str, changes: dict[str, Any]) -> AccountView:
        """Apply a partial change; a new password replaces the stored one. Verified status resets
        when anything that affects the connection changes."""
        allowed = {"display_name", "smtp", "imap", "password", "daily_limit"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValidationError(f"cannot change: {', '.join(sorted(unknown))}", field=min(unknown))
        now = self.clock.now()
        with self.db.session() as s:
            repo = AccountRepository(s)
            account = repo.get(tenant_id=tenant_id, account_id=account_id)
            values: dict[str, Any] = {"updated_at": now}
            smtp = Endpoint(**account.smtp)
            imap = Endpoint(**account.imap) if account.imap else None
            if "smtp" in changes:
                smtp = self._endpoint({**account.smtp, **(changes["smtp"] or {})}, field_name="smtp",
                                      default_username=account.email)
                values["smtp"] = _endpoint_dict(smtp)
            if "imap" in changes:
                imap = (
                    self._endpoint({**(account.imap or {}), **changes["imap"]}, field_name="imap",
                                   default_username=account.email)
                    if changes["imap"] else None
                )
                values["imap"] = _endpoint_dict(imap) if imap else None
            if "display_name" in changes:
                values["display_name"] = _clean_name(changes["display_name"])
            if "daily_limit" in changes:
                limit = changes["daily_limit"]
                if limit is not None and (not isinstance(limit, int) or limit < 1):
                    raise ValidationError("daily_limit must be a positive number", field="daily_limit")
                values["daily_limit"] = limit
            password = changes.get("password")
            moved = [name for name, old, new in (
                ("smtp", Endpoint(**account.smtp), smtp),
                ("imap", Endpoint(**account.imap) if account.imap else None, imap),
            ) if new is not None and (old is None or not same_server(old, new))]
            if moved and account.auth_kind == "oauth2":
                # Tokens only ever go to the servers the provider's sign-in set up.
                raise ValidationError(
                    "the servers of a mailbox connected by signing in cannot be changed; sign in again",
                    code="account.oauth_servers_fixed", field=moved[0],
                )
            if moved and password is None:
                # The stored password belongs to the server it was given for; a new host, port,
                # security, user name or pin must not receive it (it could be the caller's own
                # server). The change is refused as a whole, so the old server keeps its password.
                raise ValidationError(
                    f"the {moved[0]} server changed: send the password again in the same request",
                    code="account.secret_required", field="password",
                )
            has_password = password is not None or self._has_password(s, tenant_id, account_id)
            self._check_auth(account.auth_kind, "x" if has_password else None,
                             [smtp] + ([imap] if imap else []))
            connection_changed = password is not None or any(
                name in values and values[name] != getattr(account, name) for name in ("smtp", "imap"))
            if connection_changed:  # what was learnt about the old settings says nothing now
                values["status"], values["attention"] = "unverified", None
            account = repo.update(tenant_id=tenant_id, account_id=account_id, values=values)
            if password is not None:
                self._store_password(s, tenant_id, account_id, password, now)
            return self._view(s, account)

    def remove(self, tenant_id: str, account_id: str) -> None:
        with self.db.session() as s:
            AccountRepository(s).delete(tenant_id=tenant_id, account_id=account_id)
            tenant = s.get(Tenant, tenant_id)
            if tenant is not None and tenant.default_account_id == account_id:
                # The business's default mailbox is gone: no default rather than a dangling one.
                tenant.default_method = tenant.default_account_id = None
            self.secrets.delete_owner(s, tenant_id=tenant_id, owner_kind=OWNER, owner_id=account_id)

    def record_verification(self, tenant_id: str, account_id: str, *, report: dict[str, Any], status: str) -> None:
        failed = next((st for st in report.get("stages", []) if st.get("status") == "failed"), None)
        self._record(tenant_id, account_id, source="verification", status=status,
                     code=(failed.get("code") or "unknown") if failed else None,
                     server_text=failed.get("server_text") if failed else None,
                     extra={"last_verification": report})

    def record_outcome(self, tenant_id: str, account_id: str, *, source: str, ok: bool,
                       code: str | None = None, server_text: str | None = None) -> None:
        """What a send or a sync learnt about the mailbox (see :func:`core.accountstate.decide`)."""
        with self.db.session() as s:
            account = s.get(Account, account_id)
            if account is None or account.tenant_id != tenant_id:
                return
            change = decide(account.status, ok=ok, code=code, source=source)
            if change is None or (change.status == account.status and not change.new_episode
                                  and (account.attention or {}).get("code") == change.attention_code):
                return  # the common case (another good send): no write
        self._record(tenant_id, account_id, source=source, status=change.status, code=change.attention_code,
                     server_text=server_text)

    def _record(self, tenant_id: str, account_id: str, *, source: str, status: str, code: str | None,
                server_text: str | None, extra: dict[str, Any] | None = None) -> None:
        now = self.clock.now()
        with self.db.session() as s:
            account = s.get(Account, account_id)
            if account is None or account.tenant_id != tenant_id:
                if source != "verification":
                    return  # removed while it was sending or syncing: nothing left to mark
                raise NotFound(f"no account {account_id}", code="account.not_found")
            new_episode = state_of(account.status) != "needs_attention" and state_of(status) == "needs_attention"
            attention: dict[str, Any] | None = ({"code": code or "unknown", "source": source, "at": now.isoformat(),
                          "server_text": (server_text or "")[:500] or None}
                         if state_of(status) == "needs_attention" else None)
            AccountRepository(s).update(tenant_id=tenant_id, account_id=account_id, values={
                **(extra or {}), "status": status, "attention": attention, "updated_at": now})
            if new_episode and self.events is not None and attention is not None:
                self.events.record(s, tenant_id=tenant_id, now=now, payload=AccountNeedsAttention(
                    account_id=account_id, email=account.email, code=attention["code"], source=source))

    # -- what senders need -------------------------------------------------------------------

    def connection(self, tenant_id: str, account_id: str) -> tuple[AccountConfig, Secret | None]:
        """The account's settings and its decrypted password, for a verification or a send."""
        with self.db.session() as s:
            account = AccountRepository(s).get(tenant_id=tenant_id, account_id=account_id)
            password = self.secrets.get(s, tenant_id=tenant_id, owner_kind=OWNER, owner_id=account_id,
                                        name=PASSWORD)
            config = AccountConfig(
                email=account.email,
                display_name=account.display_name or "",
                smtp=Endpoint(**account.smtp),
                imap=Endpoint(**account.imap) if account.imap else None,
                auth_kind=account.auth_kind,  # type: ignore[arg-type]
                transport=account.transport,
            )
        return config, password

    def check_sender(self, tenant_id: str, account_id: str, from_email: str) -> str:
        """The From address to use, or :class:`ValidationError` if the account may not send as it.

        A message may carry the account's own address or an alias the user added *and confirmed*
        — servers such as Microsoft 365 reject other senders, and we refuse before anything is sent.
        """
        wanted = parse_address(from_email, field="from")
        view = self.get(tenant_id, account_id)
        if wanted.key == parse_address(view.email).key:
            return view.email
        for alias in view.aliases:
            if alias.get("verified") and parse_address(alias["email"]).key == wanted.key:
                return str(alias["email"])
        raise ValidationError(
            f"{wanted.email} is not this account's address or a confirmed alias of it",
            code="send.sender_not_allowed", field="from",
        )

    # -- aliases -----------------------------------------------------------------------------

    def request_alias(self, tenant_id: str, account_id: str, email: str) -> str:
        """Add an unconfirmed alias and return the confirmation code to mail to it."""
        address = parse_address(email, field="alias")
        code = f"{random.randbelow(10**6):06d}"
        now = self.clock.now()
        with self.db.session() as s:
            repo = AccountRepository(s)
            account = repo.get(tenant_id=tenant_id, account_id=account_id)
            if parse_address(account.email).key == address.key:
                raise ValidationError("that is the account's own address", field="alias")
            aliases = [a for a in account.aliases if parse_address(a["email"]).key != address.key]
            aliases.append({"email": address.email, "verified": False, "code_hash": _code_hash(account_id, code),
                            "requested_at": now.isoformat()})
            repo.update(tenant_id=tenant_id, account_id=account_id, values={"aliases": aliases, "updated_at": now})
        return code

    def confirm_alias(self, tenant_id: str, account_id: str, email: str, code: str) -> AccountView:
        """Confirm an alias with the code mailed to it: at most :data:`ALIAS_CODE_ATTEMPTS` tries
        per code (then it is void and the alias must be added again), within :data:`ALIAS_CODE_TTL`.

        The attempts are counted in the database, so several API processes share the count."""
        address = parse_address(email, field="alias")
        now = self.clock.now()
        failure: ValidationError | None = None
        with self.db.session() as s:
            repo = AccountRepository(s)
            account = repo.get(tenant_id=tenant_id, account_id=account_id)
            aliases = [dict(a) for a in account.aliases]
            alias = next((a for a in aliases if parse_address(a["email"]).key == address.key), None)
            if alias is None:
                raise NotFound("no such alias on this account", resource="alias")
            if alias.get("verified"):
                return self._view(s, account)
            requested = datetime.fromisoformat(alias["requested_at"])
            attempts = int(alias.get("attempts", 0))
            if not alias.get("code_hash") or attempts >= ALIAS_CODE_ATTEMPTS:
                raise ValidationError("this confirmation code was tried too often and is void; add the alias again",
                                      code="alias.code_void", field="code")
            if now - requested > ALIAS_CODE_TTL:
                raise ValidationError("the confirmation code has expired; add the alias again",
                                      code="alias.code_expired", field="code")
            if hmac.compare_digest(alias["code_hash"], _code_hash(account_id, code.strip())):
                alias["verified"] = True
                alias.pop("code_hash", None)
                alias.pop("attempts", None)
            else:
                alias["attempts"] = attempts + 1
                if alias["attempts"] >= ALIAS_CODE_ATTEMPTS:
                    alias.pop("code_hash", None)  # void: not even the right code works any more
                    failure = ValidationError("the confirmation code is not right, and was tried too often; "
                                              "add the alias again", code="alias.code_void", field="code")
                else:
                    failure = ValidationError("the confirmation code is not right", code="alias.code_wrong",
                                              field="code", attempts_left=ALIAS_CODE_ATTEMPTS - alias["attempts"])
            account = repo.update(tenant_id=tenant_id, account_id=account_id,
                                  values={"aliases": aliases, "updated_at": now})
            view = self._view(s, account)
        if failure is not None:  # raised after the commit, so the attempt counts
            raise failure
        return view

    def remove_alias(self, tenant_id: str, account_id: str, email: str) -> AccountView:
        address = parse_address(email, field="alias")
        with self.db.session() as s:
            repo = AccountRepository(s)
            account = repo.get(tenant_id=tenant_id, account_id=account_id)
            aliases = [a for a in account.aliases if parse_address(a["email"]).key != address.key]
            if len(aliases) == len(account.aliases):
                raise NotFound("no such alias on this account", resource="alias")
            account = repo.update(tenant_id=tenant_id, account_id=account_id,
                                  values={"aliases": aliases, "updated_at": self.clock.now()})
            return self._view(s, account)

    # -- internals ---------------------------------------------------------------------------

    def _endpoint(self, raw: dict[str, Any] | None, *, field_name: str, default_username: str) -> Endpoint:
        if not isinstance(raw, dict):
            raise ValidationError(f"{field_name} settings are required", field=field_name)
        data: dict[str, Any] = {k: raw.get(k) for k in ("host", "port", "security", "username", "pin_sha256")}
        if not data["username"]:
            data["username"] = default_username
        host = str(data["host"] or "").strip().rstrip(".").lower()
        data["host"] = host
        for key in ("host", "username", "pin_sha256"):
            if data[key] is not None:
                reject_control_chars(str(data[key]), field=f"{field_name}.{key}")
        # What the spelling alone decides (an IP literal in any form, localhost, a private-use
        # suffix) is refused at save, where the owner can still correct it — before the syntax
        # check, so "127.1" reads "not allowed here", not "not valid"; names are checked again by
        # the addresses they resolve to at every connection (DNS may change).
        if host:
            try:
                netpolicy.check_host(host, allow_private=self.settings.private_hosts)
            except HostNotAllowed as exc:
                exc.field = f"{field_name}.host"
                raise
        return Endpoint(**data)

    def _check_auth(self, auth_kind: str, password: str | None,
                    endpoints: list[Endpoint]) -> None:
        if auth_kind not in ("password", "oauth2"):
            raise ValidationError("auth_kind must be password or oauth2", field="auth_kind")
        if auth_kind == "password":
            if not password:
                raise ValidationError("a password (or app password) is required", field="password")
            insecure = [e for e in endpoints if e.security == "none"]
            if insecure and not self.settings.allow_insecure_auth:
                raise ValidationError(
                    "sending a password over an unencrypted connection is not allowed; use tls or starttls",
                    code="request.insecure_auth", field="security",
                )

    def _store_password(self, s: Session, tenant_id: str, account_id: str, password: str, now: datetime) -> None:
        if len(password) > 1024 or any(ch in password for ch in "\r\n\x00"):
            raise ValidationError("the password contains characters a mail server cannot accept", field="password")
        self.secrets.put(s, tenant_id=tenant_id, owner_kind=OWNER, owner_id=account_id, name=PASSWORD,
                         value=password)

    def _has_password(self, s: Session, tenant_id: str, account_id: str) -> bool:
        return self.secrets.exists(s, tenant_id=tenant_id, owner_kind=OWNER, owner_id=account_id, name=PASSWORD)

    def _view(self, s: Session, a: Account) -> AccountView:
        return AccountView(
            id=a.id, email=a.email, display_name=a.display_name, provider_id=a.provider_id,
            auth_kind=a.auth_kind, smtp=dict(a.smtp), imap=dict(a.imap) if a.imap else None,
            aliases=list(a.aliases), daily_limit=a.daily_limit, status=a.status,
            has_password=self._has_password(s, a.tenant_id, a.id), last_verification=a.last_verification,
            created_at=a.created_at, updated_at=a.updated_at, attention=a.attention, transport=a.transport,
        )


def _code_hash(account_id: str, code: str) -> str:
    return hashlib.sha256(f"{account_id}:{code}".encode()).hexdigest()


def _endpoint_dict(e: Endpoint) -> dict[str, Any]:
    return {"host": e.host, "port": e.port, "security": e.security, "username": e.username,
            "pin_sha256": e.pin_sha256}


def _clean_name(value: str | None) -> str | None:
    if value is None:
        return None
    value = check_header_text(value, field="display_name").strip()
    if len(value) > 200:
        raise ValidationError("display_name is longer than 200 characters", field="display_name")
    return value or None
