"""The outbox's decisions as pure value objects: states, retries, outcomes, caps, leases.

Nothing here reads a clock, a random source or a database: ``now`` and ``rng`` are passed in, so
the worker loop, the SQL claim queries and the tests all apply exactly the same rules.

Message life cycle (:data:`TRANSITIONS`)::

    from       to          when
    queued     sending     a worker claims it
               deferred    the account's daily cap is reached when it is picked up
               failed      it cannot be sent at all (account removed, sender not allowed)
               cancelled   POST /v1/messages/{id}/cancel
    sending    sent        at least one recipient accepted and none left to retry
               deferred    4xx, no reply, the provider's daily limit
               failed      5xx for every recipient; the give-up age is reached
               queued      released before its SMTP transaction began (account concurrency or
                           rate limit, graceful shutdown) — no attempt, no event
    deferred   sending | failed | cancelled
               queued      POST /v1/messages/{id}/retry: send again now
    failed     queued      POST /v1/messages/{id}/retry, once the cause is fixed (the password…)
    sent       bounced     a bounce report (DSN) arrived later

How storage and the worker map onto this module:

* ``messages.state`` holds :class:`MessageState` values; each ``UPDATE`` goes through
  :func:`transition` first (the allowed set is also what a ``WHERE state IN (…)`` guard lists).
* Claiming and leases: one rule for every job, in :mod:`mailport.core.leases` (claimable,
  holds a concurrency slot, known dead). Writes after an attempt are guarded with ``WHERE state
  = 'sending'``, so a worker that lost its message to another cannot overwrite the result.
* After an attempt, :func:`classify_send_outcome` turns per-recipient SMTP replies into the next
  state, ``next_attempt_at`` (``Outcome.retry_at``) and per-recipient rows.
* Before an attempt, :meth:`SendLimits.check` (the account's concurrency, per-period rate and
  daily cap, counted with ``sent_at >= RateLimit.window_start(now)``) says send now, wait
  quietly, or defer to the cap's next window.
* ``Idempotency-Key``: store :func:`request_fingerprint` of the body with the key; on a repeat,
  :func:`check_idempotency` says "replay" or raises :class:`~mailport.errors.Conflict`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Literal

from mailport.core.diagnostics.classifier import classify
from mailport.core.diagnostics.evidence import Evidence
from mailport.errors import Conflict, ValidationError

__all__ = [
    "CANCELLABLE_STATES",
    "CLAIMABLE_STATES",
    "RETRYABLE_STATES",
    "TERMINAL_STATES",
    "TRANSITIONS",
    "CapDecision",
    "DailyCap",
    "LimitDecision",
    "MessageState",
    "Outcome",
    "RateLimit",
    "RecipientOutcome",
    "RecipientResult",
    "RecipientStatus",
    "RetryPolicy",
    "SendLimits",
    "SmtpReply",
    "check_idempotency",
    "classify_send_outcome",
    "ensure_cancellable",
    "ensure_retryable",
    "recipient_verdicts",
    "request_fingerprint",
    "server_files_sent_copy",
    "transition",
    "validate_idempotency_key",
]


# ---------------------------------------------------------------------------------------------
# States


class MessageState(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DEFERRED = "deferred"
    FAILED = "failed"
    CANCELLED = "cancelled"
    BOUNCED = "bounced"


_S = MessageState
TRANSITIONS: Mapping[MessageState, frozenset[MessageState]] = MappingProxyType(
    {
        # queued -> deferred: the account's cap is reached when a worker picks the message up.
        # queued -> failed: it cannot be sent at all (account deleted, sender no longer allowed).
        _S.QUEUED: frozenset({_S.SENDING, _S.DEFERRED, _S.FAILED, _S.CANCELLED}),
        _S.SENDING: frozenset({_S.SENT, _S.DEFERRED, _S.FAILED, _S.QUEUED}),
        _S.DEFERRED: frozenset({_S.SENDING, _S.FAILED, _S.CANCELLED, _S.QUEUED}),
        # A bounce report can only arrive for mail a server accepted.
        _S.SENT: frozenset({_S.BOUNCED}),
        # Failed is final for the worker; only the user's "send again" reopens it.
        _S.FAILED: frozenset({_S.QUEUED}),
        _S.CANCELLED: frozenset(),
        _S.BOUNCED: frozenset(),
    }
)
TERMINAL_STATES = frozenset({_S.FAILED, _S.CANCELLED, _S.BOUNCED})
CLAIMABLE_STATES = frozenset({_S.QUEUED, _S.DEFERRED})
# Not while sending: the SMTP transaction may already be past DATA; nothing can call it back.
CANCELLABLE_STATES = frozenset({_S.QUEUED, _S.DEFERRED})
RETRYABLE_STATES = frozenset({_S.FAILED, _S.DEFERRED})


def transition(current: MessageState | str, target: MessageState | str) -> MessageState:
    """Return ``target`` if ``current -> target`` is allowed, else raise :class:`Conflict`."""
    try:
        source, destination = MessageState(current), MessageState(target)
    except ValueError as exc:
        raise ValidationError(f"unknown message state: {exc}", field="state") from exc
    if destination not in TRANSITIONS[source]:
        raise Conflict(
            f"a message cannot go from {source.value} to {destination.value}",
            code="message.illegal_transition",
            current=source.value,
            target=destination.value,
        )
    return destination


def ensure_cancellable(state: MessageState | str) -> None:
    """Raise :class:`Conflict` (code ``message.not_cancellable``) unless ``state`` may be cancelled."""
    current = MessageState(state)
    if current not in CANCELLABLE_STATES:
        raise Conflict(
            f"a {current.value} message can no longer be cancelled",
            code="message.not_cancellable",
            current=current.value,
        )


def ensure_retryable(state: MessageState | str) -> None:
    """Raise :class:`Conflict` (code ``message.not_retryable``) unless ``state`` may be sent again."""
    current = MessageState(state)
    if current not in RETRYABLE_STATES:
        raise Conflict(
            f"a {current.value} message cannot be sent again (only failed or deferred ones)",
            code="message.not_retryable",
            current=current.value,
        )


# ---------------------------------------------------------------------------------------------
# Retry policy

Rng = Callable[[], float]
"""A source of floats in [0, 1), e.g. ``random.Random().random``."""


def _check_unit(value: float) -> float:
    if not 0.0 <= value < 1.0 or math.isnan(value):
        raise ValidationError("rng must return a float in [0, 1)", field="rng")
    return value


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter, bounded by a give-up age.

    Defaults follow Postfix (``minimal_backoff_time`` 300 s, ``maximal_backoff_time`` 4000 s)
    with a 4-day give-up age. Attempt ``n`` (1-based) has the un-jittered delay
    ``min(max_delay, min_delay * multiplier ** (n - 1))``.

    * ``full``: uniform in ``[min_delay, that delay]`` — spreads a burst of deferrals (a provider
      outage) instead of retrying them all at once (AWS "full jitter", with a floor).
    * ``decorrelated``: uniform in ``[min_delay, previous * 3]``, capped at ``max_delay``.
    * ``none``: exactly the exponential delay (tests, predictable schedules).
    """

    min_delay: timedelta = timedelta(seconds=300)
    max_delay: timedelta = timedelta(seconds=4000)
    multiplier: float = 2.0
    jitter: Literal["full", "decorrelated", "none"] = "full"
    give_up_after: timedelta = timedelta(days=4)

    def __post_init__(self) -> None:
        if self.min_delay <= timedelta(0):
            raise ValidationError("min_delay must be positive", field="min_delay")
        if self.max_delay < self.min_delay:
            raise ValidationError("max_delay must be at least min_delay", field="max_delay")
        if not self.multiplier >= 1.0:
            raise ValidationError("multiplier must be at least 1", field="multiplier")
        if self.jitter not in ("full", "decorrelated", "none"):
            raise ValidationError("jitter must be full, decorrelated or none", field="jitter")
        if self.give_up_after <= timedelta(0):
            raise ValidationError("give_up_after must be positive", field="give_up_after")

    def delay(self, *, attempt: int, rng: Rng, previous: timedelta | None = None) -> timedelta:
        """The wait after failed attempt number ``attempt`` (1 = the first attempt)."""
        if attempt < 1:
            raise ValidationError("attempt counts from 1", field="attempt")
        low = self.min_delay.total_seconds()
        cap = self.max_delay.total_seconds()
        if self.jitter == "decorrelated":
            last = previous.total_seconds() if previous is not None else low
            high = min(cap, max(low, last * 3))
        else:
            # Clamp the exponent first: 2 ** 10_000 overflows a float.
            exponent = min(attempt - 1, 64)
            high = min(cap, low * self.multiplier**exponent)
            if self.jitter == "none":
                return timedelta(seconds=high)
        return timedelta(seconds=low + _check_unit(rng()) * (high - low))

    def deadline(self, *, queued_at: datetime) -> datetime:
        return queued_at + self.give_up_after

    def next_attempt(
        self,
        *,
        attempt: int,
        queued_at: datetime,
        now: datetime,
        rng: Rng,
        previous: timedelta | None = None,
    ) -> datetime | None:
        """When to try again, or ``None`` when the message is older than the give-up age.

        The last retry is pulled in to the deadline itself, so a message always gets one final
        attempt at its give-up age rather than being failed early.
        """
        deadline = self.deadline(queued_at=queued_at)
        if now >= deadline:
            return None
        return min(now + self.delay(attempt=attempt, rng=rng, previous=previous), deadline)


