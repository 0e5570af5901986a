"""OAuth 2.0 sign-in for Google and Microsoft mailboxes, as pure data and decisions.

What lives here (no sockets, clock or randomness — callers pass ``now`` and random values in):

* :class:`OAuthProvider` — endpoints, scopes and extra authorization parameters of ``google``
  and ``microsoft`` (tenant ``common`` / ``organizations`` / ``consumers`` / a tenant id), with
  per-endpoint overrides so an operator (or a test) can point them elsewhere;
* :class:`PendingAuthorization` — the record kept between "start" and "callback" (state, PKCE
  verifier, nonce, login hint, where to return), single use and short-lived;
* :class:`TokenSet` expiry math — refresh *ahead* of expiry so a token never dies mid-send;
* :func:`identity_from_claims` — which mailbox the user actually signed in to (ID token), and
  :func:`check_expected_identity` — the "wrong Google account" guard;
* :func:`token_error_code` — token-endpoint errors (``invalid_grant``, ``AADSTS…``) as
  diagnosis codes.
"""

from __future__ import annotations

import re
from base64 import b64encode
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Final, Literal
from urllib.parse import urlencode

from mailport.core import providers
from mailport.core.addresses import parse_address
from mailport.errors import AddressError, ValidationError

__all__ = [
    "GOOGLE_SCOPES",
    "MICROSOFT_SCOPES",
    "OAUTHBEARER_FAILURE_ACK",
    "PENDING_TTL",
    "REFRESH_MARGIN",
    "Identity",
    "OAuthProvider",
    "PendingAuthorization",
    "ProviderName",
    "TokenSet",
    "WrongAccount",
    "admin_consent_url",
    "build_provider",
    "check_expected_identity",
    "default_servers",
    "expected_issuer",
    "identity_from_claims",
    "oauthbearer_initial_response",
    "token_error_code",
    "xoauth2_initial_response",
]

ProviderName = Literal["google", "microsoft"]
PROVIDERS: Final[tuple[ProviderName, ...]] = ("google", "microsoft")

GOOGLE_SCOPES: Final = ("https://mail.google.com/", "openid", "email")
MICROSOFT_SCOPES: Final = (
    "https://outlook.office.com/SMTP.Send",
    "https://outlook.office.com/IMAP.AccessAsUser.All",
    "offline_access",
    "openid",
    "email",
)

PENDING_TTL: Final = timedelta(minutes=15)
"""How long a started sign-in may take; the provider's own login page rarely needs more."""

REFRESH_MARGIN: Final = timedelta(minutes=5)
"""Refresh an access token this long before it expires: a send or an IMAP session that starts
with a token about to die would fail half-way (servers check the token at AUTH only, but a
verification runs SMTP then IMAP a minute later)."""

_MS_TENANT = re.compile(r"^(common|organizations|consumers|[0-9a-fA-F-]{36}|[A-Za-z0-9.-]{1,253})$")
_MS_AUTHORITY = "https://login.microsoftonline.com"
# Google issues ID tokens with either spelling of its issuer.
_GOOGLE_ISSUERS: Final = ("https://accounts.google.com", "accounts.google.com")


@dataclass(frozen=True, slots=True, kw_only=True)
class OAuthProvider:
    """One configured authorization server.

    ``issuer`` may contain ``{tenantid}`` (Microsoft's multi-tenant endpoints): the real issuer
    is then the one of the tenant the user belongs to, named by the ID token's ``tid`` claim.
    ``revocation_url`` is ``None`` where the provider has no RFC 7009 endpoint (Microsoft).
    """

    name: ProviderName
    client_id: str
    client_secret: str = field(repr=False)
    redirect_url: str
    authorization_url: str
    token_url: str
    jwks_url: str
    issuer: str
    revocation_url: str | None
    scopes: tuple[str, ...]
    tenant: str | None = None
    extra_authorize_params: tuple[tuple[str, str], ...] = ()

    @property
    def scope(self) -> str:
        return " ".join(self.scopes)

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self.redirect_url)


