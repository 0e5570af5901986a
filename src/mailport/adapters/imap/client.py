"""An authenticated IMAP4rev1 session: connect, secure, greet, log in; folders, SELECT, APPEND.

Why not aioimaplib: it has no STARTTLS, cannot connect to a checked IP while verifying TLS for the
host name, and takes a POP3 ``+OK`` banner for an IMAP greeting (then hangs). Why not imapclient in
a thread: the inbox sync needs one asyncio worker idling on thousands of accounts, i.e. thousands
of connections on one event loop, not thousands of threads. So the wire layer (:mod:`.wire`) is
small and ours.

:meth:`ImapSession.open` runs ``imap.dns`` → ``imap.tcp`` → ``imap.tls`` → ``imap.greeting``
(banner + CAPABILITY) → ``imap.login`` and reports each to ``on_stage``; failures raise diagnosed
:mod:`mailport.errors` (``protocol="imap"``) like the SMTP adapter's.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from mailport.adapters.imap.parser import ParseError, parse_list, parse_search, utf7_decode
from mailport.adapters.imap.wire import (
    MAX_LINE,
    ImapReply,
    LiteralArg,
    Wire,
    close_writer,
    imap_quote,
    mailbox_arg,
)
from mailport.adapters.secrets import Secret
from mailport.adapters.tls import (
    PROBE_TIMEOUT,
    check_pin,
    handshake_failed,
    peer_fingerprint,
    shared_client_context,
    tls_probe,
    unverified_context,
)
from mailport.adapters.transport import (
    AddressResolver,
    StageClock,
    StageObserver,
    connect_tcp,
    login_secrets,
    open_socket,
)
from mailport.core.oauth import (
    OAUTHBEARER_FAILURE_ACK,
    oauthbearer_initial_response,
    xoauth2_initial_response,
)
from mailport.core.verification import Endpoint
from mailport.errors import (
    ProtocolError,
    RemoteAuthError,
    RemoteError,
    RemoteTimeout,
    TLSError,
    ValidationError,
)

if TYPE_CHECKING:
    from mailport.settings import Settings

__all__ = [
    "ImapEndpoint",
    "ImapSession",
    "Mailbox",
    "MailboxStatus",
    "SpecialUse",
    "find_special_use",
    "parse_list_line",
]

ImapEndpoint = Endpoint

SpecialUse = Literal["\\Sent", "\\Junk", "\\Drafts", "\\Trash", "\\Archive", "\\All", "\\Flagged"]

# Folder names used by servers without SPECIAL-USE (and by older clients that created them).
_FALLBACK_NAMES: dict[str, tuple[str, ...]] = {
    "\\Junk": (
        "junk",
        "spam",
        "junk e-mail",
        "junk email",
        "bulk mail",
        "spamverdacht",
        "indésirables",
        "posta indesiderata",
        "ongewenste e-mail",
    ),
    "\\Sent": (
        "sent",
        "sent items",
        "sent messages",
        "sent mail",
        "gesendet",
        "gesendete objekte",
        "éléments envoyés",
        "posta inviata",
        "verzonden items",
        "verzonden",
    ),
}



@dataclass(frozen=True, slots=True)
class Mailbox:
    name: str
    delimiter: str | None
    flags: frozenset[str]

    @property
    def selectable(self) -> bool:
        return not {"\\noselect", "\\nonexistent"} & {f.lower() for f in self.flags}

    def has_use(self, use: str) -> bool:
        return use.lower() in {f.lower() for f in self.flags}


@dataclass(frozen=True, slots=True)
class MailboxStatus:
    name: str
    exists: int
    uidvalidity: int | None
    uidnext: int | None
    readonly: bool


def parse_list_line(record: list[bytes | tuple[bytes, bytes]]) -> Mailbox:
    """One ``LIST`` record (keyword stripped) → :class:`Mailbox` (name decoded from UTF-7)."""
    flags_raw, delimiter, raw_name = parse_list(record)
    flags = frozenset(f.decode("ascii", "replace") for f in flags_raw)
    delim = delimiter.decode("ascii", "replace") if delimiter is not None else None
    try:
        decoded = utf7_decode(raw_name)
    except (ParseError, UnicodeError):
        decoded = raw_name.decode("utf-8", "replace")
    return Mailbox(name=decoded, delimiter=delim, flags=flags)


def find_special_use(mailboxes: Iterable[Mailbox], use: SpecialUse) -> Mailbox | None:
    """The folder for ``use``: by SPECIAL-USE attribute, else by a well-known name."""
    boxes = [m for m in mailboxes if m.selectable]
    for box in boxes:
        if box.has_use(use):
            return box
    names = _FALLBACK_NAMES.get(use, ())
    for box in boxes:
        leaf = box.name.rsplit(box.delimiter, 1)[-1] if box.delimiter else box.name
        if leaf.lower() in names:
            return box
    return None



class ImapSession:
    """An open, authenticated IMAP connection. Build it with :meth:`open`."""

    def __init__(self, *, wire: Wire, timings: list[tuple[str, float]]) -> None:
        self._wire = wire
        self.timings = timings
        """``(stage, seconds)`` for every connection stage that completed."""
        self.selected: MailboxStatus | None = None

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        endpoint: Endpoint,
        *,
        password: Secret | None,
        oauth_token: str | None = None,
        settings: Settings,
        resolver: AddressResolver,
        email: str | None = None,
        on_stage: StageObserver | None = None,
    ) -> AsyncIterator[ImapSession]:
        """Connect, secure, greet and log in; LOGOUT when the block ends."""
        if (password is None) == (oauth_token is None):
            raise ValidationError("IMAP login needs exactly one of a password or an OAuth token")
        session = await _connect(
            endpoint,
            password=password,
            oauth_token=oauth_token,
            settings=settings,
            resolver=resolver,
            email=email,
            on_stage=on_stage,
            secrets=login_secrets(password, oauth_token),
        )
        try:
            yield session
        finally:
            await session.logout()

    @property
    def capabilities(self) -> frozenset[str]:
        return self._wire.capabilities

    def has_capability(self, name: str) -> bool:
        return name.upper() in self._wire.capabilities

    async def list_mailboxes(self) -> list[Mailbox]:
        reply = await self._wire.command("LIST", b'""', b'"*"', stage="imap.list")
        self._expect_ok(reply, stage="imap.list", what="The server refused to list folders")
        boxes = []
        for record in reply.records("LIST"):
            try:
                boxes.append(parse_list_line(record))
            except ValueError as exc:
                raise self._wire.error(
                    ProtocolError, "Unreadable LIST response", stage="imap.list", exception=exc
                ) from exc
        return boxes

    async def find_special_use(self, use: SpecialUse) -> Mailbox | None:
        """The folder with this SPECIAL-USE attribute (or its well-known name), if any."""
        return find_special_use(await self.list_mailboxes(), use)

    async def select(self, mailbox: str = "INBOX", *, readonly: bool = False) -> MailboxStatus:
        """SELECT (or EXAMINE when ``readonly``) a mailbox."""
        verb = "EXAMINE" if readonly else "SELECT"
        stage = "imap.select"
        reply = await self._wire.command(verb, mailbox_arg(mailbox), stage=stage)
        self._expect_ok(reply, stage=stage, what=f"The server refused to open folder {mailbox!r}")
        exists = 0
        uidvalidity = uidnext = None
        for record in reply.untagged:
            head = record[0] if isinstance(record[0], bytes) else record[0][0]
            text = head.decode("utf-8", "replace")
            words = text.split()
            if len(words) == 2 and words[1].upper() == "EXISTS" and words[0].isdigit():
                exists = int(words[0])
            match = re.match(r"OK \[(UIDVALIDITY|UIDNEXT) (\d+)\]", text, re.IGNORECASE)
            if match:
                if match.group(1).upper() == "UIDVALIDITY":
                    uidvalidity = int(match.group(2))
                else:
                    uidnext = int(match.group(2))
        code = reply.response_code
        status = MailboxStatus(
            name=mailbox,
            exists=exists,
            uidvalidity=uidvalidity,
            uidnext=uidnext,
            readonly=readonly or (code is not None and code[0] == "READ-ONLY"),
        )
        self.selected = status
        return status

    async def examine(self, mailbox: str = "INBOX") -> MailboxStatus:
        return await self.select(mailbox, readonly=True)

    async def uid_search_message_id(self, message_id: str) -> list[int]:
        """UIDs in the selected mailbox whose Message-ID header contains ``message_id``."""
        if self.selected is None:
            raise ValidationError("select a mailbox before searching")
        stage = "imap.search"
        reply = await self._wire.command(
            "UID SEARCH", b"HEADER", b"Message-ID", imap_quote(message_id), stage=stage
        )
        self._expect_ok(reply, stage=stage, what="The server refused the search")
        uids: list[int] = []
        for record in reply.records("SEARCH"):
            data = record[0] if isinstance(record[0], bytes) else record[0][0]
            try:
                uids.extend(parse_search(data))
            except ParseError as exc:
                raise self._wire.error(
                    ProtocolError, "Unreadable SEARCH response", stage=stage, exception=exc
                ) from exc
        return sorted(set(uids))

    async def append(
        self,
        mailbox: str,
        message_bytes: bytes,
        *,
        flags: Sequence[str] = (),
        date: datetime | None = None,
    ) -> int | None:
        """APPEND a message; returns its UID when the server reports it (UIDPLUS), else None."""
        stage = "imap.append"
        for flag in flags:
            if not re.fullmatch(r"\\?[A-Za-z0-9$_.-]+", flag):
                raise ValidationError(f"not a valid IMAP flag: {flag!r}")
        args: list[bytes | LiteralArg] = [mailbox_arg(mailbox)]
        if flags:
            args.append(b"(" + " ".join(flags).encode("ascii") + b")")
        if date is not None:
            if date.tzinfo is None:
                raise ValidationError("APPEND dates must be timezone-aware")
            args.append(b'"' + date.strftime("%d-%b-%Y %H:%M:%S %z").encode("ascii") + b'"')
        args.append(LiteralArg(message_bytes))
        reply = await self._wire.command("APPEND", *args, stage=stage)
        self._expect_ok(
            reply, stage=stage, what=f"The server refused to store the message in {mailbox!r}"
        )
        code = reply.response_code
        if code and code[0] == "APPENDUID":
            parts = code[1].split()
            if len(parts) == 2 and parts[1].isdigit():
                return int(parts[1])
        return None

    async def delete_uids(self, uids: Sequence[int]) -> bool:
        """Flag ``uids`` of the selected (read-write) mailbox \\Deleted and, where the server has
        UIDPLUS, expunge exactly them (a plain EXPUNGE would also remove what the user flagged).
        Returns whether they are gone, not only flagged."""
        if not uids:
            return True
        if self.selected is None or self.selected.readonly:
            raise ValidationError("select a mailbox read-write before deleting")
        stage = "imap.delete"
        uid_set = ",".join(str(int(u)) for u in sorted(set(uids))).encode("ascii")
        reply = await self._wire.command("UID STORE", uid_set, b"+FLAGS.SILENT", b"(\\Deleted)", stage=stage)
        self._expect_ok(reply, stage=stage, what="The server refused to delete the message")
        if not self.has_capability("UIDPLUS"):
            return False
        reply = await self._wire.command("UID EXPUNGE", uid_set, stage=stage)
        self._expect_ok(reply, stage=stage, what="The server refused to delete the message")
        return True

    async def noop(self) -> None:
        reply = await self._wire.command("NOOP", stage="imap.noop")
        self._expect_ok(reply, stage="imap.noop", what="The server refused NOOP")

    async def logout(self) -> None:
        """LOGOUT and close; never raises (the server may already be gone)."""
        writer = self._wire.writer
        if writer.is_closing():
            return
        try:
            await asyncio.wait_for(
                self._wire.command("LOGOUT", stage="imap.logout"), min(self._wire.timeout, 5.0)
            )
        except (TimeoutError, RemoteError, OSError):
            pass
        await close_writer(writer)

    def _expect_ok(self, reply: ImapReply, *, stage: str, what: str) -> None:
        if reply.status != "OK":
            raise self._wire.refused(reply, stage=stage, what=what)



async def _connect(
    endpoint: Endpoint,
    *,
    password: Secret | None,
    oauth_token: str | None,
    settings: Settings,
    resolver: AddressResolver,
    email: str | None,
    on_stage: StageObserver | None,
    secrets: tuple[str, ...],
) -> ImapSession:
    clock = StageClock(on_stage)
    timeout = settings.connect_timeout
    if endpoint.security == "none" and not settings.allow_insecure_auth:
        raise ValidationError(
            "Logging in over an unencrypted connection is refused; use tls or starttls "
            "(or set MAILPORT_ALLOW_INSECURE_AUTH for a trusted network)",
            code="request.insecure_auth",
            stage="imap.login",
        )
    addresses, sock = await open_socket(
        host=endpoint.ascii_host, port=endpoint.port, protocol="imap", resolver=resolver,
        allow_private=settings.private_hosts, timeout=timeout, clock=clock, email=email,
    )

    context = shared_client_context(ca_file=settings.ca_file or None, pin_sha256=endpoint.pin_sha256)
    implicit = endpoint.security == "tls"
    try:
        if implicit:
            reader, writer = await asyncio.open_connection(
                sock=sock,
                limit=MAX_LINE,
                ssl=context,
                server_hostname=endpoint.ascii_host,
                ssl_handshake_timeout=timeout,
            )
        else:
            reader, writer = await asyncio.open_connection(sock=sock, limit=MAX_LINE)
    except (TimeoutError, ssl.SSLError, OSError) as exc:
        sock.close()
        raise await handshake_failed(
            exc, message=f"The TLS handshake failed ({endpoint.host}:{endpoint.port})", protocol="imap",
            stage="imap.tls", email=email,
            presented=lambda: tls_probe(addresses, endpoint, timeout=timeout),
        ) from exc
    wire = Wire(reader, writer, timeout=timeout, endpoint=endpoint, email=email, secrets=secrets)
    try:
        if implicit:
            _check_pin(writer, endpoint)
            clock.done("imap.tls")
        try:
            preauth = await _greeting(wire)
        except RemoteTimeout as exc:
            if not implicit and await tls_probe(addresses, endpoint, timeout=timeout) is not None:
                raise wire.error(
                    TLSError,
                    "This port expects TLS from the first byte",
                    stage="imap.greeting",
                    code="tls.mode_mismatch",
                ) from exc
            raise
        if not wire.capabilities:
            await _capability(wire, stage="imap.greeting")
        clock.done("imap.greeting")
        if endpoint.security == "starttls":
            await _starttls(wire, context, endpoint, addresses)
            clock.done("imap.tls")
        if not preauth:
            await _login(wire, endpoint, password=password, oauth_token=oauth_token)
        clock.done("imap.login")
    except BaseException:
        await close_writer(wire.writer)
        raise
    return ImapSession(wire=wire, timings=clock.completed)


def _check_pin(writer: asyncio.StreamWriter, endpoint: Endpoint) -> None:
    if endpoint.pin_sha256:
        check_pin(
            writer.get_extra_info("ssl_object"), pin_sha256=endpoint.pin_sha256, stage="imap.tls"
        )


async def _greeting(wire: Wire) -> bool:
    """Read the banner; True for PREAUTH. Anything but ``* OK``/``* PREAUTH`` is not IMAP."""
    stage = "imap.greeting"
    record = await wire.read_record(stage)
    head = record[0] if isinstance(record[0], bytes) else record[0][0]
    text = head.decode("utf-8", "replace")
    upper = text.upper()
    if upper.startswith(("* OK", "* PREAUTH")):
        preauth = upper.startswith("* PREAUTH")
        wire.note_code_capabilities(text.split(" ", 2)[2] if text.count(" ") >= 2 else "")
        return preauth
    if upper.startswith("* BYE"):
        raise wire.error(
            RemoteError, "The IMAP server refused the connection", stage=stage, text=text
        )
    raise wire.error(
        ProtocolError, "The server did not greet as an IMAP server", stage=stage, text=text[:200]
    )


async def _capability(wire: Wire, *, stage: str) -> None:
    reply = await wire.command("CAPABILITY", stage=stage)
    if reply.status != "OK":
        raise wire.refused(
            reply, stage=stage, what="The server refused CAPABILITY", cls=ProtocolError
        )
    if "IMAP4REV1" not in wire.capabilities and "IMAP4REV2" not in wire.capabilities:
        raise wire.error(
            ProtocolError,
            "The server does not speak IMAP4rev1",
            stage=stage,
            text=" ".join(sorted(wire.capabilities))[:200],
        )


async def _starttls(
    wire: Wire, context: ssl.SSLContext, endpoint: Endpoint, addresses: Sequence[str]
) -> None:
    stage = "imap.tls"
    if "STARTTLS" not in wire.capabilities:
        raise TLSError(
            f"The server does not offer STARTTLS ({endpoint.host}:{endpoint.port})",
            code="tls.starttls_required",
            stage=stage,
        )
    reply = await wire.command("STARTTLS", stage=stage)
    if reply.status != "OK":
        raise wire.refused(reply, stage=stage, what="The server refused STARTTLS", cls=TLSError)
    if wire.buffered or wire.reader._buffer:  # type: ignore[attr-defined]
        # RFC 2595 §3.1 / STARTTLS injection: nothing may follow the OK before the handshake.
        raise wire.error(
            ProtocolError, "The server sent data before the TLS handshake", stage=stage
        )
    try:
        await wire.writer.start_tls(
            context, server_hostname=endpoint.ascii_host, ssl_handshake_timeout=wire.timeout
        )
    except (TimeoutError, ssl.SSLError, OSError) as exc:
        where = f"{endpoint.host}:{endpoint.port}"
        raise await handshake_failed(
            exc, message=f"The STARTTLS handshake failed ({where})", protocol="imap", stage=stage, email=wire.email,
            presented=lambda: _starttls_fingerprint(addresses, endpoint, timeout=min(wire.timeout, PROBE_TIMEOUT)),
        ) from exc
    _check_pin(wire.writer, endpoint)
    # RFC 3501 §6.2.1: capabilities from before TLS must be discarded.
    wire.capabilities = frozenset()
    await _capability(wire, stage=stage)


async def _starttls_fingerprint(
    addresses: Sequence[str], endpoint: Endpoint, *, timeout: float
) -> str | None:
    """The certificate a STARTTLS server presents, read over a second, unverified connection.

    Only called after verification failed, so the user can be shown what they would be pinning;
    nothing but ``STARTTLS`` is sent on it.
    """
    context = unverified_context()
    try:
        sock = await connect_tcp(
            addresses, endpoint.port, timeout=timeout, protocol="imap", host=endpoint.host
        )
    except RemoteError:
        return None
    try:
        reader, writer = await asyncio.open_connection(sock=sock, limit=MAX_LINE)
    except OSError:
        sock.close()
        return None
    wire = Wire(reader, writer, timeout=timeout, endpoint=endpoint, email=None, secrets=())
    try:
        await _greeting(wire)
        if (await wire.command("STARTTLS", stage="imap.tls")).status != "OK":
            return None
        await writer.start_tls(
            context, server_hostname=endpoint.ascii_host, ssl_handshake_timeout=timeout
        )
        return peer_fingerprint(writer.get_extra_info("ssl_object"))
    except (RemoteError, OSError, TimeoutError):
        return None
    finally:
        await close_writer(writer)


async def _login(
    wire: Wire, endpoint: Endpoint, *, password: Secret | None, oauth_token: str | None
) -> None:
    stage = "imap.login"
    username = endpoint.username
    if not username:
        raise ValidationError(
            "An IMAP user name is required to log in", code="request.missing_username"
        )
    mechanism = b"LOGIN"
    if oauth_token is not None:
        # XOAUTH2 first (Gmail, Microsoft 365); OAUTHBEARER (RFC 7628) where only it is offered.
        if "AUTH=XOAUTH2" in wire.capabilities:
            mechanism, blob = b"XOAUTH2", xoauth2_initial_response(username, oauth_token)
            after: list[bytes] = []  # a failure challenge is acknowledged with an empty line
        elif "AUTH=OAUTHBEARER" in wire.capabilities:
            mechanism = b"OAUTHBEARER"
            blob = oauthbearer_initial_response(
                username, oauth_token, host=endpoint.ascii_host, port=endpoint.port
            )
            after = [OAUTHBEARER_FAILURE_ACK]
        else:
            raise RemoteAuthError(
                f"The server does not offer OAuth (XOAUTH2) login ({endpoint.host})",
                code="unknown",
                stage=stage,
            )
        if "SASL-IR" in wire.capabilities:
            reply = await wire.command(
                "AUTHENTICATE", mechanism, blob, stage=stage, sasl_responses=after
            )
        else:
            reply = await wire.command(
                "AUTHENTICATE", mechanism, stage=stage, sasl_responses=[blob, *after]
            )
    else:
        assert password is not None
        if "LOGINDISABLED" in wire.capabilities:
            code = (
                "tls.starttls_required"
                if endpoint.security == "none"
                else "auth.password_login_disabled"
            )
            raise RemoteAuthError(
                f"The server does not allow password login here ({endpoint.host})",
                code=code,
                stage=stage,
            )
        reply = await wire.command(
            "LOGIN", imap_quote(username), imap_quote(password.reveal()), stage=stage
        )
    if reply.status != "OK":
        raise wire.refused(
            reply,
            stage=stage,
            what="The server refused the login",
            cls=RemoteAuthError,
            auth_mechanism=mechanism.decode(),
        )
    # Servers may change capabilities after login; refresh unless the OK carried them.
    if reply.response_code is None or reply.response_code[0] != "CAPABILITY":
        await _capability(wire, stage=stage)
