"""Sessions of the web pages: the host product's signed link, the page's own cookie, CSRF tokens.

The web pages have no passwords of their own. The host product, authenticated by its tenant key,
asks for a link (``POST /v1/ui-sessions``) naming its user, the language and where "back" goes,
and sends its user there. Opening the link starts a session held in a cookie.

Both the link and the session are **signed tokens**: ``base64url(JSON) "." base64url(MAC)``
with HMAC-SHA256 under a key derived (HKDF) from ``settings.secret_key``. Each token names its
purpose (``link`` or ``session``), so a link can never be replayed as a cookie or the other way
round. The link lives for minutes and opens **once**: its nonce is recorded in the
:class:`SessionStore` (the database, shared by every process). The session lives for
``settings.ui_session_minutes`` unless it ends first: its id names a row in the store that sign-out
and ``DELETE /v1/ui-sessions?user=…`` revoke, checked on every request. Rotating the secret key
ends all.

CSRF tokens are an HMAC of the session's random id: a forged cross-site form cannot know it, and
it needs no storage either.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets as random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from mailport.adapters.secrets import derived_key
from mailport.clock import Clock
from mailport.core.addresses import reject_control_chars
from mailport.errors import ConfigurationError, Unauthenticated, ValidationError
from mailport.i18n import COMPLETE, DEFAULT, normalize
from mailport.services.tenants import check_time_zone

__all__ = ["LINK_TTL", "IssuedLink", "SessionStore", "UiSession", "UiSessionService", "validate_return_url"]

LINK_TTL = timedelta(minutes=5)
"""Long enough for a redirect, short enough that a leaked link is soon worthless."""

MAX_RETURN_URL = 2000
MAX_USER_NAME = 200
_Purpose = Literal["link", "session"]


@dataclass(frozen=True, slots=True, kw_only=True)
class UiSession:
    """Who is looking at the pages: the tenant, its user's name, language and the way back."""

    tenant_id: str
    user_name: str
    lang: str
    return_url: str | None
    session_id: str
    expires_at: datetime
    time_zone: str = "UTC"
    """IANA name; every time on the pages is shown in it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedLink:
    token: str
    expires_at: datetime
    language: str
    """The language the pages will speak (one of :data:`~mailport.i18n.COMPLETE`)."""


def validate_return_url(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL without credentials, else :class:`ValidationError`.

    Only http(s): a ``javascript:`` or ``data:`` "back" link would run script in our origin.
    """
    if url is None or url == "":
        return None
    if len(url) > MAX_RETURN_URL:
        raise ValidationError("return_url is too long", field="return_url")
    reject_control_chars(url, field="return_url")
    if any(ch.isspace() for ch in url):
        raise ValidationError("return_url must not contain spaces", field="return_url")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValidationError("return_url must be an absolute http(s) URL", field="return_url")
    if parts.username is not None or parts.password is not None:
        raise ValidationError("return_url must not contain a user name or password", field="return_url")
    return url


def _clean_lang(tag: str | None) -> str:
    """A language the pages speak completely for ``tag`` (``nl-BE`` → ``nl``); any other gets
    English — for the page and its diagnoses alike, never a mix (``da`` has diagnoses only)."""
    if tag is None or tag == "":
        return DEFAULT
    if len(tag) > 35:
        raise ValidationError("language is not a language tag", field="language")
    lang = normalize(tag)
    if lang is None and not all(ch.isalnum() or ch in "-_" for ch in tag):
        raise ValidationError("language is not a language tag", field="language")
    return lang if lang in COMPLETE else DEFAULT


def _clean_user_name(name: str) -> str:
    name = reject_control_chars(name, field="user_name").strip()
    if not name:
        raise ValidationError("user_name is required", field="user_name")
    if len(name) > MAX_USER_NAME:
        raise ValidationError(f"user_name is longer than {MAX_USER_NAME} characters", field="user_name")
    return name


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionStore(Protocol):
    """Which links were opened and which sessions are live (database or memory)."""

    def use_link(self, nonce: str, *, expires_at: datetime, now: datetime) -> bool: ...

    def start(self, *, session_id: str, tenant_id: str, user_name: str, now: datetime,
              expires_at: datetime) -> None: ...

    def is_live(self, session_id: str, *, now: datetime) -> bool: ...

    def revoke(self, session_id: str, *, now: datetime) -> None: ...

    def revoke_user(self, *, tenant_id: str, user_name: str, now: datetime) -> int: ...