# ---------------------------------------------------------------------------------------------
# Rate limits and daily caps


@dataclass(frozen=True, slots=True)
class CapDecision:
    allowed: bool
    remaining: int
    retry_at: datetime | None


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``limit`` messages per fixed window of ``period``.

    Windows are aligned to midnight 1970-01-01 in a zone at UTC+``offset`` (a daily cap that
    resets at midnight Pacific time has ``offset=timedelta(hours=-8)``), so the SQL needs only
    ``count(*) WHERE sent_at >= :window_start``. Providers
    that count a rolling 24 h can still refuse near a boundary; that reply is recognized by
    :func:`classify_send_outcome` and deferred the same way.
    """

    limit: int
    period: timedelta
    offset: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValidationError("a rate limit must allow at least one message", field="limit")
        if self.period <= timedelta(0):
            raise ValidationError("a rate limit period must be positive", field="period")

    def window_start(self, now: datetime) -> datetime:
        # Local midnight in a zone at UTC+offset is UTC midnight minus the offset.
        anchor = datetime(1970, 1, 1, tzinfo=UTC) - self.offset
        windows = (now - anchor) // self.period
        return anchor + windows * self.period

    def next_window(self, now: datetime) -> datetime:
        return self.window_start(now) + self.period

    def check(self, *, sent_in_window: int, now: datetime) -> CapDecision:
        """Whether one more message may go now; if not, when the next window opens."""
        remaining = max(0, self.limit - sent_in_window)
        if remaining:
            return CapDecision(allowed=True, remaining=remaining, retry_at=None)
        return CapDecision(allowed=False, remaining=0, retry_at=self.next_window(now))


@dataclass(frozen=True, slots=True)
class DailyCap(RateLimit):
    """An account's provider cap per day (Gmail ≈ 500, Workspace ≈ 2,000), resetting at
    midnight UTC + ``offset``: ``DailyCap(limit=500)``."""

    period: timedelta = field(default=timedelta(days=1), init=False)


@dataclass(frozen=True, slots=True)
class LimitDecision:
    """``allowed``, or not before ``retry_at``.

    ``visible`` decisions are real deferrals (state ``deferred``, a ``message.deferred`` event
    with ``reason``); the others are short waits: release the claim (``sending -> queued``) with
    ``next_attempt_at = retry_at`` and tell nobody.
    """

    allowed: bool
    retry_at: datetime | None = None
    reason: str | None = None
    visible: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class SendLimits:
    """An account's sending limits, checked by the worker right before each attempt."""

    max_concurrent: int | None = None
    rate: RateLimit | None = None
    daily: RateLimit | None = None
    concurrency_backoff: timedelta = timedelta(seconds=5)

    def __post_init__(self) -> None:
        if self.max_concurrent is not None and self.max_concurrent < 1:
            raise ValidationError("max_concurrent must be at least 1", field="max_concurrent")
        if self.concurrency_backoff <= timedelta(0):
            raise ValidationError(
                "concurrency_backoff must be positive", field="concurrency_backoff"
            )

    def check(
        self,
        *,
        in_flight: int,
        now: datetime,
        sent_in_rate_window: int = 0,
        sent_in_day: int = 0,
    ) -> LimitDecision:
        """``in_flight``: the account's *other* messages being sent now; the counts are sends
        since :meth:`RateLimit.window_start` of ``rate`` and ``daily``."""
        # The daily cap first: a deferral to tomorrow outranks a wait of seconds.
        if self.daily is not None:
            daily = self.daily.check(sent_in_window=sent_in_day, now=now)
            if not daily.allowed:
                return LimitDecision(False, daily.retry_at, "send.daily_limit_reached", True)
        if self.max_concurrent is not None and in_flight >= self.max_concurrent:
            return LimitDecision(False, now + self.concurrency_backoff, "account.concurrency")
        if self.rate is not None:
            rate = self.rate.check(sent_in_window=sent_in_rate_window, now=now)
            if not rate.allowed:
                return LimitDecision(False, rate.retry_at, "account.rate_limited")
        return LimitDecision(True)


