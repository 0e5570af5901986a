"""IMAP commands for inbox sync, on an open :class:`~mailport.adapters.imap.client.ImapSession`.

The session owns the connection (TLS, login, diagnosed errors); this module adds what sync
needs: EXAMINE with CONDSTORE/QRESYNC (RFC 7162), ``UID SEARCH``, ``UID FETCH`` with
``CHANGEDSINCE``, and IDLE (RFC 2177). Fetched header fields become
:class:`~mailport.core.summary.FetchedMessage` records (:func:`mailport.core.summary.summarize`).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from imapclient.exceptions import ProtocolError as ImapParseError  # type: ignore[import-untyped]
from imapclient.response_parser import (  # type: ignore[import-untyped]
    parse_fetch_response,
    parse_message_list,
)

from mailport.adapters.imap.client import ImapSession
from mailport.adapters.imap.wire import mailbox_arg
from mailport.core.summary import SNIPPET_BYTES, FetchedMessage, summarize
from mailport.core.syncplan import FolderSnapshot, uid_set
from mailport.errors import NetworkError, ProtocolError, RemoteError, ValidationError

__all__ = [
    "FETCH_BATCH",
    "FolderOpened",
    "IdleResult",
    "SyncSession",
]

FETCH_BATCH = 500
# Only the header fields the store keeps (real mail carries kilobytes of Received/DKIM/ARC
# headers nobody lists): less to transfer and to parse.
_HEADER_FIELDS = (b"FROM TO CC REPLY-TO SUBJECT DATE MESSAGE-ID IN-REPLY-TO REFERENCES CONTENT-TYPE "
                  b"CONTENT-TRANSFER-ENCODING X-FAILED-RECIPIENTS AUTO-SUBMITTED")
_CODE = re.compile(r"^\[([A-Za-z0-9.-]+)(?: ([^\]]*))?\]")
_RECORD_NUMBER = re.compile(rb"^(\d+) ([A-Za-z]+)")
_LITERAL_AT_END = re.compile(rb"\{(\d+)\+?\}\r\n$")


@dataclass(frozen=True, slots=True)
class FolderOpened:
    """What EXAMINE answered: the snapshot for the planner plus QRESYNC's side data."""

    snapshot: FolderSnapshot
    vanished: frozenset[int] = frozenset()
    changed_flags: dict[int, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IdleResult:
    """Why IDLE ended: ``changed`` if the server announced new, expunged or changed messages."""

    changed: bool
    responses: tuple[str, ...] = ()


class SyncSession:
    """Sync commands over one authenticated session (one command at a time, like the session)."""

    def __init__(self, session: ImapSession) -> None:
        self.session = session
        self._wire = session._wire  # the session's connection; we only add commands to it
        self.qresync_enabled = False

    # -- capabilities ---------------------------------------------------------------------------
    @property
    def condstore(self) -> bool:
        return self.session.has_capability("CONDSTORE") or self.qresync_enabled

    @property
    def qresync(self) -> bool:
        return self.qresync_enabled

    @property
    def can_idle(self) -> bool:
        return self.session.has_capability("IDLE")

    async def enable_extensions(self) -> None:
        """ENABLE QRESYNC when offered (it implies CONDSTORE); harmless when refused."""
        if self.session.has_capability("QRESYNC") and self.session.has_capability("ENABLE"):
            reply = await self._wire.command("ENABLE", b"QRESYNC", stage="imap.enable")
            self.qresync_enabled = reply.status == "OK" and any(
                b"QRESYNC" in _head(r).upper() for r in reply.records("ENABLED"))

    # -- folders --------------------------------------------------------------------------------
    async def examine(self, mailbox: str, *, resume: tuple[int, int, Sequence[int]] | None = None) -> FolderOpened:
        """EXAMINE (read-only: syncing never changes the user's mail).

        ``resume``: ``(uidvalidity, highestmodseq, known uids)`` to send with QRESYNC; the server
        then reports VANISHED (EARLIER) UIDs and changed flags itself.
        """
        stage = "imap.select"
        args: list[Any] = [mailbox_arg(mailbox)]
        if resume is not None and self.qresync_enabled:
            known_validity, known_modseq, known = resume
            params = f"{known_validity} {known_modseq}"
            if known:
                params += f" {uid_set(known)}"
            args.append(f"(QRESYNC ({params}))".encode("ascii"))
        elif self.condstore:
            args.append(b"(CONDSTORE)")
        reply = await self._wire.command("EXAMINE", *args, stage=stage)
        if reply.status != "OK":
            raise self._wire.refused(reply, stage=stage, what=f"The server refused to open folder {mailbox!r}")
        exists = 0
        uidvalidity: int | None = None
        uidnext: int | None = None
        modseq: int | None = None
        vanished: set[int] = set()
        fetch_records: list[list[bytes | tuple[bytes, bytes]]] = []
        for record in reply.untagged:
            head = _head(record)
            text = head.decode("utf-8", "replace")
            words = text.split()
            if len(words) == 2 and words[1].upper() == "EXISTS" and words[0].isdigit():
                exists = int(words[0])
            elif words and words[0].upper() == "OK":
                code = _CODE.match(text[3:])
                if code:
                    name, value = code.group(1).upper(), (code.group(2) or "").strip()
                    if name == "UIDVALIDITY" and value.isdigit():
                        uidvalidity = int(value)
                    elif name == "UIDNEXT" and value.isdigit():
                        uidnext = int(value)
                    elif name == "HIGHESTMODSEQ" and value.isdigit():
                        modseq = int(value)
            elif words and words[0].upper() == "VANISHED":
                vanished |= _vanished(head)
            elif len(words) >= 2 and words[1].upper() == "FETCH":
                fetch_records.append(record)
        if uidvalidity is None:
            raise self._wire.error(ProtocolError, "The server did not report UIDVALIDITY", stage=stage)
        changed = {uid: flags for uid, flags, _ in self._parse_flags(fetch_records, stage=stage)}
        self.session.selected = None  # our EXAMINE replaced whatever the session had selected
        return FolderOpened(
            snapshot=FolderSnapshot(uidvalidity=uidvalidity, uidnext=uidnext, exists=exists,
                                    highestmodseq=modseq if self.condstore else None),
            vanished=frozenset(vanished), changed_flags=changed,
        )

    # -- search / fetch ---------------------------------------------------------------------------
    async def uid_search_since(self, since: date) -> list[int]:
        """UIDs of messages that arrived on or after ``since`` (INTERNALDATE, RFC 3501 SINCE)."""
        return await self._uid_search(b"SINCE", since.strftime("%d-%b-%Y").encode("ascii"))

    async def uid_search_from(self, first_uid: int) -> list[int]:
        """UIDs >= ``first_uid`` (``n:*`` also matches the highest UID when it is below n: dropped)."""
        if first_uid < 1:
            raise ValidationError("UIDs start at 1", field="first_uid")
        return [u for u in await self._uid_search(b"UID", f"{first_uid}:*".encode()) if u >= first_uid]

    async def uid_search_all(self) -> list[int]:
        return await self._uid_search(b"ALL")

    async def _uid_search(self, *criteria: bytes) -> list[int]:
        stage = "imap.search"
        reply = await self._wire.command("UID SEARCH", *criteria, stage=stage)
        if reply.status != "OK":
            raise self._wire.refused(reply, stage=stage, what="The server refused the search")
        uids: list[int] = []
        for record in reply.records("SEARCH"):
            data = _head(record)
            # CONDSTORE servers may append "(MODSEQ n)" to a SEARCH answer.
            data = data.split(b"(", 1)[0]
            try:
                uids.extend(parse_message_list([data]))
            except (ImapParseError, ValueError) as exc:
                raise self._wire.error(ProtocolError, "Unreadable SEARCH response", stage=stage,
                                       exception=exc) from exc
        return sorted(set(uids))

    async def fetch_summaries(self, uids: Iterable[int], *, batch: int = FETCH_BATCH) -> list[FetchedMessage]:
        """Headers, flags, size, dates and a body prefix of ``uids``, in UID batches."""
        items = (b"(UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS (" + _HEADER_FIELDS + b")] "
                 b"BODY.PEEK[TEXT]<0." + str(SNIPPET_BYTES).encode() + b">" +
                 (b" MODSEQ)" if self.condstore else b")"))
        found: list[FetchedMessage] = []
        ordered = sorted(set(uids))
        for start in range(0, len(ordered), batch):
            chunk = ordered[start:start + batch]
            parsed = await self._uid_fetch(chunk, items)
            for uid in chunk:
                data = parsed.get(uid)
                if data is None:
                    continue  # expunged between SEARCH and FETCH
                header = _bytes(next((v for k, v in data.items() if k.startswith(b"BODY[HEADER")), None))
                text = _bytes(data.get(b"BODY[TEXT]<0>"))
                found.append(FetchedMessage(
                    uid=uid, flags=_flags(data.get(b"FLAGS")), size=int(data.get(b"RFC822.SIZE") or 0),
                    internal_date=_aware(data.get(b"INTERNALDATE")), modseq=_modseq(data.get(b"MODSEQ")),
                    summary=summarize(header, text),
                ))
        return found

    async def fetch_flags(self, uids: Iterable[int] | None = None, *,
                          changed_since: int | None = None) -> list[tuple[int, tuple[str, ...], int | None]]:
        """``(uid, flags, modseq)`` of ``uids`` (all when None), only those changed since a MODSEQ."""
        stage = "imap.fetch"
        target = b"1:*" if uids is None else uid_set(uids).encode("ascii")
        args: list[bytes] = [target, b"(UID FLAGS" + (b" MODSEQ)" if self.condstore else b")")]
        if changed_since is not None:
            if not self.condstore:
                raise ValidationError("CHANGEDSINCE needs CONDSTORE", field="changed_since")
            args.append(f"(CHANGEDSINCE {changed_since})".encode("ascii"))
        reply = await self._wire.command("UID FETCH", *args, stage=stage)
        if reply.status != "OK":
            raise self._wire.refused(reply, stage=stage, what="The server refused to fetch flags")
        records = [r for r in reply.untagged if _is_fetch(r)]
        return self._parse_flags(records, stage=stage)

    async def fetch_raw(self, uid: int) -> bytes | None:
        """The whole message (``BODY.PEEK[]``: reading it does not mark it seen); None if gone."""
        parsed = await self._uid_fetch([uid], b"(UID BODY.PEEK[])")
        data = parsed.get(uid)
        return _bytes(data.get(b"BODY[]")) if data is not None else None

    async def _uid_fetch(self, uids: Sequence[int], items: bytes) -> dict[int, dict[bytes, Any]]:
        stage = "imap.fetch"
        reply = await self._wire.command("UID FETCH", uid_set(uids).encode("ascii"), items, stage=stage)
        if reply.status != "OK":
            raise self._wire.refused(reply, stage=stage, what="The server refused to fetch messages")
        return self._parse_fetch([r for r in reply.untagged if _is_fetch(r)], stage=stage)

    def _parse_fetch(self, records: list[list[bytes | tuple[bytes, bytes]]], *,
                     stage: str) -> dict[int, dict[bytes, Any]]:
        flat: list[bytes | tuple[bytes, bytes]] = []
        for record in records:
            first = record[0]
            # imaplib hands imapclient "12 (UID …)", without the FETCH keyword.
            if isinstance(first, bytes):
                flat.append(_strip_fetch(first))
            else:
                flat.append((_strip_fetch(first[0]), first[1]))
            flat.extend(record[1:])
        if not flat:
            return {}
        try:
            parsed = parse_fetch_response(flat, normalise_times=False, uid_is_key=True)
        except (ImapParseError, ValueError, IndexError) as exc:
            raise self._wire.error(ProtocolError, "Unreadable FETCH response", stage=stage,
                                   exception=exc) from exc
        return {int(uid): data for uid, data in parsed.items() if b"SEQ" in data and isinstance(uid, int)}

    def _parse_flags(self, records: list[list[bytes | tuple[bytes, bytes]]], *,
                     stage: str) -> list[tuple[int, tuple[str, ...], int | None]]:
        parsed = self._parse_fetch(records, stage=stage)
        return [(uid, _flags(d.get(b"FLAGS")), _modseq(d.get(b"MODSEQ")))
                for uid, d in sorted(parsed.items()) if b"FLAGS" in d]

    # -- IDLE -----------------------------------------------------------------------------------------
    async def idle(self, *, timeout: float, stop: asyncio.Event | None = None) -> IdleResult:
        """IDLE until the server reports a change, ``stop`` is set or ``timeout`` seconds pass;
        then DONE and the command's completion. RFC 2177 asks clients to re-issue IDLE at least
        every 29 minutes; callers pass less."""
        if not self.can_idle:
            raise ValidationError("the server does not support IDLE", field="idle")
        wire = self._wire
        stage = "imap.idle"
        seen: list[str] = []
        changed = False
        async with wire._lock:
            if wire.writer.is_closing():
                raise wire.error(NetworkError, "The IMAP connection is closed", stage=stage,
                                 exception=ConnectionResetError("connection closed"))
            try:
                tag = wire._next_tag()
                await wire._write(tag + b" IDLE\r\n", stage)
                while True:  # the continuation, possibly after untagged data
                    head = _head(await wire.read_record(stage))
                    if head.startswith(b"+"):
                        break
                    if head.startswith(tag + b" "):
                        raise wire.error(ProtocolError, "The server refused IDLE", stage=stage,
                                         text=head.decode("utf-8", "replace")[:200])
                    changed |= _is_change(head[2:] if head.startswith(b"* ") else head)
                deadline = time.monotonic() + timeout
                while not changed and not (stop is not None and stop.is_set()):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    pushed = await self._idle_line(remaining, stop, stage)
                    if pushed is None:
                        break
                    body = pushed[2:] if pushed.startswith(b"* ") else pushed
                    seen.append(body.decode("utf-8", "replace")[:200])
                    changed |= _is_change(body)
                await wire._write(b"DONE\r\n", stage)
                while True:
                    head = _head(await wire.read_record(stage))
                    if head.startswith(tag + b" "):
                        break
                    body = head[2:] if head.startswith(b"* ") else head
                    seen.append(body.decode("utf-8", "replace")[:200])
                    changed |= _is_change(body)
            except (RemoteError, asyncio.CancelledError):
                # Out of step (or cancelled mid-IDLE): this connection cannot be reused.
                wire.writer.close()
                raise
        return IdleResult(changed=changed, responses=tuple(seen))

    async def _idle_line(self, remaining: float, stop: asyncio.Event | None, stage: str) -> bytes | None:
        """The next line the server pushes during IDLE, or None at the deadline / on ``stop``.

        Waits without the session's short read timeout (an idle connection is silent for
        minutes); ``readuntil`` cancelled before a full line leaves the bytes buffered.
        """
        wire = self._wire
        reader = asyncio.ensure_future(wire.reader.readuntil(b"\r\n"))
        # If we are cancelled (shutdown) the read may still end later, with the connection's
        # close: its outcome is consumed here instead of being reported as never retrieved.
        reader.add_done_callback(_consume)
        waiters: set[asyncio.Future[Any]] = {reader}
        stopper = asyncio.ensure_future(stop.wait()) if stop is not None else None
        if stopper is not None:
            waiters.add(stopper)
        try:
            done, _ = await asyncio.wait(waiters, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if stopper is not None:
                stopper.cancel()
        if reader not in done:
            reader.cancel()
            # Let the cancelled read finish before anyone reads again (a StreamReader allows one
            # waiter). asyncio.wait, unlike awaiting the read, neither raises the read's
            # CancelledError nor swallows one aimed at us (engine shutdown).
            await asyncio.wait({reader})
            return None
        try:
            line = reader.result()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, OSError) as exc:
            raise wire.error(NetworkError, "The IMAP server closed the connection", stage=stage,
                             exception=exc) from exc
        if _LITERAL_AT_END.search(line):
            raise wire.error(ProtocolError, "Unexpected literal during IDLE", stage=stage,
                             text=line.decode("utf-8", "replace")[:200])
        return line[:-2]


def _consume(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


# -- parsing helpers ----------------------------------------------------------------------------

def _head(record: list[bytes | tuple[bytes, bytes]]) -> bytes:
    first = record[0]
    return first if isinstance(first, bytes) else first[0]


def _is_fetch(record: list[bytes | tuple[bytes, bytes]]) -> bool:
    match = _RECORD_NUMBER.match(_head(record))
    return bool(match and match.group(2).upper() == b"FETCH")


def _strip_fetch(line: bytes) -> bytes:
    number, _, rest = line.partition(b" ")
    word, _, rest = rest.partition(b" ")
    return number + b" " + rest if word.upper() == b"FETCH" else line


def _is_change(head: bytes) -> bool:
    words = head.split()
    if len(words) >= 2 and words[0].isdigit() and words[1].upper() in (b"EXISTS", b"EXPUNGE", b"FETCH"):
        return True
    return bool(words) and words[0].upper() == b"VANISHED"


def _vanished(head: bytes) -> set[int]:
    # "VANISHED (EARLIER) 1:3,7" or "VANISHED 7"
    text = head.decode("ascii", "replace")
    tail = text.split(")", 1)[1] if "(" in text else text.split(None, 1)[1] if " " in text else ""
    found: set[int] = set()
    for part in tail.strip().split(","):
        if ":" in part:
            low, high = sorted(int(x) for x in part.split(":", 1))
            found.update(range(low, high + 1))
        elif part.strip().isdigit():
            found.add(int(part))
    return found


def _flags(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(sorted(f.decode("utf-8", "replace") if isinstance(f, bytes) else str(f) for f in value))


def _modseq(value: Any) -> int | None:
    if isinstance(value, (tuple, list)) and value:
        value = value[0]
    return int(value) if isinstance(value, int) else None


def _bytes(value: Any) -> bytes:
    if value is None:
        return b""
    return value if isinstance(value, bytes) else str(value).encode("utf-8", "replace")


def _aware(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
