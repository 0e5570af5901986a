"""Providers' own documented meanings of their replies, read first when the account's provider is
known (:func:`.providers.provider_family`: the address's domain, the account's host or discovery's
provider id).

A reply can mean something precise at one provider that the words alone do not say: Aruba calls
its sending-rate cap a "policy violation", KPN's "blacklisted" is a lock after failed sign-ins,
Gmail's old ``535 5.7.1`` is its "username and password not accepted". Each row cites the
provider's help or postmaster page where the meaning is written down. Rows whose pattern carries
the provider's own mark (its help link) hold whatever account the reply was pasted for.

Only replies of the provider's *own* servers (sign-in, submission) belong here: a recipient's
server answers for itself, whoever the sender's provider is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = ["PROVIDER_CODES", "ProviderCode", "provider_code"]


@dataclass(frozen=True, slots=True)
class ProviderCode:
    """``pattern`` (case-insensitive, on the flattened reply) means ``code`` at ``family``;
    ``family`` ``None``: the pattern names the provider itself (its help link)."""

    family: str | None
    pattern: re.Pattern[str]
    code: str
    source: str


def _row(family: str | None, pattern: str, code: str, source: str) -> ProviderCode:
    return ProviderCode(family, re.compile(pattern, re.IGNORECASE), code, source)


def _google(pattern: str, code: str, source: str) -> tuple[ProviderCode, ProviderCode]:
    """A row for both of Google's families: Gmail and Google Workspace answer from the same servers."""
    return _row("gmail", pattern, code, source), _row("google_workspace", pattern, code, source)


PROVIDER_CODES: Final[tuple[ProviderCode, ...]] = (
    # --- Google (Gmail, Google Workspace) ----------------------------------------------------
    *_google(r"\b534[- ]5\.7\.9\b", "auth.app_password_required",
             "support.google.com/a/answer/3726730: 534 5.7.9 Application-specific password required"),
    _row("gmail", r"\b535[- ]5\.7\.[18]\b", "auth.app_password_required",
         "support.google.com/mail/?p=BadCredentials (linked from the reply): since 'less secure apps' ended"
         " in 2022 only an app password or 'Sign in with Google' works from other programs"),
    _row("google_workspace", r"\b535[- ]5\.7\.[18]\b", "auth.app_password_required",
         "Google Workspace admin help, 'Transition from less secure apps to OAuth' (2024-2025)"),
    _row(None, r"\b535[- ]5\.7\.1\b.{0,40}support\.google\.com/mail/bin/answer\.py\?answer=14257",
         "auth.app_password_required",
         "support.google.com/mail/answer/14257: Gmail's older 'username and password not accepted'"),
    *_google(r"\b534[- ]5\.7\.14\b", "auth.web_login_required",
             "support.google.com/a/answer/3726730: 534 5.7.14 Please log in via your web browser"),
    # --- Microsoft (Exchange Online / Microsoft 365; Outlook.com) ----------------------------
    _row("microsoft365", r"\b5\.7\.139\b.{0,80}SmtpClientAuthentication is disabled", "auth.smtp_auth_disabled",
         "learn.microsoft.com, 'Enable or disable SMTP AUTH in Exchange Online' (authenticated client SMTP"
         " submission)"),
    _row("microsoft365", r"\b5\.7\.57\b", "auth.smtp_auth_disabled",
         "learn.microsoft.com: 5.7.57 client not authenticated to send mail (SMTP AUTH)"),
    _row("microsoft365", r"\b5\.7\.60\b", "send.sender_not_allowed",
         "learn.microsoft.com: 5.7.60 client does not have permissions to send as this sender"),
    _row("outlook", r"\b5\.7\.(?:3|139) Authentication unsuccessful(?:\s*\[[^\]]*\])?\s*$",
         "auth.password_login_disabled",
         "support.microsoft.com, 'Modern authentication methods now needed to continue syncing Outlook"
         " email in non-Microsoft email apps' (basic sign-in ended 16 Sep 2024)"),
    # --- Yahoo / AOL -------------------------------------------------------------------------
    _row("yahoo", r"#AUTH005|#MBR1212", "auth.app_password_required",
         "help.yahoo.com, 'Generate and manage third-party app passwords'"),
    # Yahoo's own id on its IMAP sign-in refusal names the provider wherever the address is hosted
    # (session 8: a Yahoo mailbox under the user's own domain). Not "#AUTH005": without a Yahoo
    # address it also comes with "Too many bad auth attempts" (the corpus's too-many-attempts reply).
    _row(None, r"#MBR1212", "auth.app_password_required",
         "help.yahoo.com, 'Generate and manage third-party app passwords'"),
    # --- Apple iCloud ------------------------------------------------------------------------
    _row("icloud", r"\b535\b(?!.{0,60}too many)|AUTHENTICATIONFAILED", "auth.app_password_required",
         "support.apple.com, 'Sign in to apps with your Apple Account using app-specific passwords'"),
    # --- GMX / WEB.DE, T-Online, Libero: refused passwords have their own advice variants -----
    # --- Aruba -------------------------------------------------------------------------------
    _row("aruba", r"\bpolicy violation\b", "server.rate_limited",
         "guide.arubabusiness.it, errori comuni invio e ricezione posta: 'policy violation' is the sending"
         " limit"),
    _row(None, r"policy violation, see https?://support\.forpsi\.com", "server.rate_limited",
         "support.forpsi.com/kb/a4081 (Aruba group): 'policy violation' is the sending-rate cap"),
    # --- KPN ---------------------------------------------------------------------------------
    _row("kpn", r"\bblacklisted\b", "auth.too_many_attempts",
         "blacklist.kpnmail.nl/Help/17: the address is blocked after repeated failed sign-ins"),
    _row(None, r"blacklisted, please see https?://blacklist\.kpnmail\.nl/Help/17", "auth.too_many_attempts",
         "blacklist.kpnmail.nl/Help/17: the address is blocked after repeated failed sign-ins"),
)


def provider_code(flat: str, *, family: str | None) -> ProviderCode | None:
    """The first documented meaning of the flattened reply ``flat`` at ``family`` (or one whose
    pattern names its provider), or ``None``."""
    for row in PROVIDER_CODES:
        if (row.family is None or row.family == family) and row.pattern.search(flat):
            return row
    return None
