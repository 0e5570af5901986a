"""Connecting Gmail / Microsoft 365 mailboxes with OAuth 2.0, and keeping their tokens usable.

The flow::

    start()    -> pending authorization (state, PKCE verifier, nonce) stored, authorization URL
    (browser)  -> the provider's sign-in and consent page -> GET /oauth/callback?code&state
    complete() -> state consumed (single use), code exchanged, ID token validated, the signed-in
                  address compared with the one the user meant, account created or reconnected,
                  refresh + access token stored encrypted

and afterwards, for every verification, send or sync::

    credentials(tenant, account) -> Credentials (settings + password or access token)

which refreshes the access token ahead of its expiry (and, with ``rejected_token=``, once after
a server refused it). A refresh the provider refuses (``invalid_grant``: revoked, expired,
password changed) marks the account ``needs_reconnect`` and records the
``account.needs_reconnect`` event once, then raises ``auth.token_invalid``.

Concurrency: refreshes of one account are serialized inside a process (a lock per account), and
a refresh after a rejection only happens if the stored token is still the rejected one — so ten
sends failing at once cause one refresh, not ten.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets as random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from mailport.adapters.oauth import OAuthClient
from mailport.adapters.storage.database import Database
from mailport.adapters.storage.oauth_repository import OAuthGrantRepository, OAuthStateRepository
from mailport.adapters.storage.repositories import AccountRepository
from mailport.adapters.storage.tables import Account
from mailport.adapters.storage.tables_oauth import OAuthGrant, OAuthState
from mailport.clock import Clock
from mailport.core.addresses import parse_address, reject_control_chars
from mailport.core.credentials import Credentials
from mailport.core.events import AccountNeedsAttention, AccountNeedsReconnect
from mailport.core.message import check_header_text
from mailport.core.oauth import (
    PROVIDERS,
    Identity,
    OAuthProvider,
    PendingAuthorization,
    TokenSet,
    WrongAccount,
    admin_consent_url,
    build_provider,
    check_expected_identity,
    default_servers,
    identity_from_claims,
    token_error_code,
)
from mailport.core.secret import Secret
from mailport.core.transports import (
    DEFAULT_PROFILE,
    ScopeProfile,
    can_read_inbox,
    check_profile,
    scopes_for,
    transport_for,
)
from mailport.errors import (
    ConfigurationError,
    Conflict,
    MailportError,
    NotFound,
    RemoteAuthError,
    RemoteError,
    ValidationError,
)
from mailport.ids import new_id
from mailport.logs import register_secret
from mailport.services.accounts import OWNER, AccountInput, AccountService, AccountView
from mailport.services.secretstore import SecretStore
from mailport.settings import Settings

__all__ = ["CallbackResult", "Credentials", "OAuthService", "StartedAuthorization"]

log = logging.getLogger(__name__)

REFRESH_TOKEN = "oauth_refresh_token"
ACCESS_TOKEN = "oauth_access_token"
STATE_OWNER = "oauth_state"
CODE_VERIFIER = "code_verifier"
NEEDS_RECONNECT = "needs_reconnect"


class EventRecorder(Protocol):
    """What :class:`OAuthService` needs of the event log (``services.webhooks.EventLog``)."""

    def record(self, s: Any, *, tenant_id: str, payload: Any, now: datetime) -> Any: ...


@dataclass(frozen=True, slots=True)
class StartedAuthorization:
    authorization_url: str
    expires_at: datetime
    provider: str


Outcome = Literal["connected", "reconnected", "wrong_account", "denied", "failed", "expired"]


@dataclass(frozen=True, slots=True)
class CallbackResult:
    """How a callback ended, for the page or redirect the API shows.

    ``code`` is a diagnosis/request code for failures; ``signed_in``/``expected`` name the two
    addresses of a wrong-account sign-in, and ``retry_url`` is a fresh authorization URL for
    the same request (``None`` when the sign-in cannot simply be retried).
    """

    outcome: Outcome
    return_url: str | None = None
    account: AccountView | None = None
    code: str | None = None
    message: str | None = None
    signed_in: str | None = None
    expected: str | None = None
    retry_url: str | None = None
    admin_consent_url: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome in ("connected", "reconnected")


class OAuthService:
    def __init__(
        self,
        *,
        db: Database,
        accounts: AccountService,
        secrets: SecretStore,
        settings: Settings,
        clock: Clock,
        events: EventRecorder | None = None,
        clients: Mapping[str, OAuthClient] | None = None,
        make_token: Callable[[int], str] = random.token_urlsafe,
    ) -> None:
        self.db = db
        self.accounts = accounts
        self.secrets = secrets
        self.settings = settings
        self.clock = clock
        self.events = events
        self._clients: dict[str, OAuthClient] = dict(clients or {})
        self._make_token = make_token
        self._locks: dict[str, asyncio.Lock] = {}

    # -- configuration -------------------------------------------------------------------------

    @property
    def redirect_url(self) -> str:
        return self.settings.oauth_redirect_url or f"{self.settings.effective_public_url}/oauth/callback"

    def provider(self, name: str) -> OAuthProvider:
        """The configured provider ``name``; ``oauth.not_configured`` when the operator has not
        registered an app with it."""
        if name not in PROVIDERS:
            raise ValidationError(f"unknown OAuth provider {name!r}; use google or microsoft",
                                  code="oauth.unknown_provider", field="provider")
        s = self.settings

        def get(key: str) -> str:
            return str(getattr(s, f"oauth_{name}_{key}"))

        if not get("client_id"):
            raise ConfigurationError(f"sign-in with {name} is not set up on this installation",
                                     code="oauth.not_configured")
        overrides = {k: get(k) for k in ("authorization_url", "token_url", "revocation_url", "jwks_url", "issuer")}
        provider = build_provider(name, client_id=get("client_id"), client_secret=get("client_secret"),
                                  redirect_url=self.redirect_url, tenant=s.oauth_microsoft_tenant,
                                  overrides=overrides)
        return replace(provider, scopes=scopes_for(name, self.scope_profile(name)))

    def scope_profile(self, name: str) -> ScopeProfile:
        """The operator's scope profile for provider ``name`` (``send`` unless configured)."""
        return check_profile(str(getattr(self.settings, f"oauth_{name}_scope_profile", DEFAULT_PROFILE)))

    def client(self, name: str) -> OAuthClient:
        if name not in self._clients:
            provider = self.provider(name)
            register_secret(provider.client_secret)
            self._clients[name] = OAuthClient(provider=provider, timeout=self.settings.connect_timeout,
                                              ca_file=self.settings.ca_file)
        return self._clients[name]

    # -- start ---------------------------------------------------------------------------------

    async def start(
        self,
        tenant_id: str,
        provider: str,
        *,
        login_hint: str | None = None,
        return_url: str | None = None,
        account_id: str | None = None,
        display_name: str | None = None,
        smtp: Mapping[str, Any] | None = None,
        imap: Mapping[str, Any] | None = None,
        profile: str | None = None,
    ) -> StartedAuthorization:
        """Begin a sign-in; the caller sends the user's browser to ``authorization_url``.

        ``login_hint``: the address the user means (pre-fills the provider's page, and the
        callback refuses a different account). ``account_id``: reconnect that account instead
        of creating one. ``smtp``/``imap``: server settings other than the provider's standard
        ones (rare; tests). ``return_url``: where the callback sends the browser afterwards.
        ``profile``: a scope profile other than the operator's for this sign-in (the one-click
        move of an SMTP account to its provider's API); it decides the account's transport.
        """
        client = self.client(provider)
        chosen = check_profile(profile) if profile is not None else self.scope_profile(provider)
        hint = parse_address(login_hint, field="login_hint").email if login_hint else None
        if return_url is not None:
            _check_return_url(return_url)
        if account_id is not None:
            view = await asyncio.to_thread(self.accounts.get, tenant_id, account_id)
            hint = view.email
        options: dict[str, Any] = {}
        if display_name is not None:
            options["display_name"] = check_header_text(display_name, field="display_name")[:200]
        if smtp is not None:
            options["smtp"] = dict(smtp)
        if imap is not None:
            options["imap"] = dict(imap)
        options["profile"] = chosen
        pending = PendingAuthorization(
            state=self._make_token(32), tenant_id=tenant_id, provider=client.provider.name,
            code_verifier=self._make_token(64), nonce=self._make_token(24), created_at=self.clock.now(),
            login_hint=hint, return_url=return_url, account_id=account_id, options=options,
        )
        await asyncio.to_thread(self._save_pending, pending)
        url = client.authorization_url(state=pending.state, code_verifier=pending.code_verifier,
                                       nonce=pending.nonce, login_hint=hint,
                                       scope=" ".join(scopes_for(provider, chosen)))
        return StartedAuthorization(authorization_url=url, expires_at=pending.expires_at,
                                    provider=client.provider.name)

    def _save_pending(self, p: PendingAuthorization) -> None:
        with self.db.session() as s:
            # Old sign-ins nobody finished: remove them (with their verifiers) on the way.
            states = OAuthStateRepository(s)
            for old in states.expired(before=p.created_at):
                self.secrets.delete_owner(s, tenant_id=old.tenant_id, owner_kind=STATE_OWNER, owner_id=old.id)
                states.delete(old)
            row = OAuthState(
                id=new_id("oas"), state_hash=_state_hash(p.state), tenant_id=p.tenant_id, provider=p.provider,
                nonce=p.nonce, login_hint=p.login_hint, return_url=p.return_url, account_id=p.account_id,
                options=dict(p.options), created_at=p.created_at, expires_at=p.expires_at,
            )
            states.add(row)
            self.secrets.put(s, tenant_id=p.tenant_id, owner_kind=STATE_OWNER, owner_id=row.id,
                             name=CODE_VERIFIER, value=p.code_verifier)

    def _take_pending(self, state: str) -> PendingAuthorization | None:
        """The pending sign-in of ``state``, deleted in the same transaction (single use)."""
        with self.db.session() as s:
            states = OAuthStateRepository(s)
            row = states.find_for_update(_state_hash(state))
            if row is None:
                return None
            verifier = self.secrets.get(s, tenant_id=row.tenant_id, owner_kind=STATE_OWNER, owner_id=row.id,
                                        name=CODE_VERIFIER)
            self.secrets.delete_owner(s, tenant_id=row.tenant_id, owner_kind=STATE_OWNER, owner_id=row.id)
            states.delete(row)
            if verifier is None:
                return None
            return PendingAuthorization(
                state=state, tenant_id=row.tenant_id, provider=row.provider,  # type: ignore[arg-type]
                code_verifier=verifier.reveal(), nonce=row.nonce, created_at=row.created_at,
                login_hint=row.login_hint, return_url=row.return_url, account_id=row.account_id,
                options=dict(row.options or {}),
            )

    # -- callback ------------------------------------------------------------------------------

    async def complete(self, *, state: str | None, code: str | None, error: str | None = None,
                       error_description: str | None = None) -> CallbackResult:
        """Finish the sign-in the provider redirected back with; never raises for the user's or
        the provider's failures — they come back as a :class:`CallbackResult` to show."""
        pending = await asyncio.to_thread(self._take_pending, state) if state else None
        if pending is None or pending.is_expired(self.clock.now()):
            return CallbackResult(outcome="expired", code="oauth.state_invalid",
                                  message="This sign-in link has expired or was already used. Please start again.",
                                  return_url=pending.return_url if pending else None)
        client = self.client(pending.provider)
        if error or not code:
            result_code = token_error_code(error, error_description) if error else "oauth.bad_response"
            denied = error == "access_denied" and result_code == "oauth.access_denied"
            return CallbackResult(
                outcome="denied" if denied else "failed", return_url=pending.return_url, code=result_code,
                message=("Access was not allowed, so the mailbox was not connected." if denied
                         else "The sign-in did not succeed."),
                retry_url=await self._retry(pending),
                admin_consent_url=(admin_consent_url(client.provider)
                                   if result_code == "auth.admin_consent_required" else None),
            )
        try:
            response = await client.exchange_code(code=code, code_verifier=pending.code_verifier)
            id_token = response.get("id_token")
            if not isinstance(id_token, str):
                raise ValidationError("the provider sent no ID token", code="oauth.bad_id_token")
            claims = await client.validate_id_token(id_token, nonce=pending.nonce,
                                                    now=self.clock.now().timestamp())
            identity = identity_from_claims(client.provider, claims)
        except (RemoteError, ValidationError) as exc:
            log.warning("OAuth callback failed: %s (%s)", exc.code, type(exc).__name__)
            return CallbackResult(
                outcome="failed", return_url=pending.return_url, code=exc.code, message=str(exc),
                retry_url=await self._retry(pending),
                admin_consent_url=(admin_consent_url(client.provider)
                                   if exc.code == "auth.admin_consent_required" else None),
            )
        account_email = None
        if pending.account_id:
            try:
                account_email = (await asyncio.to_thread(self.accounts.get, pending.tenant_id,
                                                         pending.account_id)).email
            except NotFound:
                return CallbackResult(outcome="failed", return_url=pending.return_url, code="account.not_found",
                                      message="The mailbox to reconnect no longer exists.")
        wrong = check_expected_identity(identity, login_hint=pending.login_hint, account_email=account_email)
        if wrong is not None:
            # Nothing is stored: the tokens of the wrong account are dropped, and revoked so no
            # grant lingers at the provider for a mailbox the user did not mean to connect.
            await self._revoke_quietly(client, response.get("refresh_token") or response.get("access_token"))
            return _wrong_account(wrong, pending, await self._retry(pending))
        refresh = response.get("refresh_token")
        if not isinstance(refresh, str) or not refresh:
            return CallbackResult(outcome="failed", return_url=pending.return_url, code="oauth.no_refresh_token",
                                  message="The provider did not grant lasting access; please try again.",
                                  retry_url=await self._retry(pending))
        tokens = TokenSet.from_response(response, now=self.clock.now())
        try:
            view, reconnected = await self._store_account(pending, identity, client.provider, tokens, refresh,
                                                          str(response.get("scope") or client.provider.scope))
        except (Conflict, ValidationError) as exc:
            await self._revoke_quietly(client, refresh)
            return CallbackResult(outcome="failed", return_url=pending.return_url, code=exc.code,
                                  message=str(exc), signed_in=identity.email)
        return CallbackResult(outcome="reconnected" if reconnected else "connected",
                              return_url=pending.return_url, account=view, signed_in=identity.email)

    async def _retry(self, pending: PendingAuthorization) -> str | None:
        """A fresh authorization URL for the same request (the old state is used up)."""
        try:
            started = await self.start(
                pending.tenant_id, pending.provider, login_hint=pending.login_hint,
                return_url=pending.return_url, account_id=pending.account_id,
                display_name=pending.options.get("display_name"), smtp=pending.options.get("smtp"),
                imap=pending.options.get("imap"), profile=pending.options.get("profile"),
            )
        except MailportError:
            return None
        return started.authorization_url

    async def _store_account(self, pending: PendingAuthorization, identity: Identity, provider: OAuthProvider,
                             tokens: TokenSet, refresh: str, scope: str) -> tuple[AccountView, bool]:
        existing = (await asyncio.to_thread(self.accounts.get, pending.tenant_id, pending.account_id)
                    if pending.account_id else
                    await asyncio.to_thread(self.accounts.find_by_email, pending.tenant_id, identity.email))
        if existing is not None and existing.auth_kind != "oauth2":
            raise Conflict(f"{existing.email} is connected with a password already; remove it first to "
                           "connect it by signing in", code="account.exists")
        account_id = existing.id if existing else None
        profile = str(pending.options.get("profile") or self.scope_profile(provider.name))
        transport = transport_for(provider.name, profile)
        provider_id, smtp, imap = default_servers(provider.name, identity.email)
        # An API account has an inbox to sync only when the grant allows reading it; a send-only
        # one keeps no IMAP settings (nothing would sync them: the grant has no IMAP scope).
        # (By profile and grant: Graph's send profile holds Mail.ReadWrite for large drafts,
        # which could read mail, but the operator did not turn the inbox on.)
        has_inbox = transport == "smtp_imap" or (profile == "send_and_inbox" and can_read_inbox(transport, scope))
        inbox = dict(pending.options.get("imap") or imap) if has_inbox else None
        if account_id is None:
            spec = AccountInput(
                email=identity.email, smtp=dict(pending.options.get("smtp") or smtp),
                imap=inbox, display_name=pending.options.get("display_name"),
                auth_kind="oauth2", provider_id=provider_id, transport=transport,
            )
            account_id = (await asyncio.to_thread(self.accounts.create, pending.tenant_id, spec)).id
        try:
            await asyncio.to_thread(self._save_grant, pending.tenant_id, account_id, provider, identity, tokens,
                                    refresh, scope, transport, inbox)
        except BaseException:
            if existing is None:  # do not leave a new account without its tokens behind
                await asyncio.to_thread(self.accounts.remove, pending.tenant_id, account_id)
            raise
        return await asyncio.to_thread(self.accounts.get, pending.tenant_id, account_id), existing is not None

    def _save_grant(self, tenant_id: str, account_id: str, provider: OAuthProvider, identity: Identity,
                    tokens: TokenSet, refresh: str, scope: str, transport: str,
                    inbox: dict[str, Any] | None = None) -> None:
        now = self.clock.now()
        with self.db.session() as s:
            grant = OAuthGrantRepository(s).get(account_id)
            if grant is None:
                grant = OAuthGrantRepository(s).add(OAuthGrant(account_id=account_id, tenant_id=tenant_id,
                                                                created_at=now))
            grant.provider, grant.directory, grant.subject = provider.name, identity.tenant, identity.subject
            grant.scope, grant.access_expires_at, grant.refreshed_at, grant.updated_at = (
                scope, tokens.expires_at, now, now)
            self.secrets.put(s, tenant_id=tenant_id, owner_kind=OWNER, owner_id=account_id, name=REFRESH_TOKEN,
                             value=refresh)
            self.secrets.put(s, tenant_id=tenant_id, owner_kind=OWNER, owner_id=account_id, name=ACCESS_TOKEN,
                             value=tokens.access_token)
            account = AccountRepository(s).get(tenant_id=tenant_id, account_id=account_id)
            if account.status == NEEDS_RECONNECT:
                account.status, account.updated_at = "unverified", now
            if account.transport != transport:
                # A new sign-in under another profile (e.g. SMTP AUTH off → Graph) moves the
                # mailbox to the transport its new grant is for; the old verification no
                # longer says anything about it.
                account.transport, account.status, account.updated_at = transport, "unverified", now
            if transport != "smtp_imap" and (account.imap is None) != (inbox is None):
                # The new grant reads the inbox, or no longer does (profile changed).
                account.imap = inbox if account.imap is None else None
                account.updated_at = now

    # -- tokens for senders --------------------------------------------------------------------

    async def credentials(self, tenant_id: str, account_id: str, *,
                          rejected_token: str | None = None) -> Credentials:
        """The account's settings with a usable secret: its password, or an access token that
        is valid for at least :data:`~mailport.core.oauth.REFRESH_MARGIN`.

        Pass the token a server just refused as ``rejected_token`` to get a refreshed one (once;
        callers retry their operation once with it). Raises
        :class:`~mailport.errors.RemoteAuthError` ``auth.token_invalid`` when the user must
        sign in again (the account is then marked ``needs_reconnect``).
        """
        config, password = await asyncio.to_thread(self.accounts.connection, tenant_id, account_id)
        if config.auth_kind != "oauth2":
            return Credentials(config=config, password=password)
        token = await self.access_token(tenant_id, account_id, rejected_token=rejected_token)
        return Credentials(config=config, password=None, token=token)

    async def access_token(self, tenant_id: str, account_id: str, *, rejected_token: str | None = None) -> str:
        lock = self._locks.setdefault(account_id, asyncio.Lock())
        async with lock:
            grant, access, refresh = await asyncio.to_thread(self._load_tokens, tenant_id, account_id)
            now = self.clock.now()
            if access is not None and grant.access_expires_at is not None:
                current = TokenSet(access_token=access.reveal(), expires_at=grant.access_expires_at)
                if not current.needs_refresh(now) and current.access_token != rejected_token:
                    return current.access_token
                if rejected_token is not None and current.access_token != rejected_token:
                    return current.access_token  # someone refreshed since that token was refused
            if refresh is None:
                await asyncio.to_thread(self._mark_needs_reconnect, tenant_id, account_id, "auth.token_invalid")
                raise RemoteAuthError("this mailbox must be connected again", code="auth.token_invalid",
                                      stage="oauth.token")
            client = self.client(grant.provider)
            try:
                response = await client.refresh(refresh_token=refresh.reveal(), scope=grant.scope or None)
            except RemoteAuthError as exc:
                if exc.code in ("auth.token_invalid", "auth.admin_consent_required", "auth.web_login_required"):
                    await asyncio.to_thread(self._mark_needs_reconnect, tenant_id, account_id, exc.code)
                raise
            tokens = TokenSet.from_response(response, now=self.clock.now())
            new_refresh = response.get("refresh_token")
            await asyncio.to_thread(self._save_refreshed, tenant_id, account_id, tokens,
                                    new_refresh if isinstance(new_refresh, str) and new_refresh else None)
            register_secret(tokens.access_token)
            return tokens.access_token

    def granted_scope(self, tenant_id: str, account_id: str) -> str | None:
        """The scopes the provider granted the account's sign-in (space separated), if any."""
        with self.db.session() as s:
            grant = OAuthGrantRepository(s).get(account_id)
            return grant.scope if grant is not None and grant.tenant_id == tenant_id else None

    def token_source(self, tenant_id: str, account_id: str) -> Callable[..., Awaitable[str]]:
        """The account's access tokens as a provider-API client wants them
        (:class:`mailport.adapters.provider_api.TokenSource`)."""
        async def source(*, rejected_token: str | None = None) -> str:
            return await self.access_token(tenant_id, account_id, rejected_token=rejected_token)
        return source

    def _load_tokens(self, tenant_id: str, account_id: str) -> tuple[OAuthGrant, Secret | None, Secret | None]:
        with self.db.session() as s:
            grant = OAuthGrantRepository(s).get(account_id)
            if grant is None or grant.tenant_id != tenant_id:
                AccountRepository(s).get(tenant_id=tenant_id, account_id=account_id)  # NotFound if gone
                raise RemoteAuthError("this mailbox has no sign-in yet; connect it with its provider",
                                      code="auth.token_invalid", stage="oauth.token")
            s.expunge(grant)
            secret = partial(self.secrets.get, s, tenant_id=tenant_id, owner_kind=OWNER, owner_id=account_id)
            return grant, secret(name=ACCESS_TOKEN), secret(name=REFRESH_TOKEN)

    def _save_refreshed(self, tenant_id: str, account_id: str, tokens: TokenSet, refresh: str | None) -> None:
        now = self.clock.now()
        with self.db.session() as s:
            grant = OAuthGrantRepository(s).get(account_id)
            if grant is None:
                return  # removed meanwhile
            grant.access_expires_at, grant.refreshed_at, grant.updated_at = tokens.expires_at, now, now
            self.secrets.put(s, tenant_id=tenant_id, owner_kind=OWNER, owner_id=account_id, name=ACCESS_TOKEN,
                             value=tokens.access_token)
            if refresh is not None:  # Microsoft rotates refresh tokens; the new one replaces the old
                self.secrets.put(s, tenant_id=tenant_id, owner_kind=OWNER, owner_id=account_id,
                                 name=REFRESH_TOKEN, value=refresh)

    def _mark_needs_reconnect(self, tenant_id: str, account_id: str, reason: str) -> None:
        """Set the account's status and record ``account.needs_reconnect`` — once per episode."""
        now = self.clock.now()
        with self.db.session() as s:
            account = s.get(Account, account_id)
            if account is None or account.tenant_id != tenant_id or account.status == NEEDS_RECONNECT:
                return
            was_working = account.status != "failed"
            account.status, account.updated_at = NEEDS_RECONNECT, now
            account.attention = {"code": reason, "source": "oauth", "at": now.isoformat(), "server_text": None}
            # The access token cannot be trusted either once the grant is gone.
            grant = OAuthGrantRepository(s).get(account_id)
            if grant is not None:
                grant.access_expires_at, grant.updated_at = None, now
            if self.events is not None:
                self.events.record(s, tenant_id=tenant_id, now=now, payload=AccountNeedsReconnect(
                    account_id=account_id, email=account.email, reason=reason))
                if was_working:  # one needs_attention per episode, whoever noticed it
                    self.events.record(s, tenant_id=tenant_id, now=now, payload=AccountNeedsAttention(
                        account_id=account_id, email=account.email, code=reason, source="oauth"))
        log.warning("account %s needs to be connected again (%s)", account_id, reason)

    # -- removal -------------------------------------------------------------------------------

    async def remove_account(self, tenant_id: str, account_id: str) -> bool:
        """Remove an account; for OAuth accounts revoke the grant at the provider first.

        Returns whether the provider confirmed the revocation. A revocation that fails (network,
        provider down) does not keep the account: the user asked to remove it, and the tokens
        are deleted here either way.
        """
        revoked = False
        with self.db.session() as s:
            grant = OAuthGrantRepository(s).get(account_id)
            provider = grant.provider if grant is not None and grant.tenant_id == tenant_id else None
            refresh = (self.secrets.get(s, tenant_id=tenant_id, owner_kind=OWNER, owner_id=account_id,
                                        name=REFRESH_TOKEN) if provider else None)
        if provider and refresh is not None:
            try:
                revoked = await self.client(provider).revoke(token=refresh.reveal())
            except (RemoteError, ConfigurationError) as exc:
                log.warning("revoking the grant of account %s failed: %s", account_id, exc.code)
        await asyncio.to_thread(self.accounts.remove, tenant_id, account_id)
        return revoked

    async def _revoke_quietly(self, client: OAuthClient, token: Any) -> None:
        if not isinstance(token, str) or not token:
            return
        try:
            await client.revoke(token=token)
        except RemoteError as exc:
            log.info("revoking an unused grant failed: %s", exc.code)


def _state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _check_return_url(url: str) -> None:
    reject_control_chars(url, field="return_url")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc or len(url) > 2000:
        raise ValidationError("return_url must be an absolute http(s) URL", field="return_url")


def _wrong_account(wrong: WrongAccount, pending: PendingAuthorization, retry_url: str | None) -> CallbackResult:
    who = "Google" if pending.provider == "google" else "Microsoft"
    return CallbackResult(
        outcome="wrong_account", return_url=pending.return_url, code="oauth.wrong_account",
        signed_in=wrong.signed_in, expected=wrong.expected, retry_url=retry_url,
        message=(f"You signed in to {who} as {wrong.signed_in}, but you wanted to connect {wrong.expected}. "
                 f"Nothing was connected. Try again and choose {wrong.expected} (if {who} picks the "
                 f"account by itself, sign out of {wrong.signed_in} first)."),
    )

