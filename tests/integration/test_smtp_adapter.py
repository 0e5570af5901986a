"""The SMTP adapter against real servers on loopback: Postfix (the lab), aiosmtpd (the sink) and
misbehaving fault servers. Each failure must arrive as a diagnosed mailport error."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from lab import MailLab
from lab.faults import FaultServers
from lab.smtp_sink import SmtpSink
from mailport.adapters.secrets import Secret
from mailport.adapters.smtp import SmtpEndpoint, SmtpSession, needs_smtputf8
from mailport.core.verification import build_test_message
from mailport.errors import (
    HostNotAllowed,
    NetworkError,
    ProtocolError,
    RemoteAuthError,
    RemoteTimeout,
    TLSError,
    ValidationError,
)
from mailport.settings import Settings

USER = "user@example.test"


class LocalResolver:
    """Resolves the lab's names to loopback; anything else is an unknown host."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def resolve_addresses(self, host: str) -> list[str]:
        self.asked.append(host)
        if host == "localhost":
            return ["127.0.0.1"]
        raise NetworkError(f"no such host {host}", code="net.host_not_found", stage="dns")


def lab_settings(mail_lab: MailLab | None = None, **overrides: object) -> Settings:
    values: dict[str, object] = {"allow_private_hosts": True, "connect_timeout": 5.0}
    if mail_lab is not None:
        values["ca_file"] = str(mail_lab.ca_pem_path)
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- pure helpers
def test_needs_smtputf8() -> None:
    assert not needs_smtputf8(
        "a@example.com", ["b@example.com"], b"Subject: hi\r\n\r\nbody \xc3\xa4"
    )
    assert needs_smtputf8("jürgen@example.com", ["b@example.com"], b"Subject: hi\r\n\r\n")
    assert needs_smtputf8("a@example.com", ["b@bücher.example"], b"Subject: hi\r\n\r\n")
    assert needs_smtputf8("a@example.com", ["b@example.com"], "Subject: Grüße\r\n\r\n".encode())


# --------------------------------------------------------------------------- the real lab
@pytest.mark.lab
@pytest.mark.parametrize("mode", ["starttls", "tls"])
async def test_send_through_postfix_with_auth(mail_lab: MailLab, mode: str) -> None:
    port = mail_lab.submission_port if mode == "starttls" else mail_lab.smtps_port
    endpoint = SmtpEndpoint(host="localhost", port=port, security=mode, username=USER)  # type: ignore[arg-type]
    stages: list[str] = []
    resolver = LocalResolver()
    message_id = f"<smtp-{mode}-{time.time_ns()}@example.test>"
    raw = build_test_message(
        email=USER, display_name="Lab", message_id=message_id, date=datetime.now(UTC), token=mode
    )
    async with SmtpSession.open(
        endpoint,
        password=Secret(mail_lab.users[USER]),
        settings=lab_settings(mail_lab),
        resolver=resolver,
        email=USER,
        on_stage=lambda stage, seconds: stages.append(stage),
    ) as smtp:
        assert smtp.supports("8bitmime")
        result = await smtp.send(USER, [USER], raw)
    assert resolver.asked == ["localhost"]
    expected = (
        ["smtp.dns", "smtp.tcp", "smtp.tls", "smtp.greeting", "smtp.auth"]
        if mode == "tls"
        else ["smtp.dns", "smtp.tcp", "smtp.greeting", "smtp.tls", "smtp.auth"]
    )
    assert stages == expected
    assert [s for s, _ in smtp.timings] == expected
    assert result.accepted == (USER,) and not result.refused
    assert result.smtp_code == 250 and "queued" in result.server_text.lower()
    assert mail_lab.wait_for_message(USER, headers={"Message-ID": message_id}, timeout=20)


@pytest.mark.lab
async def test_untrusted_lab_certificate_is_refused_then_accepted_when_pinned(
    mail_lab: MailLab,
) -> None:
    # Without the lab CA the certificate is "self-signed" from the client's point of view.
    settings = lab_settings(None)
    endpoint = SmtpEndpoint(
        host="localhost", port=mail_lab.smtps_port, security="tls", username=USER
    )
    with pytest.raises(TLSError) as info:
        async with SmtpSession.open(
            endpoint, password=Secret("password"), settings=settings, resolver=LocalResolver()
        ):
            pass
    assert info.value.code == "tls.certificate_invalid"
    assert info.value.stage == "smtp.tls"
    fingerprint = info.value.certificate_sha256
    assert isinstance(fingerprint, str) and len(fingerprint) == 64

    starttls = SmtpEndpoint(
        host="localhost", port=mail_lab.submission_port, security="starttls", username=USER
    )
    with pytest.raises(TLSError) as info:
        async with SmtpSession.open(
            starttls, password=Secret("password"), settings=settings, resolver=LocalResolver()
        ):
            pass
    assert (info.value.code, info.value.stage) == ("tls.certificate_invalid", "smtp.tls")
    assert info.value.certificate_sha256 == fingerprint  # read over STARTTLS, too

    pinned = SmtpEndpoint(
        host="localhost",
        port=mail_lab.submission_port,
        security="starttls",
        username=USER,
        pin_sha256=":".join(fingerprint[i : i + 2] for i in range(0, 64, 2)).upper(),
    )
    async with SmtpSession.open(
        pinned, password=Secret("password"), settings=settings, resolver=LocalResolver()
    ) as smtp:
        assert smtp.supports("auth")

    wrong_pin = SmtpEndpoint(
        host="localhost",
        port=mail_lab.smtps_port,
        security="tls",
        username=USER,
        pin_sha256="00" * 32,
    )
    with pytest.raises(TLSError) as info:
        async with SmtpSession.open(
            wrong_pin, password=Secret("password"), settings=settings, resolver=LocalResolver()
        ):
            pass
    assert info.value.code == "tls.certificate_invalid"
    assert info.value.reason == "pin_mismatch"
    assert info.value.certificate_sha256 == fingerprint