# ---------------------------------------------------------------------------------------------
# Send outcomes


class RecipientStatus(StrEnum):
    ACCEPTED = "accepted"
    DEFERRED = "deferred"
    FAILED = "failed"


_ENHANCED = re.compile(r"\s*([245])\.(\d{1,3})\.(\d{1,3})(?!\d)")
# Provider replies meaning "this account sent too much today" — a cap, not a bad message, even
# when it comes as 5xx (Gmail: "550 5.4.5 Daily user sending limit exceeded").
_QUOTA_PHRASES = (
    "sending limit exceeded",
    "sending quota exceeded",
    "daily user sending",
    "daily limit",
    "submissionquotaexceeded",
    "quota exceeded",
    "too many messages",
)


@dataclass(frozen=True, slots=True)
class RecipientResult:
    """What the server said about one recipient in one attempt.

    ``smtp_code`` is ``None`` when there was no reply at all (network error, timeout): the
    recipient's fate is unknown and it is retried. A whole-transaction failure (refused
    connection, ``MAIL FROM`` or ``DATA`` rejected) is one result per recipient with the same
    reply — see :meth:`for_all`. A recipient counts as accepted only when both its ``RCPT`` and
    the final ``DATA`` reply were 2xx: when ``DATA`` fails, every recipient gets the ``DATA``
    reply, whatever ``RCPT`` said. ``diagnosis`` is a :mod:`mailport.core.diagnostics` code: the
    adapter's when it already matched the reply, else classified here from code and text.
    """

    recipient: str
    smtp_code: int | None
    text: str = ""
    enhanced_code: str | None = None
    diagnosis: str | None = None
    retry_after: timedelta | None = None
    """The wait the server asked for (an API's ``Retry-After``): a deferral then comes back
    after it instead of after the backoff policy's delay."""
    permanent: bool = False
    """A refusal without a reply code that retrying will not fix (provider APIs answer in HTTP,
    not SMTP: a revoked grant, a missing permission)."""

    def __post_init__(self) -> None:
        if self.smtp_code is not None and not 200 <= self.smtp_code <= 599:
            raise ValidationError("smtp_code must be a 2xx-5xx reply code", field="smtp_code")
        if self.enhanced_code is None:
            match = _ENHANCED.match(self.text)
            if match:
                object.__setattr__(self, "enhanced_code", ".".join(match.groups()))
        if self.diagnosis is None and not (self.smtp_code and self.smtp_code < 300):
            object.__setattr__(self, "diagnosis", _diagnose(self))

    @classmethod
    def for_all(
        cls,
        recipients: Iterable[str],
        *,
        smtp_code: int | None,
        text: str = "",
        diagnosis: str | None = None,
    ) -> tuple[RecipientResult, ...]:
        return tuple(
            cls(recipient=r, smtp_code=smtp_code, text=text, diagnosis=diagnosis)
            for r in recipients
        )

    @property
    def is_quota(self) -> bool:
        if self.diagnosis == "send.daily_limit_reached" and not self.permanent:
            return True
        if self.smtp_code is None or self.smtp_code < 400:
            return False
        if self.diagnosis == "send.daily_limit_reached" or self.enhanced_code in ("4.4.5", "5.4.5"):
            return True
        lowered = self.text.lower()
        return any(phrase in lowered for phrase in _QUOTA_PHRASES)

    @property
    def status(self) -> RecipientStatus:
        if self.permanent:
            return RecipientStatus.FAILED
        if self.smtp_code is None:
            return RecipientStatus.DEFERRED
        if 200 <= self.smtp_code < 300:
            return RecipientStatus.ACCEPTED
        if self.smtp_code >= 500 and not self.is_quota:
            return RecipientStatus.FAILED
        return RecipientStatus.DEFERRED  # 4xx, a quota 5xx, or a stray 3xx mid-transaction