def build_provider(
    name: str,
    *,
    client_id: str,
    client_secret: str,
    redirect_url: str,
    tenant: str = "common",
    overrides: Mapping[str, str] | None = None,
) -> OAuthProvider:
    """The provider ``name`` with the operator's app registration and endpoint overrides.

    ``overrides`` keys: ``authorization_url``, ``token_url``, ``revocation_url``, ``jwks_url``,
    ``issuer``; empty values keep the provider's real endpoint.
    """
    if name == "google":
        provider = OAuthProvider(
            name="google", client_id=client_id, client_secret=client_secret,
            redirect_url=redirect_url,
            authorization_url="https://accounts.google.com/o/oauth2/v2/auth",
            token_url="https://oauth2.googleapis.com/token",
            jwks_url="https://www.googleapis.com/oauth2/v3/certs",
            issuer=_GOOGLE_ISSUERS[0],
            revocation_url="https://oauth2.googleapis.com/revoke",
            scopes=GOOGLE_SCOPES,
            # offline: a refresh token; consent: Google only returns the refresh token on a
            # consent screen; select_account: the account chooser, so a browser signed in to
            # several Google accounts does not silently pick the wrong one.
            extra_authorize_params=(("access_type", "offline"), ("prompt", "select_account consent")),
        )
    elif name == "microsoft":
        if not _MS_TENANT.fullmatch(tenant or ""):
            raise ValidationError("the Microsoft tenant must be common, organizations, consumers or a tenant id",
                                  field="tenant")
        base = f"{_MS_AUTHORITY}/{tenant}"
        provider = OAuthProvider(
            name="microsoft", client_id=client_id, client_secret=client_secret,
            redirect_url=redirect_url,
            authorization_url=f"{base}/oauth2/v2.0/authorize",
            token_url=f"{base}/oauth2/v2.0/token",
            jwks_url=f"{base}/discovery/v2.0/keys",
            issuer=(f"{_MS_AUTHORITY}/{{tenantid}}/v2.0" if tenant in ("common", "organizations", "consumers")
                    else f"{_MS_AUTHORITY}/{tenant}/v2.0"),
            revocation_url=None,
            scopes=MICROSOFT_SCOPES,
            tenant=tenant,
            extra_authorize_params=(("prompt", "select_account"),),
        )
    else:
        raise ValidationError(f"unknown OAuth provider {name!r}; use google or microsoft",
                              code="oauth.unknown_provider", field="provider")
    changes = {k: v for k, v in (overrides or {}).items() if v}
    unknown = set(changes) - {"authorization_url", "token_url", "revocation_url", "jwks_url", "issuer"}
    if unknown:
        raise ValidationError(f"unknown OAuth endpoint override(s): {', '.join(sorted(unknown))}")
    return replace(provider, **changes) if changes else provider  # type: ignore[arg-type]


def admin_consent_url(provider: OAuthProvider) -> str | None:
    """Where a Microsoft 365 administrator grants this app for the whole organisation
    (``auth.admin_consent_required``); ``None`` for providers without admin consent."""
    if provider.name != "microsoft":
        return None
    # Admin consent is per organisation: "common"/"consumers" cannot grant it.
    base, _, _ = provider.authorization_url.partition("/oauth2/")
    if provider.tenant in ("common", "consumers") and base.endswith("/" + provider.tenant):
        base = base[: -len(provider.tenant)] + "organizations"
    query = urlencode({"client_id": provider.client_id, "redirect_uri": provider.redirect_url,
                       "scope": " ".join(s for s in provider.scopes if s.startswith("https://"))})
    return f"{base}/v2.0/adminconsent?{query}"


# --- the pending authorization ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingAuthorization:
    """What the callback needs to finish a sign-in started by :func:`start`.

    ``state`` is the opaque value in the redirect (CSRF protection and the key of this record);
    ``code_verifier`` the PKCE secret whose S256 hash went to the provider; ``nonce`` binds the
    ID token to this sign-in. ``login_hint`` is the address the user meant to connect;
    ``account_id`` is set when an existing account reconnects.
    """

    state: str
    tenant_id: str
    provider: ProviderName
    code_verifier: str = field(repr=False)
    nonce: str
    created_at: datetime
    login_hint: str | None = None
    return_url: str | None = None
    account_id: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def expires_at(self) -> datetime:
        return self.created_at + PENDING_TTL

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at


