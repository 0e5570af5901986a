"""core.outbox: states, retries, outcomes, caps, leases and idempotency — with literal values."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from mailport.core.outbox import (
    CANCELLABLE_STATES,
    RETRYABLE_STATES,
    TERMINAL_STATES,
    TRANSITIONS,
    DailyCap,
    LimitDecision,
    MessageState,
    RateLimit,
    RecipientResult,
    RecipientStatus,
    RetryPolicy,
    SendLimits,
    SmtpReply,
    check_idempotency,
    classify_send_outcome,
    ensure_cancellable,
    ensure_retryable,
    recipient_verdicts,
    request_fingerprint,
    transition,
    validate_idempotency_key,
)
from mailport.errors import Conflict, ValidationError

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
S = MessageState


def half() -> float:
    return 0.5


# --- states -----------------------------------------------------------------------------------

LEGAL = [
    (S.QUEUED, S.SENDING),
    (S.QUEUED, S.CANCELLED),
    (S.QUEUED, S.DEFERRED),
    (S.QUEUED, S.FAILED),
    (S.SENDING, S.SENT),
    (S.SENDING, S.DEFERRED),
    (S.SENDING, S.FAILED),
    (S.SENDING, S.QUEUED),
    (S.DEFERRED, S.SENDING),
    (S.DEFERRED, S.CANCELLED),
    (S.DEFERRED, S.FAILED),
    (S.DEFERRED, S.QUEUED),  # "send again"
    (S.FAILED, S.QUEUED),  # "send again", once the cause is fixed
    (S.SENT, S.BOUNCED),
]


@pytest.mark.parametrize(("source", "target"), LEGAL)
def test_legal_transitions(source: MessageState, target: MessageState) -> None:
    assert transition(source, target) is target
    assert transition(source.value, target.value) is target


def test_every_other_transition_is_refused() -> None:
    refused = 0
    for source in MessageState:
        for target in MessageState:
            if (source, target) in LEGAL:
                continue
            with pytest.raises(Conflict) as info:
                transition(source, target)
            assert info.value.code == "message.illegal_transition"
            assert (info.value.current, info.value.target) == (source.value, target.value)
            refused += 1
    assert refused == 7 * 7 - len(LEGAL)
    assert sum(len(targets) for targets in TRANSITIONS.values()) == len(LEGAL)


def test_terminal_states_have_no_way_out_but_send_again() -> None:
    assert TERMINAL_STATES == {S.FAILED, S.CANCELLED, S.BOUNCED}
    for state in TERMINAL_STATES:
        assert TRANSITIONS[state] == (frozenset({S.QUEUED}) if state is S.FAILED else frozenset())


def test_send_again_only_after_a_failure_or_while_waiting() -> None:
    assert RETRYABLE_STATES == {S.FAILED, S.DEFERRED}
    for state in set(MessageState) - RETRYABLE_STATES:
        with pytest.raises(Conflict) as info:
            ensure_retryable(state)
        assert info.value.code == "message.not_retryable"
    ensure_retryable("failed")


def test_unknown_state_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        transition("queued", "delivered")


def test_cancel_only_before_sending() -> None:
    assert CANCELLABLE_STATES == {S.QUEUED, S.DEFERRED}
    ensure_cancellable("queued")
    ensure_cancellable(S.DEFERRED)
    for state in (S.SENDING, S.SENT, S.FAILED, S.CANCELLED, S.BOUNCED):
        with pytest.raises(Conflict) as info:
            ensure_cancellable(state)
        assert info.value.code == "message.not_cancellable"


# --- retry policy -----------------------------------------------------------------------------


def test_exponential_delays_without_jitter_match_postfix_bounds() -> None:
    policy = RetryPolicy(jitter="none")
    delays = [policy.delay(attempt=n, rng=half).total_seconds() for n in range(1, 8)]
    assert delays == [300, 600, 1200, 2400, 4000, 4000, 4000]
    assert policy.delay(attempt=10_000, rng=half) == timedelta(seconds=4000)


def test_full_jitter_is_uniform_between_min_and_the_exponential_delay() -> None:
    policy = RetryPolicy()
    assert policy.delay(attempt=1, rng=half) == timedelta(seconds=300)
    assert policy.delay(attempt=3, rng=half) == timedelta(seconds=750)  # 300 + .5 * (1200 - 300)
    assert policy.delay(attempt=3, rng=lambda: 0.0) == timedelta(seconds=300)
    assert policy.delay(attempt=9, rng=lambda: 0.999) < timedelta(seconds=4000)
    rng = random.Random(7)
    samples = [policy.delay(attempt=4, rng=rng.random).total_seconds() for _ in range(2000)]
    assert min(samples) >= 300 and max(samples) <= 2400
    assert 1250 < sum(samples) / len(samples) < 1450  # mean of U(300, 2400) is 1350


def test_decorrelated_jitter_grows_from_the_previous_delay() -> None:
    policy = RetryPolicy(jitter="decorrelated")
    first = policy.delay(attempt=1, rng=half)
    assert first == timedelta(seconds=600)  # U(300, 900) at .5
    second = policy.delay(attempt=2, rng=half, previous=first)
    assert second == timedelta(seconds=1050)  # U(300, 1800) at .5
    assert policy.delay(attempt=3, rng=lambda: 0.99, previous=timedelta(hours=5)) <= timedelta(
        seconds=4000
    )


def test_retry_policy_is_configurable_and_validated() -> None:
    policy = RetryPolicy(
        min_delay=timedelta(seconds=10),
        max_delay=timedelta(seconds=60),
        multiplier=3,
        jitter="none",
    )
    assert [policy.delay(attempt=n, rng=half).total_seconds() for n in (1, 2, 3)] == [10, 30, 60]
    with pytest.raises(ValidationError):
        RetryPolicy(min_delay=timedelta(0))
    with pytest.raises(ValidationError):
        RetryPolicy(min_delay=timedelta(seconds=10), max_delay=timedelta(seconds=5))
    with pytest.raises(ValidationError):
        RetryPolicy(multiplier=0.5)
    with pytest.raises(ValidationError):
        RetryPolicy(jitter="wild")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        RetryPolicy().delay(attempt=0, rng=half)
    with pytest.raises(ValidationError):
        RetryPolicy().delay(attempt=2, rng=lambda: 1.0)


def test_next_attempt_stops_at_the_give_up_age() -> None:
    policy = RetryPolicy(jitter="none")
    assert RetryPolicy().give_up_after == timedelta(days=4)
    assert policy.next_attempt(attempt=1, queued_at=T0, now=T0, rng=half) == T0 + timedelta(
        seconds=300
    )
    almost = T0 + timedelta(days=4) - timedelta(seconds=60)
    # The last retry is pulled in to the deadline rather than skipped.
    assert policy.next_attempt(attempt=40, queued_at=T0, now=almost, rng=half) == T0 + timedelta(
        days=4
    )
    assert (
        policy.next_attempt(attempt=41, queued_at=T0, now=T0 + timedelta(days=4), rng=half) is None
    )


# --- outcomes ---------------------------------------------------------------------------------


def classify(results: list[RecipientResult], **kwargs: object):  # type: ignore[no-untyped-def]
    options: dict[str, object] = {
        "attempt": 1,
        "queued_at": T0,
        "now": T0,
        "policy": RetryPolicy(jitter="none"),
        "rng": half,
    }
    options.update(kwargs)
    return classify_send_outcome(results, **options)  # type: ignore[arg-type]


def test_all_accepted_is_sent() -> None:
    outcome = classify(
        RecipientResult.for_all(["a@x.test", "b@x.test"], smtp_code=250, text="2.1.5 Ok")
    )
    assert outcome.state is S.SENT
    assert outcome.accepted == ("a@x.test", "b@x.test")
    assert outcome.retry_at is None and outcome.reason is None
    assert outcome.recipients[0].diagnosis is None
    assert outcome.recipients[0].enhanced_code == "2.1.5"


def test_partial_acceptance_defers_only_the_soft_failures() -> None:
    outcome = classify(
        [
            RecipientResult("a@x.test", 250),
            RecipientResult("b@x.test", 451, "4.3.0 Try again later"),
            RecipientResult(
                "c@x.test", 550, "5.1.1 <c@x.test>: Recipient address rejected: User unknown"
            ),
        ]
    )
    assert outcome.state is S.DEFERRED
    assert outcome.accepted == ("a@x.test",)
    assert outcome.deferred == ("b@x.test",)
    assert outcome.failed == ("c@x.test",)
    assert outcome.retry_at == T0 + timedelta(seconds=300)
    assert outcome.delay == timedelta(seconds=300)
    assert outcome.reason == "server.temporary_failure"
    by_recipient = {r.recipient: r for r in outcome.recipients}
    assert by_recipient["c@x.test"].diagnosis == "send.recipient_unknown"
    assert by_recipient["c@x.test"].enhanced_code == "5.1.1"
    assert by_recipient["c@x.test"].to_dict() == {
        "recipient": "c@x.test",
        "status": "failed",
        "smtp_code": 550,
        "enhanced_code": "5.1.1",
        "text": "5.1.1 <c@x.test>: Recipient address rejected: User unknown",
        "diagnosis": "send.recipient_unknown",
    }


def test_every_recipient_5xx_is_failed_with_a_diagnosis() -> None:
    outcome = classify([RecipientResult("c@x.test", 550, "5.1.1 User unknown")])
    assert outcome.state is S.FAILED
    assert outcome.reason == "send.recipient_unknown"
    assert outcome.retry_at is None


def test_later_attempt_keeps_sent_when_earlier_recipients_were_accepted() -> None:
    outcome = classify(
        [RecipientResult("b@x.test", 550, "5.2.2 Mailbox full")],
        attempt=2,
        previously_accepted=["a@x.test"],
    )
    assert outcome.state is S.SENT
    assert outcome.failed == ("b@x.test",)
    assert outcome.recipients[0].diagnosis == "send.recipient_mailbox_full"


def test_network_error_defers_everyone_with_the_adapters_diagnosis() -> None:
    results = RecipientResult.for_all(
        ["a@x.test", "b@x.test"], smtp_code=None, diagnosis="net.timeout"
    )
    outcome = classify(results, attempt=3)
    assert outcome.state is S.DEFERRED
    assert outcome.deferred == ("a@x.test", "b@x.test")
    assert outcome.reason == "net.timeout"
    assert outcome.retry_at == T0 + timedelta(seconds=1200)


def test_give_up_age_turns_deferrals_into_failures() -> None:
    now = T0 + timedelta(days=4, seconds=1)
    outcome = classify(
        [RecipientResult("a@x.test", 250), RecipientResult("b@x.test", 451, "4.7.1 Greylisted")],
        attempt=30,
        now=now,
    )
    assert outcome.state is S.SENT
    assert outcome.failed == ("b@x.test",)
    failed = outcome.recipients[1]
    assert failed.diagnosis == "send.gave_up"
    assert failed.smtp_code == 451 and failed.text == "4.7.1 Greylisted"

    only_soft = classify([RecipientResult("b@x.test", 451)], attempt=30, now=now)
    assert only_soft.state is S.FAILED
    assert only_soft.reason == "send.gave_up"


def test_daily_limit_reply_defers_to_the_next_cap_window_instead_of_failing() -> None:
    gmail = RecipientResult.for_all(
        ["a@x.test", "b@x.test"],
        smtp_code=550,
        text="5.4.5 Daily user sending limit exceeded. For more information on Gmail sending limits",
    )
    outcome = classify(list(gmail), now=T0, cap=DailyCap(limit=500))
    assert outcome.state is S.DEFERRED
    assert outcome.reason == "send.daily_limit_reached"
    assert outcome.retry_at == datetime(2026, 11, 24, tzinfo=UTC)
    assert {r.diagnosis for r in outcome.recipients} == {"send.daily_limit_reached"}

    microsoft = RecipientResult(
        "a@x.test", 554, "5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException"
    )
    no_cap = classify([microsoft], now=T0, quota_delay=timedelta(minutes=30))
    assert no_cap.state is S.DEFERRED
    assert no_cap.retry_at == T0 + timedelta(minutes=30)


def test_classify_refuses_empty_results() -> None:
    with pytest.raises(ValidationError):
        classify([])
    with pytest.raises(ValidationError):
        RecipientResult("a@x.test", 99)


# --- caps -------------------------------------------------------------------------------------


def test_daily_cap_allows_until_the_limit_then_defers_to_midnight() -> None:
    cap = DailyCap(limit=500)
    now = datetime(2026, 11, 23, 17, 45, tzinfo=UTC)
    assert cap.window_start(now) == datetime(2026, 11, 23, tzinfo=UTC)
    decision = cap.check(sent_in_window=499, now=now)
    assert decision.allowed and decision.remaining == 1 and decision.retry_at is None
    decision = cap.check(sent_in_window=500, now=now)
    assert not decision.allowed
    assert decision.retry_at == datetime(2026, 11, 24, tzinfo=UTC)


def test_daily_cap_in_the_providers_time_zone() -> None:
    pacific = DailyCap(limit=10, offset=timedelta(hours=-8))
    # 07:00 UTC is 23:00 the day before in Pacific time; midnight there is 08:00 UTC.
    now = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    assert pacific.window_start(now) == datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    assert pacific.next_window(now) == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_rate_limit_per_minute() -> None:
    limit = RateLimit(limit=30, period=timedelta(minutes=1))
    now = datetime(2026, 11, 23, 12, 0, 42, tzinfo=UTC)
    assert limit.window_start(now) == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert limit.check(sent_in_window=31, now=now).retry_at == datetime(
        2026, 11, 23, 12, 1, tzinfo=UTC
    )
    with pytest.raises(ValidationError):
        RateLimit(limit=0, period=timedelta(minutes=1))
    with pytest.raises(ValidationError):
        DailyCap(limit=-5)


# --- idempotency ------------------------------------------------------------------------------


def test_fingerprint_is_stable_and_canonical() -> None:
    body = {"to": ["a@x.test"], "subject": "Factuur €", "metadata": {"doc": "1", "n": 2}}
    reordered = {"metadata": {"n": 2, "doc": "1"}, "subject": "Factuur €", "to": ("a@x.test",)}
    assert request_fingerprint(body) == request_fingerprint(reordered)
    assert request_fingerprint(body) == (
        "sha256:"
        + __import__("hashlib")
        .sha256('{"metadata":{"doc":"1","n":2},"subject":"Factuur €","to":["a@x.test"]}'.encode())
        .hexdigest()
    )
    assert request_fingerprint({}) == (
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    )
    assert request_fingerprint(body) != request_fingerprint({**body, "subject": "Factuur"})
    assert request_fingerprint({"a": 1}) != request_fingerprint({"a": "1"})


def test_fingerprint_hashes_binary_attachments() -> None:
    first = request_fingerprint({"attachments": [b"%PDF-1" * 1000]})
    assert first == request_fingerprint({"attachments": [bytearray(b"%PDF-1" * 1000)]})
    assert first != request_fingerprint({"attachments": [b"%PDF-2" * 1000]})
    with pytest.raises(ValidationError):
        request_fingerprint({"x": float("nan")})
    with pytest.raises(ValidationError):
        request_fingerprint({"x": object()})
    with pytest.raises(ValidationError):
        request_fingerprint({1: "x"})


def test_idempotency_replay_and_conflict() -> None:
    fingerprint = request_fingerprint({"subject": "x"})
    assert check_idempotency(stored_fingerprint=None, fingerprint=fingerprint) is False
    assert check_idempotency(stored_fingerprint=fingerprint, fingerprint=fingerprint) is True
    with pytest.raises(Conflict) as info:
        check_idempotency(
            stored_fingerprint=request_fingerprint({"subject": "y"}), fingerprint=fingerprint
        )
    assert info.value.code == "request.idempotency_mismatch"


@pytest.mark.parametrize("key", ["", " ", "a" * 256, "key\r\nX: y", "ключ"])
def test_bad_idempotency_keys(key: str) -> None:
    with pytest.raises(ValidationError):
        validate_idempotency_key(key)


def test_good_idempotency_key() -> None:
    assert validate_idempotency_key("inv-2026-0042:v1") == "inv-2026-0042:v1"


def test_recipient_status_from_codes() -> None:
    assert RecipientResult("a@x.test", 250).status is RecipientStatus.ACCEPTED
    assert (
        RecipientResult("a@x.test", 452, "4.5.3 Too many recipients").status
        is RecipientStatus.DEFERRED
    )
    assert RecipientResult("a@x.test", 554, "5.7.1 Spam").status is RecipientStatus.FAILED
    assert RecipientResult("a@x.test", None).status is RecipientStatus.DEFERRED
    assert RecipientResult("a@x.test", 550, "5.4.5 Daily sending quota exceeded").status is (
        RecipientStatus.DEFERRED
    )


def test_send_limits_daily_cap_defers_visibly_other_limits_wait_quietly() -> None:
    now = datetime(2026, 11, 23, 17, 30, 20, tzinfo=UTC)
    limits = SendLimits(
        max_concurrent=2,
        rate=RateLimit(limit=20, period=timedelta(minutes=1)),
        daily=DailyCap(limit=500),
    )
    assert limits.check(in_flight=1, sent_in_rate_window=19, sent_in_day=499, now=now) == (
        LimitDecision(True)
    )
    capped = limits.check(in_flight=0, sent_in_day=500, now=now)
    assert capped == LimitDecision(
        False, datetime(2026, 11, 24, tzinfo=UTC), "send.daily_limit_reached", True
    )
    busy = limits.check(in_flight=2, sent_in_day=10, now=now)
    assert busy == LimitDecision(False, now + timedelta(seconds=5), "account.concurrency")
    rated = limits.check(in_flight=0, sent_in_rate_window=20, now=now)
    assert rated == LimitDecision(
        False, datetime(2026, 11, 23, 17, 31, tzinfo=UTC), "account.rate_limited"
    )
    assert SendLimits().check(in_flight=1000, sent_in_day=10**6, now=now).allowed
    with pytest.raises(ValidationError):
        SendLimits(max_concurrent=0)


@pytest.mark.parametrize(
    ("smtp_code", "text", "diagnosis"),
    [
        (None, "", "server.temporary_failure"),
        (None, "Connection refused", "net.connection_refused"),
        (451, "4.3.0 Try again later", "server.temporary_failure"),
        (
            550,
            "5.1.1 <c@x.test>: Recipient address rejected: User unknown",
            "send.recipient_unknown",
        ),
        (552, "5.2.2 Mailbox full", "send.recipient_mailbox_full"),
        (
            550,
            "5.7.1 Sender address rejected: not owned by user a@x.test",
            "send.sender_not_allowed",
        ),
        (552, "5.3.4 Message size exceeds fixed limit", "send.message_too_large"),
        (550, "5.4.5 Daily user sending limit exceeded", "send.daily_limit_reached"),
        (550, "no idea", "unknown"),
        (250, "2.0.0 Ok", None),
    ],
)
def test_refusals_are_diagnosed_with_catalog_codes(
    smtp_code: int | None, text: str, diagnosis: str | None
) -> None:
    assert RecipientResult("a@x.test", smtp_code, text).diagnosis == diagnosis
    # An adapter's own diagnosis wins.
    assert RecipientResult("a@x.test", 451, "x", diagnosis="net.timeout").diagnosis == "net.timeout"


def test_a_worker_loop_composes_the_pieces() -> None:
    """451 twice, then 250 — the life cycle a worker drives with these value objects."""
    replies = iter([(451, "4.7.1 Greylisted"), (451, "4.7.1 Greylisted"), (250, "2.0.0 Ok")])
    policy = RetryPolicy(jitter="none")
    state, next_at, attempt, now = S.QUEUED, None, 0, T0
    history = [state]
    previous: timedelta | None = None
    while state not in (S.SENT, S.FAILED):
        assert next_at is None or next_at <= now
        state, attempt = transition(state, S.SENDING), attempt + 1
        history.append(state)
        code, text = next(replies)
        outcome = classify_send_outcome(
            [RecipientResult("a@x.test", code, text)],
            attempt=attempt,
            queued_at=T0,
            now=now,
            policy=policy,
            rng=half,
            previous_delay=previous,
        )
        state, next_at, previous = (
            transition(state, outcome.state),
            outcome.retry_at,
            outcome.delay,
        )
        history.append(state)
        if next_at is not None:
            assert next_at > now
            now = next_at
    assert history == [S.QUEUED, S.SENDING, S.DEFERRED, S.SENDING, S.DEFERRED, S.SENDING, S.SENT]
    assert now == T0 + timedelta(seconds=300 + 600)


# ---------------------------------------------------------------------------------------------
# Per-recipient verdicts of one SMTP transaction

TEMP = SmtpReply(451, "4.3.0 Temporary failure, please try again later")
UNKNOWN = SmtpReply(550, "5.1.1 <b@example.org>: Recipient address rejected: User unknown")
OK = SmtpReply(250, "2.1.5 OK")


@pytest.mark.parametrize("order", ["451 first", "550 first"])
def test_each_recipient_keeps_its_own_rcpt_reply_in_either_order(order: str) -> None:
    rcpt = [("a@example.org", TEMP), ("b@example.org", UNKNOWN)]
    if order == "550 first":
        rcpt.reverse()
    verdicts = {r.recipient: r for r in recipient_verdicts(rcpt, None)}
    a, b = verdicts["a@example.org"], verdicts["b@example.org"]
    assert (a.status, a.smtp_code, a.enhanced_code, a.text) == (
        RecipientStatus.DEFERRED, 451, "4.3.0", "4.3.0 Temporary failure, please try again later")
    assert (b.status, b.smtp_code, b.enhanced_code, b.diagnosis) == (
        RecipientStatus.FAILED, 550, "5.1.1", "send.recipient_unknown")
    assert "User unknown" in b.text and "User unknown" not in a.text

    outcome = classify_send_outcome(list(verdicts.values()), attempt=1, queued_at=T0, now=T0,
                                    policy=RetryPolicy(jitter="none"), rng=half)
    # Retried for the deferred recipient only; the failed one stays failed.
    assert outcome.state is S.DEFERRED and outcome.retry_at == T0 + timedelta(seconds=300)
    assert outcome.deferred == ("a@example.org",) and outcome.failed == ("b@example.org",)
    assert outcome.reason == "server.temporary_failure"


def test_accepted_recipients_get_the_data_reply_refused_ones_keep_theirs() -> None:
    rcpt = [("a@example.org", OK), ("b@example.org", UNKNOWN), ("c@example.org", TEMP)]
    sent = recipient_verdicts(rcpt, SmtpReply(250, "2.0.0 Ok: queued as 4XYZ"))
    assert [(r.recipient, r.status, r.smtp_code) for r in sent] == [
        ("a@example.org", RecipientStatus.ACCEPTED, 250),
        ("b@example.org", RecipientStatus.FAILED, 550),
        ("c@example.org", RecipientStatus.DEFERRED, 451),
    ]
    assert sent[0].text == "2.0.0 Ok: queued as 4XYZ"

    data_refused = recipient_verdicts(rcpt, SmtpReply(554, "5.6.0 Message content rejected"))
    assert [(r.status, r.smtp_code) for r in data_refused] == [
        (RecipientStatus.FAILED, 554), (RecipientStatus.FAILED, 550),
        (RecipientStatus.DEFERRED, 451)]

    data_deferred = recipient_verdicts(rcpt, SmtpReply(452, "4.3.1 Insufficient system storage"))
    assert data_deferred[0].status is RecipientStatus.DEFERRED
    assert data_deferred[1].status is RecipientStatus.FAILED


def test_an_accepted_recipient_without_a_data_reply_has_no_reply() -> None:
    [only] = recipient_verdicts([("a@example.org", OK)], None)
    assert only.smtp_code is None and only.status is RecipientStatus.DEFERRED


def test_a_refusal_keeps_the_adapters_diagnosis() -> None:
    reply = SmtpReply(550, "5.7.1 Relaying denied", diagnosis="send.relay_denied")
    [only] = recipient_verdicts([("a@example.org", reply)], None)
    assert only.diagnosis == "send.relay_denied" and only.status is RecipientStatus.FAILED