def _diagnose(result: RecipientResult) -> str:
    """The diagnostics catalog's code for a refusal; RFC 3463 classes when it knows none."""
    code = classify(Evidence(protocol="smtp", smtp_code=result.smtp_code, text=result.text)).code
    if code != "unknown":
        return code
    enhanced = result.enhanced_code or ""
    if enhanced in ("5.1.1", "5.1.0", "5.1.10"):
        return "send.recipient_unknown"
    if enhanced in ("5.2.2", "4.2.2"):
        return "send.recipient_mailbox_full"
    if enhanced in ("5.3.4", "5.2.3"):
        return "send.message_too_large"
    if result.smtp_code is None or 300 <= result.smtp_code < 500:
        return "server.temporary_failure"
    return "unknown"


@dataclass(frozen=True, slots=True)
class SmtpReply:
    """One reply of an SMTP transaction: ``code`` ``None`` when none came (connection lost).

    ``diagnosis`` is the adapter's diagnostics code for a refusal when it already matched one.
    """

    code: int | None
    text: str = ""
    diagnosis: str | None = None


def recipient_verdicts(
    rcpt: Sequence[tuple[str, SmtpReply]], data: SmtpReply | None
) -> tuple[RecipientResult, ...]:
    """Each recipient's result in one transaction, from its own ``RCPT`` reply and the ``DATA`` reply.

    A recipient refused at ``RCPT`` keeps that refusal — ``451`` stays temporary beside another
    recipient's ``550``, and the text is its own, never a neighbour's. A recipient accepted at
    ``RCPT`` gets the ``DATA`` reply: accepted only when the data was accepted too. ``data`` is
    ``None`` when the transaction never reached the end of ``DATA`` (every recipient refused);
    an accepted recipient without a ``DATA`` reply has an unknown fate and counts as no reply.
    """
    results = []
    for recipient, reply in rcpt:
        if reply.code is None or reply.code >= 300:
            verdict = reply
        elif data is None:
            verdict = SmtpReply(code=None, text="the transaction ended before DATA")
        else:
            verdict = data
        results.append(
            RecipientResult(
                recipient=recipient,
                smtp_code=verdict.code,
                text=verdict.text,
                diagnosis=verdict.diagnosis,
            )
        )
    return tuple(results)


