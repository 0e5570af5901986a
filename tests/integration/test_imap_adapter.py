"""The asyncio IMAP adapter against the lab's real Dovecot and against fault servers, plus its
pure helpers (quoting, LIST parsing, special-use lookup, pins)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ssl
import time

import pytest

from lab import MailLab
from lab.faults import FaultServers
from mailport.adapters.imap import (
    ImapEndpoint,
    ImapSession,
    Mailbox,
    find_special_use,
    imap_quote,
    parse_list_line,
)
from mailport.adapters.imap.wire import LiteralArg
from mailport.adapters.secrets import Secret
from mailport.adapters.tls import normalize_fingerprint
from mailport.errors import (
    NetworkError,
    ProtocolError,
    RemoteAuthError,
    RemoteError,
    RemoteTimeout,
    TLSError,
    ValidationError,
)
from mailport.settings import Settings

USER = "user@example.test"


class LocalResolver:
    async def resolve_addresses(self, host: str) -> list[str]:
        if host == "localhost":
            return ["127.0.0.1"]
        raise NetworkError(f"no such host {host}", code="net.host_not_found", stage="dns")


PASSWORD = "password"


def lab_leaf_fingerprint(mail_lab: MailLab) -> str:
    chain = mail_lab.ca_pem_path.with_name("server-chain.pem").read_text()
    leaf = chain.split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n"
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(leaf)).hexdigest()


def lab_settings(mail_lab: MailLab | None = None, **overrides: object) -> Settings:
    values: dict[str, object] = {"allow_private_hosts": True, "connect_timeout": 5.0}
    if mail_lab is not None:
        values["ca_file"] = str(mail_lab.ca_pem_path)
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- pure helpers
def test_imap_quote_picks_atom_quoted_or_literal() -> None:
    assert imap_quote("user@example.test") == b"user@example.test"
    assert imap_quote('pa ss"w\\d') == b'"pa ss\\"w\\\\d"'
    assert imap_quote("") == b'""'
    assert imap_quote("NIL") == b'"NIL"'
    literal = imap_quote("pässword")
    assert isinstance(literal, LiteralArg) and bytes(literal) == "pässword".encode()
    assert isinstance(imap_quote("a\r\nb"), LiteralArg)
    with pytest.raises(ValidationError):
        imap_quote("a\x00b")


def test_parse_list_line_decodes_flags_and_utf7_names() -> None:
    box = parse_list_line([b'(\\HasNoChildren \\Junk) "/" "Ong&AOk-wenst"'])
    assert box == Mailbox(
        name="Ongéwenst", delimiter="/", flags=frozenset({"\\HasNoChildren", "\\Junk"})
    )
    literal = parse_list_line([(b'() "." {11}', b"Sent Things")])
    assert (literal.name, literal.delimiter) == ("Sent Things", ".")
    nil = parse_list_line([b'(\\Noselect) NIL "Public"'])
    assert nil.delimiter is None and not nil.selectable


def test_find_special_use_prefers_attribute_then_known_names() -> None:
    boxes = [
        Mailbox(name="INBOX", delimiter=".", flags=frozenset()),
        Mailbox(name="INBOX.Spam", delimiter=".", flags=frozenset()),
        Mailbox(name="Reports", delimiter=".", flags=frozenset({"\\Junk"})),
        Mailbox(name="Gesendet", delimiter=".", flags=frozenset()),
    ]
    assert find_special_use(boxes, "\\Junk") == boxes[2]
    assert find_special_use(boxes[:2], "\\Junk") == boxes[1]
    assert find_special_use(boxes, "\\Sent") == boxes[3]
    assert find_special_use(boxes, "\\Drafts") is None


def test_fingerprint_normalization() -> None:
    hexa = "ab" * 32
    assert normalize_fingerprint(":".join(["AB"] * 32)) == hexa
    assert normalize_fingerprint(f"sha256:{hexa.upper()}") == hexa
    with pytest.raises(ValidationError):
        normalize_fingerprint("ab:cd")
    with pytest.raises(ValidationError):
        normalize_fingerprint("zz" * 32)


# --------------------------------------------------------------------------- the real lab
@pytest.mark.lab
@pytest.mark.parametrize("mode", ["tls", "starttls"])
async def test_login_list_append_search(mail_lab: MailLab, mode: str) -> None:
    port = mail_lab.imaps_port if mode == "tls" else mail_lab.imap_port
    endpoint = ImapEndpoint(host="localhost", port=port, security=mode, username=USER)  # type: ignore[arg-type]
    stages: list[str] = []
    message_id = f"<imap-{mode}-{time.time_ns()}@example.test>"
    raw = (
        f"From: {USER}\r\nTo: {USER}\r\nSubject: append test\r\nMessage-ID: {message_id}\r\n\r\n"
        "body\r\n"
    ).encode()
    async with ImapSession.open(
        endpoint,
        password=Secret(mail_lab.users[USER]),
        settings=lab_settings(mail_lab),
        resolver=LocalResolver(),
        on_stage=lambda stage, seconds: stages.append(stage),
    ) as imap:
        assert "IMAP4REV1" in imap.capabilities
        assert "STARTTLS" not in imap.capabilities or mode == "starttls"
        boxes = await imap.list_mailboxes()
        assert any(b.name == "INBOX" for b in boxes)
        sent = await imap.find_special_use("\\Sent")
        junk = await imap.find_special_use("\\Junk")
        assert sent is not None and junk is not None
        uid = await imap.append(sent.name, raw, flags=["\\Seen"])
        status = await imap.examine(sent.name)
        assert status.readonly and status.exists >= 1 and status.uidvalidity
        found = await imap.uid_search_message_id(message_id)
        assert found and (uid is None or uid in found)
        assert await imap.uid_search_message_id("<not-there@example.test>") == []
        await imap.noop()
    expected = (
        ["imap.dns", "imap.tcp", "imap.tls", "imap.greeting", "imap.login"]
        if mode == "tls"
        else ["imap.dns", "imap.tcp", "imap.greeting", "imap.tls", "imap.login"]
    )
    assert stages == expected
    assert any(message_id in m.get("Message-ID", "") for m in mail_lab.messages(USER, sent.name))


@pytest.mark.lab
@pytest.mark.parametrize("mode", ["tls", "starttls"])
async def test_untrusted_certificate_shows_its_fingerprint_and_can_be_pinned(
    mail_lab: MailLab, mode: str
) -> None:
    port = mail_lab.imaps_port if mode == "tls" else mail_lab.imap_port
    no_ca = lab_settings(None)
    endpoint = ImapEndpoint(host="localhost", port=port, security=mode, username=USER)  # type: ignore[arg-type]
    with pytest.raises(TLSError) as info:
        async with ImapSession.open(
            endpoint, password=Secret(PASSWORD), settings=no_ca, resolver=LocalResolver()
        ):
            pass
    assert (info.value.code, info.value.stage) == ("tls.certificate_invalid", "imap.tls")
    fingerprint = info.value.certificate_sha256
    assert fingerprint == lab_leaf_fingerprint(mail_lab)
    pinned = ImapEndpoint(
        host="localhost",
        port=port,
        security=mode,
        username=USER,  # type: ignore[arg-type]
        pin_sha256=fingerprint,
    )
    async with ImapSession.open(
        pinned, password=Secret(PASSWORD), settings=no_ca, resolver=LocalResolver()
    ) as imap:
        assert (await imap.examine("INBOX")).readonly


@pytest.mark.lab
async def test_password_needing_a_literal_logs_in(mail_lab: MailLab) -> None:
    # Non-ASCII and quotes: sent as an IMAP literal / quoted string, not mangled.
    odd_user, odd_password = "odd@example.test", 'pä"ss wörd\\'
    mail_lab.add_user(odd_user, odd_password)
    endpoint = ImapEndpoint(
        host="localhost", port=mail_lab.imaps_port, security="tls", username=odd_user
    )
    async with ImapSession.open(
        endpoint,
        password=Secret(odd_password),
        settings=lab_settings(mail_lab),
        resolver=LocalResolver(),
    ) as imap:
        assert (await imap.select("INBOX")).name == "INBOX"


@pytest.mark.lab
async def test_wrong_password_is_invalid_credentials_without_leaking_it(mail_lab: MailLab) -> None:
    endpoint = ImapEndpoint(
        host="localhost", port=mail_lab.imaps_port, security="tls", username=USER
    )
    with pytest.raises(RemoteAuthError) as info:
        async with ImapSession.open(
            endpoint,
            password=Secret("not-the-password"),
            settings=lab_settings(mail_lab),
            resolver=LocalResolver(),
        ):
            pass
    error = info.value
    assert (error.code, error.stage) == ("auth.invalid_credentials", "imap.login")
    assert "AUTHENTICATIONFAILED" in (error.server_text or "")
    assert "not-the-password" not in f"{error} {error!r} {vars(error)} {error.server_text}"


# --------------------------------------------------------------------------- fault servers
async def open_fault(port: int, *, security: str = "tls", **settings: object) -> None:
    endpoint = ImapEndpoint(host="127.0.0.1", port=port, security=security, username=USER)  # type: ignore[arg-type]
    async with ImapSession.open(
        endpoint,
        password=Secret("x"),
        settings=lab_settings(None, **settings),
        resolver=LocalResolver(),
    ):
        pass


async def test_pop3_server_is_the_wrong_service(faults: FaultServers) -> None:
    server = faults.pop3_server()
    with pytest.raises(ProtocolError) as info:
        await open_fault(server.port, security="starttls")
    assert (info.value.code, info.value.stage) == ("net.wrong_service", "imap.greeting")


async def test_never_greeting_times_out(faults: FaultServers) -> None:
    server = faults.silent_server()
    started = time.monotonic()
    with pytest.raises(RemoteTimeout) as info:
        await open_fault(server.port, security="starttls", connect_timeout=0.5)
    assert (info.value.code, info.value.stage) == ("net.timeout", "imap.greeting")
    assert time.monotonic() - started < 3


async def test_closed_port(faults: FaultServers) -> None:
    with pytest.raises(NetworkError) as info:
        await open_fault(faults.closed_port())
    assert (info.value.code, info.value.stage) == ("net.connection_refused", "imap.tcp")


async def test_plaintext_login_is_refused_by_default(faults: FaultServers) -> None:
    with pytest.raises(ValidationError) as info:
        await open_fault(faults.closed_port(), security="none")
    assert info.value.code == "request.insecure_auth"


# --------------------------------------------------------------------------- scripted server
# Dovecot always offers LITERAL+ and SASL-IR; these paths are exercised against a scripted server.
class ScriptedImap:
    """A tiny IMAP server on loopback that plays a fixed conversation and records what it got."""

    def __init__(self, greeting: bytes, capabilities: str) -> None:
        self.greeting = greeting
        self.capabilities = capabilities
        self.received: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> int:
        self.server = await asyncio.start_server(self._talk, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    async def _talk(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(self.greeting)
        try:
            while line := await reader.readline():
                self.received.append(line)
                tag, _, rest = line.rstrip(b"\r\n").partition(b" ")
                verb = rest.split(b" ", 1)[0].upper()
                if verb == b"CAPABILITY":
                    writer.write(
                        b"* CAPABILITY "
                        + self.capabilities.encode()
                        + b"\r\n"
                        + tag
                        + b" OK done\r\n"
                    )
                elif verb == b"LOGIN":
                    # Synchronising literal: ask for it, read it, then refuse the login.
                    size = int(rest.rsplit(b"{", 1)[1].rstrip(b"}"))
                    writer.write(b"+ go ahead\r\n")
                    await writer.drain()
                    self.received.append(await reader.readexactly(size))
                    self.received.append(await reader.readline())
                    writer.write(tag + b" NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")
                elif verb == b"AUTHENTICATE":
                    # RFC 3501 without SASL-IR: "+" for the initial response, then (Gmail-style)
                    # a base64 JSON error challenge that the client acknowledges with "".
                    writer.write(b"+ \r\n")
                    await writer.drain()
                    self.received.append(await reader.readline())
                    writer.write(b"+ eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIn0=\r\n")
                    await writer.drain()
                    self.received.append(await reader.readline())
                    writer.write(tag + b" NO [AUTHENTICATIONFAILED] Invalid token\r\n")
                elif verb == b"LOGOUT":
                    writer.write(b"* BYE\r\n" + tag + b" OK bye\r\n")
                    await writer.drain()
                    break
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


async def test_synchronising_literal_waits_for_continuation() -> None:
    script = ScriptedImap(b"* OK ready\r\n", "IMAP4rev1 AUTH=PLAIN")
    async with script as port:
        endpoint = ImapEndpoint(
            host="127.0.0.1", port=port, security="none", username="ü@example.test"
        )
        with pytest.raises(RemoteAuthError) as info:
            async with ImapSession.open(
                endpoint,
                password=Secret("pässword"),
                resolver=LocalResolver(),
                settings=lab_settings(None, allow_insecure_auth=True),
            ):
                pass
    # user and password both needed literals: "{N}" (not "{N+}") and the data after "+".
    login = next(line for line in script.received if b"LOGIN" in line)
    assert login.endswith(b"{15}\r\n") and b"+}" not in login
    assert "ü@example.test".encode() in script.received
    assert info.value.code == "auth.invalid_credentials"
    assert "pässword" not in f"{info.value} {info.value.server_text}"


async def test_xoauth2_failure_challenge_is_answered_with_an_empty_line() -> None:
    script = ScriptedImap(
        b"* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2] ready\r\n", "IMAP4rev1 AUTH=XOAUTH2"
    )
    async with script as port:
        endpoint = ImapEndpoint(host="127.0.0.1", port=port, security="none", username=USER)
        with pytest.raises(RemoteAuthError) as info:
            async with ImapSession.open(
                endpoint,
                password=None,
                oauth_token="tok-123456",
                resolver=LocalResolver(),
                settings=lab_settings(None, allow_insecure_auth=True),
            ):
                pass
    auth = next(i for i, line in enumerate(script.received) if b"AUTHENTICATE XOAUTH2" in line)
    # Without SASL-IR the initial response follows a "+"; the failure challenge gets "\r\n".
    assert script.received[auth].rstrip().endswith(b"XOAUTH2")
    initial = base64.b64decode(script.received[auth + 1].strip())
    assert initial == f"user={USER}\x01auth=Bearer tok-123456\x01\x01".encode()
    assert script.received[auth + 2] == b"\r\n"
    assert info.value.stage == "imap.login"
    assert info.value.code in {"auth.token_invalid", "auth.invalid_credentials"}


async def test_bye_greeting_and_missing_starttls() -> None:
    async with ScriptedImap(b"* BYE Too many connections\r\n", "IMAP4rev1") as port:
        with pytest.raises(RemoteError) as info:
            await open_fault(port, security="starttls")
        assert info.value.stage == "imap.greeting"
        assert "Too many connections" in (info.value.server_text or "")
    async with ScriptedImap(b"* OK ready\r\n", "IMAP4rev1 AUTH=PLAIN") as port:
        with pytest.raises(TLSError) as tls:
            await open_fault(port, security="starttls")
        assert (tls.value.code, tls.value.stage) == ("tls.starttls_required", "imap.tls")