# --- tokens ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenSet:
    """An access token and when it stops working; the refresh token travels separately."""

    access_token: str = field(repr=False)
    expires_at: datetime

    @classmethod
    def from_response(cls, response: Mapping[str, Any], *, now: datetime) -> TokenSet:
        """From a token endpoint answer (``expires_in`` seconds; providers send 3599 or so).

        A missing ``expires_in`` is taken as one hour — both providers' documented lifetime —
        rather than "never": refreshing too early costs a request, too late costs a send.
        """
        token = response.get("access_token")
        if not isinstance(token, str) or not token:
            raise ValidationError("the token endpoint returned no access token", code="oauth.bad_response")
        try:
            seconds = int(response.get("expires_in") or 3600)
        except (TypeError, ValueError):
            seconds = 3600
        return cls(access_token=token, expires_at=now + timedelta(seconds=max(0, seconds)))

    def needs_refresh(self, now: datetime, *, margin: timedelta = REFRESH_MARGIN) -> bool:
        return now + margin >= self.expires_at


# --- who signed in -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    """The mailbox a sign-in proved access to: its address and the provider's stable user id."""

    email: str
    subject: str
    tenant: str | None = None  # Microsoft directory (``tid``)


def expected_issuer(provider: OAuthProvider, claims: Mapping[str, Any]) -> tuple[str, ...]:
    """Issuer values an ID token of ``provider`` may carry (Microsoft: per the token's tenant)."""
    if "{tenantid}" in provider.issuer:
        tid = claims.get("tid")
        if not isinstance(tid, str) or not re.fullmatch(r"[0-9A-Za-z-]{1,64}", tid):
            return ()
        return (provider.issuer.replace("{tenantid}", tid),)
    if provider.name == "google" and provider.issuer in _GOOGLE_ISSUERS:
        return _GOOGLE_ISSUERS
    return (provider.issuer,)


def identity_from_claims(provider: OAuthProvider, claims: Mapping[str, Any]) -> Identity:
    """The signed-in mailbox from validated ID token claims.

    Google: ``email`` must be there and ``email_verified`` true — an unverified address could be
    anybody's. Microsoft: ``email`` is optional in Entra tokens; work accounts then carry the
    sign-in name (``preferred_username``, the UPN, which is the mailbox address for Exchange
    Online users), so that is the fallback when it is an address.
    """
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise ValidationError("the ID token has no subject", code="oauth.bad_id_token")
    candidates: list[Any] = [claims.get("email")]
    if provider.name == "microsoft":
        candidates.append(claims.get("preferred_username"))
    elif claims.get("email_verified") in (False, "false"):
        raise ValidationError("the provider has not verified this account's email address",
                              code="oauth.email_unverified")
    for value in candidates:
        if isinstance(value, str) and "@" in value:
            try:
                address = parse_address(value)
            except AddressError:
                continue
            tid = claims.get("tid")
            return Identity(email=address.email, subject=subject, tenant=tid if isinstance(tid, str) else None)
    raise ValidationError("the sign-in did not tell which email address it belongs to",
                          code="oauth.no_email")


@dataclass(frozen=True, slots=True, kw_only=True)
class WrongAccount:
    """The user signed in to ``signed_in`` although they meant ``expected``."""

    expected: str
    signed_in: str


def check_expected_identity(identity: Identity, *, login_hint: str | None,
                            account_email: str | None = None) -> WrongAccount | None:
    """A :class:`WrongAccount` when the sign-in is not for the mailbox the user asked for.

    Addresses compare by their normalized key (case of the domain, IDNA). A reconnect of an
    existing account must come back with that account's address, whatever the hint said.
    """
    wanted = account_email or login_hint
    if not wanted:
        return None
    if parse_address(wanted).key == parse_address(identity.email).key:
        return None
    return WrongAccount(expected=parse_address(wanted).email, signed_in=identity.email)