@dataclass(frozen=True, slots=True)
class RecipientOutcome:
    """A recipient's state after an attempt — one row of ``message_recipients``."""

    recipient: str
    status: RecipientStatus
    smtp_code: int | None
    enhanced_code: str | None
    text: str
    diagnosis: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "recipient": self.recipient,
            "status": self.status.value,
            "smtp_code": self.smtp_code,
            "enhanced_code": self.enhanced_code,
            "text": self.text,
            "diagnosis": self.diagnosis,
        }


@dataclass(frozen=True, slots=True)
class Outcome:
    """The message's next state after an attempt.

    ``retry_at`` is set exactly when ``state`` is ``deferred``; only the ``deferred`` recipients
    are sent to next time. ``reason`` is the diagnosis code behind a deferral or failure
    (``send.gave_up`` when the give-up age ended the retries). A message with at least one
    accepted recipient is ``sent`` even if others failed — the failures are per recipient.
    """

    state: MessageState
    recipients: tuple[RecipientOutcome, ...]
    retry_at: datetime | None = None
    reason: str | None = None
    delay: timedelta | None = field(default=None)

    def _with(self, status: RecipientStatus) -> tuple[str, ...]:
        return tuple(r.recipient for r in self.recipients if r.status is status)

    @property
    def accepted(self) -> tuple[str, ...]:
        return self._with(RecipientStatus.ACCEPTED)

    @property
    def deferred(self) -> tuple[str, ...]:
        return self._with(RecipientStatus.DEFERRED)

    @property
    def failed(self) -> tuple[str, ...]:
        return self._with(RecipientStatus.FAILED)