class UiSessionService:
    """Issues and checks links, session tokens and CSRF tokens."""

    def __init__(self, *, secret_key: str, clock: Clock, session_ttl: timedelta, store: SessionStore,
                 link_ttl: timedelta = LINK_TTL) -> None:
        if not secret_key:
            raise ConfigurationError("the web pages need MAILPORT_SECRET_KEY to sign their sessions")
        self._key = derived_key(secret_key, b"mailport ui-sessions v1")
        self._clock = clock
        self._store = store
        self._session_ttl = session_ttl
        self._link_ttl = link_ttl

    # -- the host product's link -------------------------------------------------------------

    def issue_link(self, *, tenant_id: str, user_name: str, language: str | None,
                   return_url: str | None, time_zone: str | None = None) -> IssuedLink:
        """A signed link token for the host's user; raises :class:`ValidationError` for bad input."""
        expires = int((self._clock.now() + self._link_ttl).timestamp())
        payload: dict[str, Any] = {
            "p": "link", "t": tenant_id, "u": _clean_user_name(user_name), "l": _clean_lang(language),
            "r": validate_return_url(return_url), "e": expires, "n": random.token_urlsafe(9),
            "z": check_time_zone(time_zone) if time_zone else "UTC",
        }
        return IssuedLink(token=self._sign(payload), expires_at=_from_ts(expires), language=payload["l"])

    def open_link(self, token: str) -> UiSession:
        """The new session a valid, unexpired, not yet opened link starts; :class:`Unauthenticated`
        otherwise (code ``ui.used`` for a link opened before)."""
        data = self._verify(token, purpose="link")
        now = self._clock.now()
        nonce = data.get("n")
        if not isinstance(nonce, str) or not self._store.use_link(nonce, expires_at=_from_ts(data["e"]), now=now):
            raise Unauthenticated("this link was used already", code="ui.used")
        session = UiSession(
            tenant_id=data["t"], user_name=data["u"], lang=data["l"], return_url=data["r"],
            session_id=random.token_urlsafe(16), time_zone=data.get("z", "UTC"),
            expires_at=_from_ts(int((now + self._session_ttl).timestamp())),
        )
        self._store.start(session_id=session.session_id, tenant_id=session.tenant_id,
                          user_name=session.user_name, now=now, expires_at=session.expires_at)
        return session

    def sign_out(self, session: UiSession) -> None:
        self._store.revoke(session.session_id, now=self._clock.now())

    def revoke_user(self, *, tenant_id: str, user_name: str) -> int:
        """End every live session of the host's user ``user_name``; how many there were."""
        return self._store.revoke_user(tenant_id=tenant_id, user_name=_clean_user_name(user_name),
                                       now=self._clock.now())

    # -- the page's own cookie ---------------------------------------------------------------

    def session_token(self, session: UiSession) -> str:
        return self._sign({
            "p": "session", "t": session.tenant_id, "u": session.user_name, "l": session.lang,
            "r": session.return_url, "e": int(session.expires_at.timestamp()), "s": session.session_id,
            "z": session.time_zone,
        })

    def read_session(self, token: str | None) -> UiSession:
        data = self._verify(token, purpose="session")
        if not self._store.is_live(str(data.get("s")), now=self._clock.now()):
            raise Unauthenticated("this session has ended", code="ui.expired")
        return UiSession(tenant_id=data["t"], user_name=data["u"], lang=data["l"], return_url=data["r"],
                         session_id=data["s"], expires_at=_from_ts(data["e"]), time_zone=data.get("z", "UTC"))

    def with_language(self, session: UiSession, lang: str) -> UiSession:
        """The same session in another supported language (the language menu)."""
        if lang not in COMPLETE:
            raise ValidationError("unsupported language", field="lang")
        return UiSession(tenant_id=session.tenant_id, user_name=session.user_name, lang=lang,
                         return_url=session.return_url, session_id=session.session_id,
                         expires_at=session.expires_at, time_zone=session.time_zone)

    # -- CSRF ----------------------------------------------------------------------------------

    def csrf_token(self, session: UiSession) -> str:
        return _b64(hmac.new(self._key, b"csrf\0" + session.session_id.encode(), hashlib.sha256).digest())

    def check_csrf(self, session: UiSession, presented: str | None) -> None:
        if not presented or not hmac.compare_digest(presented, self.csrf_token(session)):
            raise Unauthenticated("the form's security token is missing or wrong; reload the page",
                                  code="ui.csrf")

    # -- internals -------------------------------------------------------------------------------

    def _sign(self, payload: dict[str, Any]) -> str:
        body = _b64(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
        mac = hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest()
        return f"{body}.{_b64(mac)}"

    def _verify(self, token: str | None, *, purpose: _Purpose) -> dict[str, Any]:
        expired = Unauthenticated("this link or session has expired", code="ui.expired")
        invalid = Unauthenticated("this link or session is not valid", code="ui.invalid")
        if not token or len(token) > 4096 or token.count(".") != 1:
            raise invalid
        body, mac = token.split(".")
        expected = hmac.new(self._key, body.encode("ascii", "replace"), hashlib.sha256).digest()
        try:
            presented = _unb64(mac)
            data = json.loads(_unb64(body))
        except (ValueError, UnicodeDecodeError):
            raise invalid from None
        if not hmac.compare_digest(presented, expected):
            raise invalid
        if not isinstance(data, dict) or data.get("p") != purpose:
            raise invalid
        if not isinstance(data.get("e"), int) or self._clock.now().timestamp() >= data["e"]:
            raise expired
        return data


def _from_ts(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)