def default_servers(provider: ProviderName, email: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """``(provider_id, smtp, imap)`` settings for a mailbox signed in through ``provider``.

    Google: Gmail and Workspace share one host pair. Microsoft: Outlook.com addresses use
    ``smtp-mail.outlook.com``, everything else is a Microsoft 365 mailbox.
    """
    domain = parse_address(email).domain
    if provider == "google":
        found = providers.find_by_domain(domain)
        entry = found if found is not None and found.id == "gmail" else providers.get("google_workspace")
    else:
        found = providers.find_by_domain(domain)
        entry = found if found is not None and found.id == "outlook" else providers.get("microsoft365")
    assert entry.smtp is not None and entry.imap is not None
    smtp = {"host": entry.smtp.host, "port": entry.smtp.port, "security": entry.smtp.security}
    imap = {"host": entry.imap.host, "port": entry.imap.port, "security": entry.imap.security}
    return entry.id, smtp, imap


# --- errors of the token endpoint ----------------------------------------------------------------

_AADSTS_RE = re.compile(r"AADSTS(\d{5,7})")
_AADSTS_CODES: Final[dict[str, str]] = {
    "65001": "auth.admin_consent_required",
    "65004": "auth.admin_consent_required",
    "90094": "auth.admin_consent_required",
    "90099": "auth.admin_consent_required",
    "50105": "auth.admin_consent_required",
    "53003": "auth.admin_consent_required",
    "70000": "auth.token_invalid",
    "70008": "auth.token_invalid",
    "700082": "auth.token_invalid",
    "700084": "auth.token_invalid",
    "50173": "auth.token_invalid",
    "50133": "auth.token_invalid",
    "70043": "auth.token_invalid",
    "50076": "auth.web_login_required",
    "50079": "auth.web_login_required",
    "50057": "send.account_blocked",
}


def token_error_code(error: str | None, description: str | None = None) -> str:
    """Diagnosis code for an OAuth error answer (RFC 6749 §5.2, plus Microsoft's AADSTS numbers).

    ``invalid_grant`` means the refresh token (or code) is expired or revoked: the user must
    sign in again (``auth.token_invalid``). ``consent_required`` / ``interaction_required``
    with an admin-consent AADSTS number means an administrator must approve the app.
    Client misconfiguration (``invalid_client``, ``unauthorized_client``) is the operator's
    problem, not the user's: ``oauth.client_misconfigured``.
    """
    found = _AADSTS_RE.search(description or "")
    if found and found.group(1) in _AADSTS_CODES:
        return _AADSTS_CODES[found.group(1)]
    match error:
        case "invalid_grant":
            return "auth.token_invalid"
        case "consent_required":
            return "auth.admin_consent_required"
        case "access_denied":
            return "oauth.access_denied"
        case "interaction_required" | "login_required":
            return "auth.web_login_required"
        case "invalid_client" | "unauthorized_client" | "unsupported_grant_type" | "invalid_scope":
            return "oauth.client_misconfigured"
        case "temporarily_unavailable" | "server_error":
            return "server.temporary_failure"
    return "unknown"


# --- SASL for bearer tokens ----------------------------------------------------------------------

OAUTHBEARER_FAILURE_ACK: Final = b"AQ=="
"""RFC 7628 §3.2.3: after an error challenge the client answers a single %x01 (base64 ``AQ==``)
and the server then sends its final failure reply."""


def xoauth2_initial_response(username: str, token: str) -> bytes:
    """Base64 of ``user=<u>^Aauth=Bearer <t>^A^A`` (Google's and Microsoft's XOAUTH2)."""
    return b64encode(f"user={username}\x01auth=Bearer {token}\x01\x01".encode())


def oauthbearer_initial_response(username: str, token: str, *, host: str | None = None,
                                 port: int | None = None) -> bytes:
    """Base64 of the RFC 7628 client response: GS2 header with the authorization identity
    (``,`` and ``=`` escaped as ``=2C`` / ``=3D``), then ``host``/``port``/``auth`` key-values."""
    authzid = username.replace("=", "=3D").replace(",", "=2C")
    pairs = "".join(f"{k}={v}\x01" for k, v in (("host", host), ("port", port)) if v is not None)
    return b64encode(f"n,a={authzid},\x01{pairs}auth=Bearer {token}\x01\x01".encode())