def classify_send_outcome(
    results: Sequence[RecipientResult],
    *,
    attempt: int,
    queued_at: datetime,
    now: datetime,
    policy: RetryPolicy,
    rng: Rng,
    previous_delay: timedelta | None = None,
    previously_accepted: Sequence[str] = (),
    cap: RateLimit | None = None,
    quota_delay: timedelta = timedelta(hours=1),
) -> Outcome:
    """Turn one attempt's per-recipient replies into the message's next state.

    * 2xx -> accepted; 5xx -> failed for that recipient only; 4xx or no reply -> deferred.
    * A provider's "daily limit" reply (even 5xx) defers instead of failing, to the account's
      next ``cap`` window, or by ``quota_delay`` when the account has no configured cap.
    * Once the message is older than ``policy.give_up_after``, deferred recipients fail with
      ``send.gave_up`` (their last reply kept).
    * ``previously_accepted``: recipients accepted in earlier attempts (partial acceptance), so
      that a final attempt whose remaining recipients all fail still leaves the message ``sent``.
    """
    if not results:
        raise ValidationError("an attempt has at least one recipient result", field="results")
    if attempt < 1:
        raise ValidationError("attempt counts from 1", field="attempt")

    quota = any(r.is_quota for r in results)
    retry_at: datetime | None = None
    delay: timedelta | None = None
    gave_up = False
    if any(r.status is RecipientStatus.DEFERRED for r in results):
        if now >= policy.deadline(queued_at=queued_at):
            gave_up = True
        elif quota:
            # The whole account is blocked until the window turns; retrying sooner only burns
            # attempts, so every deferred recipient waits for it.
            retry_at = cap.next_window(now) if cap is not None else now + quota_delay
        else:
            asked = [r.retry_after for r in results
                     if r.retry_after is not None and r.status is RecipientStatus.DEFERRED]
            delay = max(asked) if asked else policy.delay(attempt=attempt, rng=rng, previous=previous_delay)
            retry_at = min(now + delay, policy.deadline(queued_at=queued_at))

    outcomes = []
    for result in results:
        status = result.status
        diagnosis = result.diagnosis
        if status is RecipientStatus.DEFERRED and gave_up:
            status, diagnosis = RecipientStatus.FAILED, "send.gave_up"
        outcomes.append(
            RecipientOutcome(
                recipient=result.recipient,
                status=status,
                smtp_code=result.smtp_code,
                enhanced_code=result.enhanced_code,
                text=result.text,
                diagnosis=diagnosis,
            )
        )

    deferred = [o for o in outcomes if o.status is RecipientStatus.DEFERRED]
    failed = [o for o in outcomes if o.status is RecipientStatus.FAILED]
    accepted = bool(previously_accepted) or any(
        o.status is RecipientStatus.ACCEPTED for o in outcomes
    )
    if deferred:
        reason = "send.daily_limit_reached" if quota else deferred[0].diagnosis
        return Outcome(MessageState.DEFERRED, tuple(outcomes), retry_at, reason, delay)
    if accepted:
        return Outcome(MessageState.SENT, tuple(outcomes), None, None)
    reason = "send.gave_up" if gave_up else failed[0].diagnosis
    return Outcome(MessageState.FAILED, tuple(outcomes), None, reason)


