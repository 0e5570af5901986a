"""The suppression list's rules: when a bounce puts an address on it, and what it is told.

Pure: values in, decisions out.

- A **hard** bounce (the address itself is permanently undeliverable, ``docs/bounces.md``)
  suppresses at once.
- **Soft** bounces suppress only after ``threshold`` consecutive ones (``0`` never). Consecutive
  means without a gap of more than :data:`SOFT_WINDOW`: a mailbox that was full in March and again
  in November is not "repeatedly failing".
- An entry made by hand (``manual``) is the business saying "do not mail this address".

The diagnosis shown when a send is refused is the bounce's, as a stable code of the diagnostics
catalog, so the user reads it in their own language.

A server that refuses a recipient **during sending** (``RCPT`` answered ``550 5.1.1``) is a bounce
that arrived early: :func:`refusal_as_bounce` reads it with the bounce parser's own hard/soft rule,
so it suppresses exactly as the report would have. Refusals that say something about the sender
or the connection (authentication, TLS, the account's quota or block) are not about the address
and are not counted; neither is a local failure without a server reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from mailport.core.bounces import BouncedRecipient, classify_status, reason_for

__all__ = ["SOFT_WINDOW", "SoftCount", "SuppressionReason", "diagnosis_for", "next_soft_count",
           "refusal_as_bounce"]

SuppressionReason = Literal["hard_bounce", "soft_bounces", "manual"]

SOFT_WINDOW = timedelta(days=30)

# Bounce categories (core.bounces) → the diagnostics code that explains them to the user.
_DIAGNOSIS: dict[str, str] = {
    "unknown_user": "send.recipient_unknown",
    "unknown_domain": "send.recipient_unknown",
    "mailbox_moved": "send.recipient_unknown",
    "mailbox_disabled": "send.recipient_unknown",
    "no_mail_accepted": "send.recipient_unknown",
    "mailbox_full": "send.recipient_mailbox_full",
    "message_too_large": "send.message_too_large",
    "spam_or_policy": "send.rejected_as_spam",
}


def diagnosis_for(category: str) -> str:
    """The diagnostics code for a bounce category (``send.gave_up`` for the rest)."""
    return _DIAGNOSIS.get(category, "send.gave_up")


@dataclass(frozen=True, slots=True)
class SoftCount:
    count: int
    suppress: bool


def next_soft_count(previous: int, last_at: datetime | None, *, now: datetime, threshold: int) -> SoftCount:
    """The consecutive-soft-bounce count after one more soft bounce, and whether it suppresses."""
    count = previous + 1 if last_at is not None and now - last_at <= SOFT_WINDOW else 1
    return SoftCount(count=count, suppress=threshold > 0 and count >= threshold)


# Diagnoses of a refusal that concern the sending account or the way in, not the recipient: the
# same reply would have refused any address, so the address is not to blame.
_SENDER_SIDE_PREFIXES = ("auth.", "net.", "tls.", "account.", "server.")
_SENDER_SIDE = frozenset({"send.daily_limit_reached", "send.account_blocked", "send.sender_not_allowed",
                          "send.gave_up"})


def refusal_as_bounce(*, recipient: str, smtp_code: int | None, enhanced_code: str | None, text: str,
                      diagnosis: str | None) -> BouncedRecipient | None:
    """A recipient's permanent refusal during sending as the bounce it stands for, or ``None``.

    Only a 5xx reply from the server counts (a 4xx is retried; one that never stopped ends as
    ``send.gave_up``, whose last reply may be the server's trouble rather than the address's).
    Hard or soft by :func:`mailport.core.bounces.classify_status`, the rule of bounce reports.
    """
    if smtp_code is None or smtp_code < 500:
        return None
    if diagnosis is not None and (diagnosis in _SENDER_SIDE or diagnosis.startswith(_SENDER_SIDE_PREFIXES)):
        return None
    status, category, hard = classify_status(enhanced_code, f"{smtp_code} {text}")
    return BouncedRecipient(recipient=recipient, status=status, hard=hard, reason=reason_for(category),
                            category=category, diagnostic=f"{smtp_code} {text}".strip())
