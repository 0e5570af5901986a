"""How a connected mailbox sends (and reads): its transport, and the OAuth scopes behind it.

A mailbox signed in with Google or Microsoft can be driven two ways:

* ``smtp_imap`` — SMTP submission and IMAP with XOAUTH2, as for any other mailbox. Google asks
  for ``https://mail.google.com/`` for that, a *restricted* scope (a yearly third-party security
  assessment, CASA, before an app may serve more than 100 users); Microsoft needs SMTP AUTH,
  which many Microsoft 365 tenants switch off.
* ``gmail_api`` / ``graph`` — the provider's own HTTP API: ``users.messages.send`` with
  ``gmail.send`` (only *sensitive*: brand verification, no audit) or Graph ``sendMail`` with the
  delegated ``Mail.Send``. Reading the inbox adds ``gmail.readonly`` (restricted) or
  ``Mail.Read``.

The operator picks a :data:`ScopeProfile` per provider (settings
``MAILPORT_OAUTH_GOOGLE_SCOPE_PROFILE`` / ``…_MICROSOFT_…``): ``send`` (the default),
``send_and_inbox`` or ``imap_smtp``. The profile decides the scopes asked for and so the
transport of the account the sign-in creates. The scopes the provider actually *granted*
(users can untick boxes on Google's consent screen) decide what works: :func:`can_send` /
:func:`can_read_inbox`.

Pure: no I/O. What the user is told about the permissions of each profile lives with the web
pages (``web/labels.py``, ``OAUTH_PERMISSIONS``).
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from mailport.errors import ValidationError

__all__ = [
    "API_TRANSPORTS",
    "DEFAULT_PROFILE",
    "GMAIL_READONLY",
    "GMAIL_SEND",
    "GOOGLE_MAIL",
    "GRAPH_MAIL_READ",
    "GRAPH_MAIL_READWRITE",
    "GRAPH_MAIL_SEND",
    "SCOPE_PROFILES",
    "TRANSPORTS",
    "ScopeProfile",
    "TransportName",
    "can_delete_mail",
    "can_read_inbox",
    "can_send",
    "check_profile",
    "files_sent_copy",
    "scopes_for",
    "transport_for",
]

TransportName = Literal["smtp_imap", "gmail_api", "graph"]
TRANSPORTS: Final[tuple[TransportName, ...]] = get_args(TransportName)
API_TRANSPORTS: Final[frozenset[str]] = frozenset({"gmail_api", "graph"})

ScopeProfile = Literal["send", "send_and_inbox", "imap_smtp"]
SCOPE_PROFILES: Final[tuple[ScopeProfile, ...]] = get_args(ScopeProfile)
DEFAULT_PROFILE: Final[ScopeProfile] = "send"

GOOGLE_MAIL: Final = "https://mail.google.com/"
GMAIL_SEND: Final = "https://www.googleapis.com/auth/gmail.send"
GMAIL_READONLY: Final = "https://www.googleapis.com/auth/gmail.readonly"
GRAPH_MAIL_SEND: Final = "https://graph.microsoft.com/Mail.Send"
GRAPH_MAIL_READ: Final = "https://graph.microsoft.com/Mail.Read"
GRAPH_MAIL_READWRITE: Final = "https://graph.microsoft.com/Mail.ReadWrite"
_MS_SMTP: Final = "https://outlook.office.com/SMTP.Send"
_MS_IMAP: Final = "https://outlook.office.com/IMAP.AccessAsUser.All"

# Google has no ``offline_access`` scope (it answers ``invalid_scope``): its refresh token comes
# from ``access_type=offline`` on the authorization request (see core.oauth.build_provider).
_SCOPES: Final[dict[tuple[str, ScopeProfile], tuple[str, ...]]] = {
    ("google", "send"): (GMAIL_SEND, "openid", "email"),
    ("google", "send_and_inbox"): (GMAIL_SEND, GMAIL_READONLY, "openid", "email"),
    ("google", "imap_smtp"): (GOOGLE_MAIL, "openid", "email"),
    # Graph takes at most 4 MB per request: a bigger message (an invoice with a large PDF) is
    # sent as a draft plus an attachment upload session, which Microsoft allows with
    # ``Mail.ReadWrite`` only (user consent, no admin approval). There is no send-only way.
    ("microsoft", "send"): (GRAPH_MAIL_SEND, GRAPH_MAIL_READWRITE, "offline_access", "openid", "email"),
    ("microsoft", "send_and_inbox"): (GRAPH_MAIL_SEND, GRAPH_MAIL_READWRITE, GRAPH_MAIL_READ, "offline_access",
                                      "openid", "email"),
    ("microsoft", "imap_smtp"): (_MS_SMTP, _MS_IMAP, "offline_access", "openid", "email"),
}


def check_profile(value: str) -> ScopeProfile:
    if value not in SCOPE_PROFILES:
        raise ValidationError(f"unknown scope profile {value!r}; use {', '.join(SCOPE_PROFILES)}",
                              code="oauth.unknown_scope_profile", field="scope_profile")
    return value


def scopes_for(provider: str, profile: str) -> tuple[str, ...]:
    """The scopes a sign-in with ``provider`` asks for under ``profile``."""
    try:
        return _SCOPES[(provider, check_profile(profile))]
    except KeyError:
        raise ValidationError(f"unknown OAuth provider {provider!r}", code="oauth.unknown_provider",
                              field="provider") from None


def transport_for(provider: str, profile: str) -> TransportName:
    """The transport of a mailbox signed in with ``provider`` under ``profile``."""
    if check_profile(profile) == "imap_smtp":
        return "smtp_imap"
    return "gmail_api" if provider == "google" else "graph"


def _granted(scope: str | None) -> set[str]:
    # Microsoft answers with bare names ("Mail.Send") or full URIs depending on the resource.
    names = set()
    for item in (scope or "").split():
        names.add(item)
        names.add(item.rsplit("/", 1)[-1] if item.startswith("https://graph.microsoft.com/") else item)
    return names


def can_send(transport: str, granted_scope: str | None) -> bool:
    granted = _granted(granted_scope)
    if transport == "gmail_api":
        return bool(granted & {GMAIL_SEND, GOOGLE_MAIL, "https://www.googleapis.com/auth/gmail.modify",
                               "https://www.googleapis.com/auth/gmail.compose"})
    if transport == "graph":
        return bool(granted & {GRAPH_MAIL_SEND, "Mail.Send"})
    return True


def can_read_inbox(transport: str, granted_scope: str | None) -> bool:
    """Whether the grant lets mailport read the inbox through the API of ``transport``."""
    granted = _granted(granted_scope)
    if transport == "gmail_api":
        return bool(granted & {GMAIL_READONLY, GOOGLE_MAIL, "https://www.googleapis.com/auth/gmail.modify"})
    if transport == "graph":
        return bool(granted & {GRAPH_MAIL_READ, "Mail.Read", "Mail.ReadWrite",
                               "https://graph.microsoft.com/Mail.ReadWrite"})
    return False


def can_delete_mail(transport: str, granted_scope: str | None) -> bool:
    """Whether the grant lets mailport remove a message through the API of ``transport`` (the
    found verification test mail): Gmail ``gmail.modify`` (trash) or full access; Graph
    ``Mail.ReadWrite``. ``gmail.readonly`` and ``Mail.Read`` only look."""
    granted = _granted(granted_scope)
    if transport == "gmail_api":
        return bool(granted & {GOOGLE_MAIL, "https://www.googleapis.com/auth/gmail.modify"})
    if transport == "graph":
        return bool(granted & {"Mail.ReadWrite", GRAPH_MAIL_READWRITE})
    return False


def files_sent_copy(transport: str) -> bool:
    """Gmail files what ``messages.send`` sends; Graph does with ``saveToSentItems``."""
    return transport in API_TRANSPORTS

