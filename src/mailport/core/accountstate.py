"""One state per mailbox, whichever part of mailport learnt it.

The verification, a send and an inbox sync each learn something about a mailbox. The user sees
one of three states everywhere (Settings, Outbox, Inbox, ``GET /v1/accounts``):

- ``working``         the last thing that talked to the server succeeded;
- ``needs_attention`` the last thing failed for a reason the business must fix (password, app
  password, server name, TLS mode, a sender the server refuses) — with that diagnosis;
- ``not_tested``      nothing has talked to the server yet.

A failure that says nothing about the mailbox (a recipient unknown, a message too large, a
timeout that the retry will ride out) leaves the state as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["MAILBOX_PROBLEMS", "Change", "State", "decide", "is_mailbox_problem", "state_of"]

State = Literal["working", "needs_attention", "not_tested"]

# The stored ``status`` (older values kept for compatibility) → the state shown.
_STATE_OF_STATUS: Final[dict[str, State]] = {
    "verified": "working", "sent_unconfirmed": "working",
    "failed": "needs_attention", "needs_reconnect": "needs_attention",
    "unverified": "not_tested",
}

# Diagnosis codes that only the business can fix, on its side of the mailbox.
MAILBOX_PROBLEMS: Final = frozenset({
    "auth.app_password_required", "auth.invalid_credentials", "auth.web_login_required",
    "auth.password_login_disabled", "auth.smtp_auth_disabled", "auth.imap_disabled",
    "auth.token_invalid", "auth.admin_consent_required",
    "send.sender_not_allowed", "send.account_blocked",
    "tls.starttls_required", "tls.mode_mismatch", "tls.certificate_invalid",
    "net.host_not_found", "net.wrong_service", "request.insecure_auth",
})


def state_of(status: str) -> State:
    return _STATE_OF_STATUS.get(status, "not_tested")


def is_mailbox_problem(code: str | None) -> bool:
    return code in MAILBOX_PROBLEMS


@dataclass(frozen=True, slots=True)
class Change:
    """What to store after an outcome: the new status, and whether this starts a new episode of
    trouble (the ``account.needs_attention`` webhook fires once per episode)."""

    status: str
    attention_code: str | None
    new_episode: bool


def decide(status: str, *, ok: bool, code: str | None, source: str) -> Change | None:
    """The stored status after an outcome of ``source`` (``verification`` | ``send`` | ``sync``);
    ``None`` when nothing changes."""
    before = state_of(status)
    if ok:
        # A send or sync that worked proves the mailbox works — but a mailbox signed in with
        # OAuth that must sign in again stays so until it does (its reconnect clears it).
        if before == "working" or status == "needs_reconnect":
            return None
        return Change("verified", None, new_episode=False)
    if source != "verification" and not is_mailbox_problem(code):
        return None
    next_status = "needs_reconnect" if status == "needs_reconnect" else "failed"
    return Change(next_status, code or "unknown", new_episode=before != "needs_attention")