# --------------------------------------------------------------------------- aiosmtpd sink
@pytest.fixture
def sink(lab_ca: object) -> Iterator[SmtpSink]:
    server = SmtpSink(tls="starttls", ca=lab_ca, users={USER: "s3cret-pass"})  # type: ignore[arg-type]
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_partial_acceptance_reports_each_recipient(sink: SmtpSink, lab_ca: object) -> None:
    sink.reject_recipient("nobody@example.test")
    settings = lab_settings(None, ca_file=str(lab_ca.ca_pem_path))  # type: ignore[attr-defined]
    endpoint = SmtpEndpoint(host="localhost", port=sink.port, security="starttls", username=USER)
    raw = b"From: user@example.test\r\nTo: x\r\nSubject: t\r\nMessage-ID: <p@example.test>\r\n\r\nhello\r\n"
    async with SmtpSession.open(
        endpoint, password=Secret("s3cret-pass"), settings=settings, resolver=LocalResolver()
    ) as smtp:
        result = await smtp.send(USER, ["user2@example.test", "nobody@example.test"], raw)
        assert result.partial
        assert result.accepted == ("user2@example.test",)
        (refused,) = result.refused
        assert (refused.address, refused.smtp_code) == ("nobody@example.test", 550)
        assert refused.code == "send.recipient_unknown" and not refused.retryable

        with pytest.raises(Exception) as info:
            await smtp.send(USER, ["nobody@example.test"], raw)
        assert getattr(info.value, "code", None) == "send.recipient_unknown"
        assert getattr(info.value, "stage", None) == "smtp.rcpt"
        # The session is still usable after an all-refused transaction (RSET was sent).
        again = await smtp.send(USER, ["user2@example.test"], raw)
        assert again.accepted == ("user2@example.test",)
    assert len(sink.messages) == 2


async def test_provider_reply_is_diagnosed_and_password_never_leaks(
    sink: SmtpSink, lab_ca: object
) -> None:
    sink.set_auth_reply("534-5.7.9 Application-specific password required.\r\n534 5.7.9 Learn more")
    settings = lab_settings(None, ca_file=str(lab_ca.ca_pem_path))  # type: ignore[attr-defined]
    endpoint = SmtpEndpoint(host="localhost", port=sink.port, security="starttls", username=USER)
    with pytest.raises(RemoteAuthError) as info:
        async with SmtpSession.open(
            endpoint,
            password=Secret("s3cret-pass"),
            settings=settings,
            resolver=LocalResolver(),
            email="someone@gmail.com",
        ):
            pass
    error = info.value
    assert error.code == "auth.app_password_required"
    assert (error.stage, error.smtp_code) == ("smtp.auth", 534)
    assert "Application-specific" in (error.server_text or "")
    everything = " ".join([str(error), repr(error), str(vars(error)), error.server_text or ""])
    assert "s3cret-pass" not in everything


async def test_password_over_plaintext_is_refused_before_connecting(sink: SmtpSink) -> None:
    resolver = LocalResolver()
    endpoint = SmtpEndpoint(host="localhost", port=sink.port, security="none", username=USER)
    with pytest.raises(ValidationError) as info:
        async with SmtpSession.open(
            endpoint, password=Secret("s3cret-pass"), settings=lab_settings(None), resolver=resolver
        ):
            pass
    assert info.value.code == "request.insecure_auth"
    assert resolver.asked == []
    # The operator may allow it (trusted network); then plain AUTH works.
    async with SmtpSession.open(
        endpoint,
        password=Secret("s3cret-pass"),
        settings=lab_settings(None, allow_insecure_auth=True),
        resolver=resolver,
    ):
        pass
    assert [(a.mechanism, a.login, a.success) for a in sink.auth_attempts] == [
        ("PLAIN", USER, True)
    ]


# --------------------------------------------------------------------------- fault servers
async def open_fault(port: int, *, security: str = "starttls", **settings: object) -> None:
    endpoint = SmtpEndpoint(host="127.0.0.1", port=port, security=security, username=USER)  # type: ignore[arg-type]
    async with SmtpSession.open(
        endpoint, password=None, settings=lab_settings(None, **settings), resolver=LocalResolver()
    ):
        pass


