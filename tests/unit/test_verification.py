"""Verification: the pure plan/report values, the test mail, and the service's stage logic over fakes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default as default_policy
from typing import Any

import pytest

from mailport.adapters.imap import Mailbox, MailboxStatus
from mailport.adapters.secrets import Secret
from mailport.adapters.smtp import RecipientOutcome, SendResult
from mailport.core.verification import (
    AccountConfig,
    Endpoint,
    Outcome,
    RoundTrip,
    Stage,
    StageResult,
    StageStatus,
    VerificationReport,
    build_test_message,
    planned_stages,
)
from mailport.errors import RemoteAuthError, ValidationError
from mailport.services.verify import VerifyService
from mailport.settings import Settings

SMTP_TLS = Endpoint(host="smtp.example.com", port=465, security="tls", username="u@example.com")
SMTP_STARTTLS = Endpoint(
    host="smtp.example.com", port=587, security="starttls", username="u@example.com"
)
IMAP_TLS = Endpoint(host="imap.example.com", port=993, security="tls", username="u@example.com")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def account(*, smtp: Endpoint = SMTP_TLS, imap: Endpoint | None = IMAP_TLS) -> AccountConfig:
    return AccountConfig(email="u@example.com", display_name="Ünïcode Ltd", smtp=smtp, imap=imap)


# --------------------------------------------------------------------------- pure plan and report
def test_stage_order_follows_the_wire() -> None:
    assert [s.value for s in planned_stages(account())] == [
        "smtp.dns",
        "smtp.tcp",
        "smtp.tls",
        "smtp.greeting",
        "smtp.auth",
        "imap.dns",
        "imap.tcp",
        "imap.tls",
        "imap.greeting",
        "imap.login",
        "roundtrip.send",
        "roundtrip.arrival",
    ]
    starttls = [s.value for s in planned_stages(account(smtp=SMTP_STARTTLS, imap=None))]
    assert starttls == [
        "smtp.dns",
        "smtp.tcp",
        "smtp.greeting",
        "smtp.tls",
        "smtp.auth",
        "roundtrip.send",
        "roundtrip.arrival",
    ]


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "::1", "smtp.example.com", "mail.example.com.", "localhost",
                                  "smtp1.example.com", "0mail.example.com", "xn--bcher-kva.example"])
def test_endpoint_takes_addresses_and_names(host: str) -> None:
    assert Endpoint(host=host, port=465, security="tls").host == host


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"host": "", "port": 465, "security": "tls"}, "request.invalid_host"),
        ({"host": "smtp.example.com\r\nX", "port": 465, "security": "tls"}, "request.invalid_host"),
        ({"host": "2130706433", "port": 465, "security": "tls"}, "request.invalid_host"),
        ({"host": "0x7f000001", "port": 465, "security": "tls"}, "request.invalid_host"),
        ({"host": "127.1", "port": 465, "security": "tls"}, "request.invalid_host"),
        ({"host": "0", "port": 465, "security": "tls"}, "request.invalid_host"),
        ({"host": "0177.0.0.1", "port": 465, "security": "tls"}, "request.invalid_host"),
        ({"host": "10.1.1.256", "port": 465, "security": "tls"}, "request.invalid_host"),
        ({"host": "smtp.example.com", "port": 0, "security": "tls"}, "request.invalid_port"),
        ({"host": "smtp.example.com", "port": 70000, "security": "tls"}, "request.invalid_port"),
        ({"host": "smtp.example.com", "port": 465, "security": "ssl"}, "request.invalid_security"),
        (
            {"host": "smtp.example.com", "port": 465, "security": "tls", "username": "a\nb"},
            "request.invalid_username",
        ),
    ],
)
def test_endpoint_rejects_bad_input(kwargs: dict[str, Any], code: str) -> None:
    with pytest.raises(ValidationError) as info:
        Endpoint(**kwargs)
    assert info.value.code == code


def test_internationalized_host_names_connect_by_their_ascii_form() -> None:
    endpoint = Endpoint(host="mail.bücher.example", port=993, security="tls")
    assert endpoint.host == "mail.bücher.example"  # shown to the user as entered
    assert endpoint.ascii_host == "mail.xn--bcher-kva.example"
    assert SMTP_TLS.ascii_host == "smtp.example.com"
    with pytest.raises(ValidationError):
        Endpoint(host="mail.bü cher.example", port=993, security="tls")


def ok(stage: Stage, ms: int = 5) -> StageResult:
    return StageResult(stage=stage, status=StageStatus.OK, duration_ms=ms)


def test_assemble_marks_missing_stages_skipped_and_rejects_unplanned() -> None:
    acct = account(imap=None)
    failed = StageResult(
        stage=Stage.SMTP_TLS,
        status=StageStatus.FAILED,
        duration_ms=30,
        code="tls.certificate_invalid",
        message="bad cert",
    )
    report = VerificationReport.assemble(
        account=acct,
        started_at=NOW,
        duration_ms=40,
        results=[ok(Stage.SMTP_DNS), ok(Stage.SMTP_TCP), failed],
    )
    assert [s.status.value for s in report.stages] == [
        "ok",
        "ok",
        "failed",
        "skipped",
        "skipped",
        "skipped",
        "skipped",
    ]
    assert report.outcome is Outcome.FAILED
    assert not report.ok
    assert report.code == "tls.certificate_invalid"
    assert report.failed_stage == failed
    with pytest.raises(ValueError):
        VerificationReport.assemble(
            account=acct, started_at=NOW, duration_ms=1, results=[ok(Stage.IMAP_LOGIN)]
        )


def all_ok(acct: AccountConfig) -> list[StageResult]:
    return [ok(stage) for stage in planned_stages(acct)]


@pytest.mark.parametrize(
    ("trip", "outcome", "is_ok"),
    [
        (
            RoundTrip(
                message_id="<x@y>", sent=True, arrived=True, landed_in="inbox", folder="INBOX"
            ),
            Outcome.VERIFIED,
            True,
        ),
        (
            RoundTrip(message_id="<x@y>", sent=True, arrived=True, landed_in="junk", folder="Junk"),
            Outcome.DELIVERED_TO_JUNK,
            True,
        ),
        (RoundTrip(message_id="<x@y>", sent=True), Outcome.SENT_UNCONFIRMED, True),
    ],
)
def test_outcomes(trip: RoundTrip, outcome: Outcome, is_ok: bool) -> None:
    acct = account()
    results = all_ok(acct)
    if trip.arrived is None:
        results = [r for r in results if r.stage is not Stage.ARRIVAL]
    report = VerificationReport.assemble(
        account=acct, started_at=NOW, duration_ms=9, results=results, roundtrip=trip
    )
    assert report.outcome is outcome
    assert report.ok is is_ok


def test_not_arrived_outcome_and_json_shape() -> None:
    acct = account()
    results = [r for r in all_ok(acct) if r.stage is not Stage.ARRIVAL]
    results.append(
        StageResult(
            stage=Stage.ARRIVAL,
            status=StageStatus.FAILED,
            duration_ms=60000,
            code="roundtrip.not_arrived",
            message="not found",
        )
    )
    report = VerificationReport.assemble(
        account=acct,
        started_at=NOW,
        duration_ms=61000,
        results=results,
        roundtrip=RoundTrip(message_id="<x@y>", sent=True, arrived=False, sent_copy=None),
    )
    assert report.outcome is Outcome.NOT_ARRIVED
    data = json.loads(json.dumps(report.to_dict()))
    assert data["outcome"] == "not_arrived"
    assert data["code"] == "roundtrip.not_arrived"
    assert data["started_at"] == "2026-11-23T12:00:00+00:00"
    assert data["stages"][-1] == {
        "stage": "roundtrip.arrival",
        "status": "failed",
        "duration_ms": 60000,
        "code": "roundtrip.not_arrived",
        "message": "not found",
        "server_text": None,
    }
    assert data["roundtrip"]["arrived"] is False
    assert report.stage("smtp.tls").status is StageStatus.OK


def test_test_message_is_a_clear_self_addressed_test() -> None:
    raw = build_test_message(
        email="u@example.com",
        display_name="Ünïcode Ltd",
        message_id="<mailport-verify.abc@example.com>",
        date=NOW,
        token="abc",
    )
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    assert raw.isascii()
    msg = message_from_bytes(raw, policy=default_policy)
    assert msg["Message-ID"] == "<mailport-verify.abc@example.com>"
    assert msg["To"] == "u@example.com"
    assert msg["From"].addresses[0].display_name == "Ünïcode Ltd"
    assert msg["From"].addresses[0].addr_spec == "u@example.com"
    assert "mailport" in msg["Subject"] and "test" in msg["Subject"].lower()
    assert msg["Auto-Submitted"] == "auto-generated"
    body = msg.get_content()
    assert "test message from mailport" in body and "abc" in body


def test_test_message_for_an_internationalized_address_needs_smtputf8() -> None:
    raw = build_test_message(
        email="jürgen@bücher.example", display_name="", message_id="<a@b>", date=NOW, token="t"
    )
    assert "jürgen@bücher.example".encode() in raw


# --------------------------------------------------------------------------- service over fakes
class FakeSmtp:
    def __init__(self) -> None:
        self.sent: list[tuple[str, list[str], bytes]] = []

    @property
    def extensions(self) -> dict[str, str]:
        return {"auth": "PLAIN", "8bitmime": ""}

    def supports(self, extension: str) -> bool:
        return extension in self.extensions

    async def send(
        self, envelope_from: str, recipients: Sequence[str], message_bytes: bytes
    ) -> SendResult:
        self.sent.append((envelope_from, list(recipients), message_bytes))
        return SendResult(
            recipients=tuple(
                RecipientOutcome(address=r, accepted=True, smtp_code=250, server_text="ok")
                for r in recipients
            ),
            smtp_code=250,
            server_text="queued",
            smtputf8=False,
        )


class FakeImap:
    """Delivers the sent message into ``deliver_to`` after ``after_polls`` searches of it."""

    def __init__(
        self,
        smtp: FakeSmtp,
        *,
        deliver_to: str | None,
        after_polls: int = 0,
        sent_copy: bool = False,
    ) -> None:
        self.smtp = smtp
        self.deliver_to = deliver_to
        self.after_polls = after_polls
        self.sent_copy = sent_copy
        self.current = ""
        self.polls = 0
        self.deleted: list[tuple[str, tuple[int, ...]]] = []

    @property
    def capabilities(self) -> frozenset[str]:
        return frozenset({"IMAP4REV1", "SPECIAL-USE"})

    async def list_mailboxes(self) -> list[Mailbox]:
        return [
            Mailbox(name="INBOX", delimiter="/", flags=frozenset()),
            Mailbox(name="Spam", delimiter="/", flags=frozenset({"\\HasNoChildren", "\\Junk"})),
            Mailbox(name="Sent Items", delimiter="/", flags=frozenset({"\\Sent"})),
        ]

    async def examine(self, mailbox: str = "INBOX") -> MailboxStatus:
        self.current = mailbox
        return MailboxStatus(name=mailbox, exists=0, uidvalidity=1, uidnext=1, readonly=True)

    async def select(self, mailbox: str = "INBOX", *, readonly: bool = False) -> MailboxStatus:
        self.current = mailbox
        return MailboxStatus(name=mailbox, exists=0, uidvalidity=1, uidnext=1, readonly=readonly)

    async def delete_uids(self, uids: Sequence[int]) -> bool:
        self.deleted.append((self.current, tuple(uids)))
        return True

    async def uid_search_message_id(self, message_id: str) -> list[int]:
        raw = self.smtp.sent[0][2] if self.smtp.sent else b""
        present = message_id.encode() in raw
        if self.current == "Sent Items":
            return [7] if present and self.sent_copy else []
        if self.current == self.deliver_to:
            self.polls += 1
            return [3] if present and self.polls > self.after_polls else []
        return []


def opener(session: object, *, fail: Exception | None = None, stages: Sequence[str] = ()) -> Any:
    @asynccontextmanager
    async def open_(
        endpoint: Endpoint, *, on_stage: Any, password: Secret | None, **_: Any
    ) -> AsyncIterator[object]:
        assert password is not None and password.reveal() == "s3cret-pass"
        for stage in stages:
            on_stage(stage, 0.002)
        if fail is not None:
            raise fail
        yield session

    return open_


SMTP_STAGES = ("smtp.dns", "smtp.tcp", "smtp.tls", "smtp.greeting", "smtp.auth")
IMAP_STAGES = ("imap.dns", "imap.tcp", "imap.tls", "imap.greeting", "imap.login")


def service(smtp_open: Any, imap_open: Any, *, timeout: float = 5.0) -> VerifyService:
    settings = Settings(verify_roundtrip_timeout=timeout)

    class NoResolver:
        async def resolve_addresses(self, host: str) -> list[str]:
            raise AssertionError("fakes do not resolve")

    return VerifyService(
        settings=settings,
        resolver=NoResolver(),
        now=lambda: NOW,
        token=lambda: "feedc0de",
        open_smtp=smtp_open,
        open_imap=imap_open,
    )


async def test_good_run_lands_in_junk_after_polling_and_reports_progress() -> None:
    smtp = FakeSmtp()
    imap = FakeImap(smtp, deliver_to="Spam", after_polls=2, sent_copy=True)
    seen: list[tuple[str, str]] = []
    report = await service(
        opener(smtp, stages=SMTP_STAGES), opener(imap, stages=IMAP_STAGES)
    ).verify(
        account(),
        password=Secret("s3cret-pass"),
        progress=lambda r: seen.append((r.stage.value, r.status.value)),
    )
    assert report.outcome is Outcome.DELIVERED_TO_JUNK
    assert [s.status for s in report.stages] == [StageStatus.OK] * 12
    assert seen == [(s.value, "ok") for s in planned_stages(account())]
    assert report.stage(Stage.SMTP_TLS).duration_ms == 2
    trip = report.roundtrip
    assert trip is not None
    assert trip.message_id == "<mailport-verify.feedc0de@example.com>"
    assert (trip.landed_in, trip.folder, trip.sent_copy, trip.sent_folder) == (
        "junk",
        "Spam",
        True,
        "Sent Items",
    )
    # Found: removed from where it landed and from Sent.
    assert imap.deleted == [("Spam", (3,)), ("Sent Items", (7,))] and trip.removed is True
    assert smtp.sent[0][:2] == ("u@example.com", ["u@example.com"])
    assert "s3cret-pass" not in json.dumps(report.to_dict())


async def test_without_imap_the_mail_is_sent_but_arrival_not_confirmed() -> None:
    smtp = FakeSmtp()
    seen: list[str] = []
    report = await service(opener(smtp, stages=SMTP_STAGES), opener(None)).verify(
        account(imap=None), password=Secret("s3cret-pass"), progress=lambda r: seen.append(r.stage)
    )
    assert seen == planned_stages(account(imap=None))  # each stage reported once
    assert report.outcome is Outcome.SENT_UNCONFIRMED
    assert report.ok
    assert report.stage(Stage.SEND).status is StageStatus.OK
    arrival = report.stage(Stage.ARRIVAL)
    assert arrival.status is StageStatus.SKIPPED
    assert arrival.message and "arrival not confirmed" in arrival.message
    assert report.roundtrip == RoundTrip(
        message_id="<mailport-verify.feedc0de@example.com>", sent=True
    )


async def test_not_arriving_fails_the_arrival_stage_after_the_timeout() -> None:
    smtp = FakeSmtp()
    imap = FakeImap(smtp, deliver_to=None)
    started = asyncio.get_running_loop().time()
    report = await service(
        opener(smtp, stages=SMTP_STAGES), opener(imap, stages=IMAP_STAGES), timeout=0.5
    ).verify(account(), password=Secret("s3cret-pass"))
    assert 0.5 <= asyncio.get_running_loop().time() - started < 3
    assert report.outcome is Outcome.NOT_ARRIVED
    assert report.code == "roundtrip.not_arrived"
    assert report.roundtrip is not None and report.roundtrip.arrived is False


async def test_a_failed_stage_stops_the_run_and_keeps_its_diagnosis() -> None:
    error = RemoteAuthError(
        "The server refused the login",
        code="auth.invalid_credentials",
        server_text="535 5.7.8 Error: authentication failed",
        smtp_code=535,
        stage="smtp.auth",
    )
    imap_opened = False

    @asynccontextmanager
    async def imap_open(*args: Any, **kwargs: Any) -> AsyncIterator[object]:
        nonlocal imap_opened
        imap_opened = True
        yield None

    seen: list[str] = []
    report = await service(opener(None, fail=error, stages=SMTP_STAGES[:4]), imap_open).verify(
        account(),
        password=Secret("s3cret-pass"),
        progress=lambda r: seen.append(f"{r.stage}:{r.status}"),
    )
    assert not imap_opened  # a wrong password is not tried again over IMAP
    auth = report.stage(Stage.SMTP_AUTH)
    assert (auth.status, auth.code, auth.server_text) == (
        StageStatus.FAILED,
        "auth.invalid_credentials",
        "535 5.7.8 Error: authentication failed",
    )
    assert all(s.status is StageStatus.SKIPPED for s in report.stages[5:])
    assert seen[4] == "smtp.auth:failed" and seen[-1] == "roundtrip.arrival:skipped"
    assert report.roundtrip is None


async def test_an_error_without_a_stage_is_blamed_on_the_first_unfinished_one() -> None:
    error = ValidationError("refused", code="request.insecure_auth")
    report = await service(opener(None, fail=error), opener(None)).verify(
        account(), password=Secret("s3cret-pass")
    )
    assert report.stages[0].stage is Stage.SMTP_DNS
    assert report.stages[0].status is StageStatus.FAILED
    assert report.code == "request.insecure_auth"
