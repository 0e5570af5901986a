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
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

__all__ = ["SOFT_WINDOW", "SoftCount", "SuppressionReason", "diagnosis_for", "next_soft_count"]

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