# ---------------------------------------------------------------------------------------------
# Idempotency

_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")


def validate_idempotency_key(key: str) -> str:
    """A key is 1-255 visible ASCII characters (what fits a header and an index)."""
    if not isinstance(key, str) or not _IDEMPOTENCY_KEY.fullmatch(key):
        raise ValidationError(
            "Idempotency-Key must be 1-255 visible ASCII characters", field="Idempotency-Key"
        )
    return key


_PLAIN = frozenset({str, int, bool, type(None)})


def _canonical(value: Any) -> Any:
    # Exact types first (a request is mostly str, lists and dicts): the isinstance checks below,
    # Mapping an ABC, cost half of fingerprinting a batch item. Same answers either way.
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is list or kind is tuple:
        return [_canonical(v) for v in value]
    if kind is dict and all(type(k) is str for k in value):
        return {k: _canonical(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError("the request body contains a non-finite number", field="body")
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        # Attachments from multipart uploads: hashed, not embedded, so 25 MB stays cheap.
        digest = hashlib.sha256(bytes(value)).digest()
        return {"$bytes": base64.b64encode(digest).decode("ascii")}
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise ValidationError("request body keys must be strings", field="body")
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    raise ValidationError(
        f"cannot fingerprint a value of type {type(value).__name__}", field="body"
    )


def request_fingerprint(body: Any) -> str:
    """A stable hash of a request body: ``sha256:<hex>`` over canonical JSON.

    Canonical: keys sorted, no insignificant whitespace, UTF-8, tuples as lists, binary values
    by their SHA-256. Key order and formatting do not change the fingerprint; any value does.
    """
    text = json.dumps(
        _canonical(body),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_idempotency(*, stored_fingerprint: str | None, fingerprint: str) -> bool:
    """``False``: a new request, go ahead. ``True``: a replay, return the stored message.

    A different body under a known key raises :class:`Conflict` (code
    ``request.idempotency_mismatch``) — the caller reused a key by mistake.
    """
    if stored_fingerprint is None:
        return False
    if stored_fingerprint != fingerprint:
        raise Conflict(
            "this Idempotency-Key was used with a different request body",
            code="request.idempotency_mismatch",
        )
    return True


# ---------------------------------------------------------------------------------------------
# Sent copies

# Providers whose submission servers put a copy into the Sent folder themselves: an IMAP APPEND
# on top would show every invoice twice.
_SELF_FILING_PROVIDERS = frozenset({"gmail", "google_workspace", "outlook", "microsoft365"})
_SELF_FILING_HOSTS = (
    "gmail.com",
    "googlemail.com",
    "google.com",
    "office365.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
)


def server_files_sent_copy(*, provider_id: str | None, hosts: Iterable[str]) -> bool:
    """True when the account's server files sent mail itself (Gmail, Exchange/Microsoft 365),
    judged by the catalog's provider id or, for accounts set up by hand, the server host names."""
    if provider_id in _SELF_FILING_PROVIDERS:
        return True
    for host in hosts:
        name = host.strip().rstrip(".").lower()
        if any(name == domain or name.endswith("." + domain) for domain in _SELF_FILING_HOSTS):
            return True
    return False
