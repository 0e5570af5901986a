"""The IMAP wire: tagged commands, literals and continuation requests over asyncio streams.

One command at a time per connection (:class:`Wire` holds a lock); each response is framed into
imaplib-shaped records (``[(b"… {n}", literal), b"rest"]``) that :mod:`.parser` understands. A
timeout, a dropped connection or an unparseable line leaves the conversation out of step, so the
connection is closed then and later commands fail fast with a :class:`~mailport.errors.NetworkError`.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field

from mailport.adapters.imap.parser import utf7_encode
from mailport.adapters.transport import diagnosed, scrub
from mailport.core.verification import Endpoint
from mailport.errors import (
    NetworkError,
    ProtocolError,
    RemoteError,
    RemoteTimeout,
    ValidationError,
)

__all__ = ["ImapReply", "LiteralArg", "Record", "Wire", "close_writer", "imap_quote", "mailbox_arg"]

Record = list[bytes | tuple[bytes, bytes]]
"""One logical response: its line(s), each announcing a literal paired with that literal."""

MAX_LINE = 1 << 20  # a very long SEARCH answer still fits; a hostile server cannot exhaust memory
_MAX_LITERAL = 256 << 20
LITERAL_AT_END = re.compile(rb"\{(\d+)\+?\}$")
RESPONSE_CODE = re.compile(r"^\[([A-Za-z0-9.-]+)(?: ([^\]]*))?\]")
_ATOM_SAFE = re.compile(r"[A-Za-z0-9!#$&'+,./:;<=>?@^_`|~-]+")

class LiteralArg(bytes):
    """A command argument that must go on the wire as an IMAP literal."""


def imap_quote(value: str) -> bytes | LiteralArg:
    """An IMAP ``astring`` for ``value``: atom, quoted string, or literal (non-ASCII, CR/LF)."""
    if value and _ATOM_SAFE.fullmatch(value) and value.upper() != "NIL":
        return value.encode("ascii")
    if value.isascii() and "\r" not in value and "\n" not in value and "\x00" not in value:
        return b'"' + value.replace("\\", "\\\\").replace('"', '\\"').encode("ascii") + b'"'
    if "\x00" in value:
        raise ValidationError("IMAP strings cannot contain NUL characters")
    return LiteralArg(value.encode("utf-8"))


def mailbox_arg(name: str) -> bytes | LiteralArg:
    # Mailbox names travel in modified UTF-7 (RFC 3501 §5.1.3) unless UTF8=ACCEPT is enabled.
    return imap_quote(utf7_encode(name).decode("ascii"))


@dataclass(slots=True)
class ImapReply:
    """The tagged completion of a command and the untagged records that came with it."""

    status: str  # OK | NO | BAD
    text: str
    untagged: list[list[bytes | tuple[bytes, bytes]]] = field(default_factory=list)

    @property
    def response_code(self) -> tuple[str, str] | None:
        match = RESPONSE_CODE.match(self.text)
        return (match.group(1).upper(), match.group(2) or "") if match else None

    def records(self, keyword: str) -> list[list[bytes | tuple[bytes, bytes]]]:
        """Untagged records whose first word is ``keyword``, with that word stripped."""
        wanted = keyword.upper().encode("ascii")
        found: list[list[bytes | tuple[bytes, bytes]]] = []
        for record in self.untagged:
            first = record[0]
            head = first if isinstance(first, bytes) else first[0]
            word, _, rest = head.partition(b" ")
            if word.upper() == wanted:
                found.append([rest if isinstance(first, bytes) else (rest, first[1]), *record[1:]])
        return found



class Wire:
    """Tagged request/response over a stream pair; one command at a time."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        timeout: float,
        endpoint: Endpoint,
        email: str | None,
        secrets: tuple[str, ...],
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.timeout = timeout
        self.endpoint = endpoint
        self.email = email
        self.secrets = secrets
        self.capabilities: frozenset[str] = frozenset()
        self._tag = 0
        self._lock = asyncio.Lock()
        self._buf = bytearray()
        self._pos = 0
        self._need = 0

    # -- reading ----------------------------------------------------------------------------
    # Bytes are read in chunks into one buffer and records cut from it without awaiting per line:
    # a FETCH of 500 messages is a few dozen reads, not several awaits (and timers) per message.
    def take_record(self, stage: str) -> Record | None:
        """A complete record from the buffer, or None when more bytes must be read first."""
        buf = self._buf
        pos = self._pos
        record: Record = []
        while True:
            end = buf.find(b"\r\n", pos)
            if end < 0:
                if len(buf) - pos > MAX_LINE:
                    raise self.error(ProtocolError, "The IMAP server sent an overlong line", stage=stage)
                self._need = 0
                return None
            line = bytes(buf[pos:end])
            if not line.endswith(b"}") or (match := LITERAL_AT_END.search(line)) is None:
                record.append(line)
                self._pos = end + 2
                if self._pos > 65536 and self._pos * 2 > len(buf):
                    del buf[: self._pos]
                    self._pos = 0
                return record
            size = int(match.group(1))
            if size > _MAX_LITERAL:
                raise self.error(
                    ProtocolError, "The IMAP server announced an oversized literal", stage=stage
                )
            start = end + 2
            if start + size > len(buf):
                self._need = start + size - len(buf)
                return None
            record.append((line, bytes(buf[start : start + size])))
            pos = start + size

    async def fill(self, stage: str, *, limit: bool = True) -> None:
        """Read more bytes into the buffer (at least what a pending literal still needs),
        waiting at most the connection's timeout (``limit``) or for as long as it takes."""
        try:
            async with asyncio.timeout(self.timeout if limit else None):
                data = await self.reader.read(max(65536, self._need))
        except TimeoutError as exc:
            raise self.error(
                RemoteTimeout, "The IMAP server did not answer in time", stage=stage, exception=exc
            ) from exc
        except (ConnectionError, OSError) as exc:
            raise self.error(
                NetworkError, "The IMAP server closed the connection", stage=stage, exception=exc
            ) from exc
        if not data:
            raise self.error(
                NetworkError,
                "The IMAP server closed the connection",
                stage=stage,
                exception=ConnectionResetError("connection closed"),
            )
        if self._pos and self._pos == len(self._buf):
            self._buf.clear()
            self._pos = 0
        self._buf += data

    @property
    def buffered(self) -> int:
        """Bytes received and not yet consumed."""
        return len(self._buf) - self._pos

    async def read_record(self, stage: str) -> Record:
        """One logical response: a line plus any literals it announces, imaplib-shaped
        (each line without its CRLF)."""
        while True:
            record = self.take_record(stage)
            if record is not None:
                return record
            await self.fill(stage)

    # -- commands ---------------------------------------------------------------------------
    def _next_tag(self) -> bytes:
        self._tag += 1
        return b"M%04d" % self._tag

    async def command(
        self, name: str, *args: bytes | LiteralArg, stage: str, sasl_responses: Sequence[bytes] = ()
    ) -> ImapReply:
        """Send ``name args`` and collect everything up to its tagged completion.

        A timeout, a dropped connection or an unparseable line leaves the conversation out of
        step (a late tagged reply would be taken for the next command's), so the connection is
        closed then; later commands fail fast with a NetworkError.
        """
        async with self._lock:
            if self.writer.is_closing():
                raise self.error(
                    NetworkError,
                    "The IMAP connection is closed",
                    stage=stage,
                    exception=ConnectionResetError("connection closed"),
                )
            try:
                return await self._exchange(name, args, stage=stage, sasl_responses=sasl_responses)
            except (RemoteTimeout, NetworkError, ProtocolError):
                self.writer.close()
                raise

    async def stream(self, name: str, *args: bytes, stage: str) -> AsyncGenerator[list[Record], None]:
        """Send ``name args`` and yield its untagged records as they arrive, a chunk per read.

        The server keeps sending while the caller works on a chunk (one long ``UID FETCH`` instead
        of a round trip per batch). The connection is held until the generator is exhausted; a
        caller that stops early (or fails) leaves the conversation out of step, so it is closed.
        Raises the server's refusal (NO/BAD) after the last chunk.
        """
        async with self._lock:
            if self.writer.is_closing():
                raise self.error(
                    NetworkError,
                    "The IMAP connection is closed",
                    stage=stage,
                    exception=ConnectionResetError("connection closed"),
                )
            tag = self._next_tag()
            finished = False
            try:
                await self._write(b" ".join((tag, name.encode("ascii"), *args)) + b"\r\n", stage)
                while True:
                    chunk: list[Record] = []
                    while (record := self.take_record(stage)) is not None:
                        first = record[0]
                        head = first if isinstance(first, bytes) else first[0]
                        if head.startswith(b"* "):
                            record[0] = head[2:] if isinstance(first, bytes) else (head[2:], first[1])
                            chunk.append(record)
                        elif head.startswith(tag + b" "):
                            finished = True
                            status, _, text = head[len(tag) + 1 :].partition(b" ")
                            if chunk:
                                yield chunk
                            reply = ImapReply(
                                status=status.decode("ascii", "replace").upper(),
                                text=text.decode("utf-8", "replace"),
                            )
                            if reply.status != "OK":
                                raise self.refused(reply, stage=stage, what=f"The server refused {name}")
                            return
                        else:
                            raise self.error(
                                ProtocolError,
                                "The IMAP server sent an unexpected line",
                                stage=stage,
                                text=head.decode("utf-8", "replace")[:200],
                            )
                    if chunk:
                        yield chunk
                    await self.fill(stage)
            finally:
                if not finished:
                    self.writer.close()

    async def _exchange(
        self,
        name: str,
        args: Sequence[bytes | LiteralArg],
        *,
        stage: str,
        sasl_responses: Sequence[bytes],
    ) -> ImapReply:
        tag = self._next_tag()
        literal_plus = "LITERAL+" in self.capabilities
        # Split the command at each literal: (text up to and including "{n}", literal data).
        segments: list[tuple[bytes, bytes]] = []
        current = tag + b" " + name.encode("ascii")
        for arg in args:
            if isinstance(arg, LiteralArg):
                marker = b"{%d+}" % len(arg) if literal_plus else b"{%d}" % len(arg)
                segments.append((current + b" " + marker, bytes(arg)))
                current = b""
            else:
                current += b" " + arg
        reply = ImapReply(status="", text="")
        responses = list(sasl_responses)
        for prefix, literal in segments:
            await self._write(prefix + b"\r\n", stage)
            # A synchronising literal waits for "+"; the server may reject it instead.
            if not literal_plus and await self._await_continuation(tag, reply, stage):
                return reply
            await self._write(literal, stage)
        await self._write(current + b"\r\n", stage)
        while True:
            record = await self.read_record(stage)
            head = record[0] if isinstance(record[0], bytes) else record[0][0]
            if head.startswith(b"* "):
                first = record[0]
                record[0] = head[2:] if isinstance(first, bytes) else (head[2:], first[1])
                reply.untagged.append(record)
                self._note_capabilities(record)
            elif head.startswith(b"+"):
                # SASL challenge: answer with the next prepared response, or an empty line
                # (which is how XOAUTH2 failures are acknowledged).
                await self._write((responses.pop(0) if responses else b"") + b"\r\n", stage)
            elif head.startswith(tag + b" "):
                status, _, text = head[len(tag) + 1 :].partition(b" ")
                reply.status = status.decode("ascii", "replace").upper()
                reply.text = text.decode("utf-8", "replace")
                self.note_code_capabilities(reply.text)
                return reply
            else:
                raise self.error(
                    ProtocolError,
                    "The IMAP server sent an unexpected line",
                    stage=stage,
                    text=head.decode("utf-8", "replace")[:200],
                )

    async def _await_continuation(self, tag: bytes, reply: ImapReply, stage: str) -> bool:
        """Wait for "+" before literal data; True if the command completed (rejected) instead."""
        while True:
            record = await self.read_record(stage)
            head = record[0] if isinstance(record[0], bytes) else record[0][0]
            if head.startswith(b"+"):
                return False
            if head.startswith(b"* "):
                reply.untagged.append([head[2:], *record[1:]])
                continue
            if head.startswith(tag + b" "):
                status, _, text = head[len(tag) + 1 :].partition(b" ")
                reply.status = status.decode("ascii", "replace").upper()
                reply.text = text.decode("utf-8", "replace")
                return True
            raise self.error(
                ProtocolError,
                "The IMAP server sent an unexpected line",
                stage=stage,
                text=head.decode("utf-8", "replace")[:200],
            )

    async def _write(self, data: bytes, stage: str) -> None:
        try:
            self.writer.write(data)
            await asyncio.wait_for(self.writer.drain(), self.timeout)
        except TimeoutError as exc:
            raise self.error(
                RemoteTimeout, "The IMAP server stopped reading", stage=stage, exception=exc
            ) from exc
        except (ConnectionError, OSError) as exc:
            raise self.error(
                NetworkError, "The IMAP server closed the connection", stage=stage, exception=exc
            ) from exc

    def _note_capabilities(self, record: list[bytes | tuple[bytes, bytes]]) -> None:
        head = record[0]
        if isinstance(head, bytes) and head.upper().startswith(b"CAPABILITY "):
            self.capabilities = frozenset(head[11:].decode("ascii", "replace").upper().split())

    def note_code_capabilities(self, text: str) -> None:
        match = RESPONSE_CODE.match(text)
        if match and match.group(1).upper() == "CAPABILITY":
            self.capabilities = frozenset((match.group(2) or "").upper().split())

    # -- errors -----------------------------------------------------------------------------
    def error(
        self,
        cls: type[RemoteError],
        message: str,
        *,
        stage: str,
        text: str | None = None,
        exception: BaseException | None = None,
        code: str | None = None,
        auth_mechanism: str | None = None,
    ) -> RemoteError:
        where = f"{self.endpoint.host}:{self.endpoint.port}"
        return diagnosed(
            cls,
            f"{message} ({where})",
            protocol="imap",
            stage=stage,
            text=scrub(text, *self.secrets),
            exception=exception,
            email=self.email,
            code=code,
            auth_mechanism=auth_mechanism,
        )

    def refused(
        self,
        reply: ImapReply,
        *,
        stage: str,
        what: str,
        cls: type[RemoteError] = RemoteError,
        auth_mechanism: str | None = None,
    ) -> RemoteError:
        return self.error(
            cls,
            what,
            stage=stage,
            text=f"{reply.status} {reply.text}".strip(),
            auth_mechanism=auth_mechanism,
        )



async def close_writer(writer: asyncio.StreamWriter) -> None:
    writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), 2.0)
    except (TimeoutError, OSError, ssl.SSLError):
        pass