async def test_closed_port_is_connection_refused(faults: FaultServers) -> None:
    with pytest.raises(NetworkError) as info:
        await open_fault(faults.closed_port())
    assert (info.value.code, info.value.stage) == ("net.connection_refused", "smtp.tcp")


async def test_server_that_never_greets_times_out_fast(faults: FaultServers) -> None:
    server = faults.silent_server()
    started = time.monotonic()
    with pytest.raises(RemoteTimeout) as info:
        await open_fault(server.port, connect_timeout=0.5)
    assert (info.value.code, info.value.stage) == ("net.timeout", "smtp.greeting")
    assert time.monotonic() - started < 3


async def test_pop3_server_is_the_wrong_service(faults: FaultServers) -> None:
    server = faults.pop3_server()
    with pytest.raises(ProtocolError) as info:
        await open_fault(server.port)
    assert (info.value.code, info.value.stage) == ("net.wrong_service", "smtp.greeting")
    assert (info.value.server_text or "").startswith("+OK")


async def test_self_signed_is_refused_unless_pinned(faults: FaultServers) -> None:
    server = faults.selfsigned_smtps_server()
    with pytest.raises(TLSError) as info:
        await open_fault(server.port, security="tls")
    assert (info.value.code, info.value.stage) == ("tls.certificate_invalid", "smtp.tls")
    assert info.value.certificate_sha256 == server.fingerprint_sha256
    # Pinned (colon form, as openssl prints it): TLS is accepted, the fake server then refuses AUTH.
    endpoint = SmtpEndpoint(
        host="127.0.0.1",
        port=server.port,
        security="tls",
        username=USER,
        pin_sha256=server.fingerprint_sha256_colons,
    )
    with pytest.raises(RemoteAuthError) as auth:
        async with SmtpSession.open(
            endpoint,
            password=Secret("x-wrong"),
            settings=lab_settings(None),
            resolver=LocalResolver(),
        ):
            pass
    assert auth.value.stage == "smtp.auth"


async def test_private_addresses_are_refused_unless_allowed(faults: FaultServers) -> None:
    with pytest.raises(HostNotAllowed) as info:
        await open_fault(faults.closed_port(), allow_private_hosts=False)
    assert (info.value.code, info.value.stage) == ("net.host_not_allowed", "smtp.dns")


async def test_unknown_host_fails_at_dns() -> None:
    endpoint = SmtpEndpoint(host="nowhere.invalid", port=587, security="starttls", username=USER)
    with pytest.raises(NetworkError) as info:
        async with SmtpSession.open(
            endpoint, password=None, settings=lab_settings(None), resolver=LocalResolver()
        ):
            pass
    assert (info.value.code, info.value.stage) == ("net.host_not_found", "smtp.dns")


# --------------------------------------------------------------------------- XOAUTH2 (scripted)
async def scripted_xoauth2_server(accept: bool, received: list[bytes]) -> asyncio.Server:
    async def talk(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 scripted ESMTP\r\n")
        while line := await reader.readline():
            received.append(line)
            verb = line.split(b" ", 1)[0].strip().upper()
            if verb == b"EHLO":
                writer.write(b"250-scripted\r\n250 AUTH PLAIN XOAUTH2\r\n")
            elif verb == b"AUTH" and accept:
                writer.write(b"235 2.7.0 Accepted\r\n")
            elif verb == b"AUTH":
                writer.write(b"334 eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIn0=\r\n")
                await writer.drain()
                received.append(await reader.readline())
                writer.write(b"535 5.7.8 Username and Password not accepted. BadCredentials\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            await writer.drain()
        writer.close()

    return await asyncio.start_server(talk, "127.0.0.1", 0)


@pytest.mark.parametrize("accept", [True, False])
async def test_xoauth2_login(accept: bool) -> None:
    received: list[bytes] = []
    server = await scripted_xoauth2_server(accept, received)
    port = server.sockets[0].getsockname()[1]
    endpoint = SmtpEndpoint(host="127.0.0.1", port=port, security="none", username=USER)
    settings = lab_settings(None, allow_insecure_auth=True)
    try:
        if accept:
            async with SmtpSession.open(
                endpoint,
                password=None,
                oauth_token="ya29.token",
                settings=settings,
                resolver=LocalResolver(),
            ):
                pass
        else:
            with pytest.raises(RemoteAuthError) as info:
                async with SmtpSession.open(
                    endpoint,
                    password=None,
                    oauth_token="ya29.token",
                    settings=settings,
                    resolver=LocalResolver(),
                    email="someone@gmail.com",
                ):
                    pass
            assert info.value.stage == "smtp.auth" and info.value.smtp_code == 535
            assert info.value.code in {"auth.token_invalid", "auth.invalid_credentials"}
            assert "ya29.token" not in f"{info.value} {info.value.server_text} {vars(info.value)}"
            assert received[-1] == b"\r\n"  # the JSON challenge is acknowledged with an empty line
    finally:
        server.close()
    auth = next(line for line in received if line.startswith(b"AUTH"))
    blob = base64.b64decode(auth.split()[2])
    assert blob == f"user={USER}\x01auth=Bearer ya29.token\x01\x01".encode()
