"""IMAP commands for inbox sync, on an open :class:`~mailport.adapters.imap.client.ImapSession`.

The session owns the connection (TLS, login, diagnosed errors); this module adds what sync
needs: EXAMINE with CONDSTORE/QRESYNC (RFC 7162), ``UID SEARCH``, ``UID FETCH`` with
``CHANGEDSINCE``, and IDLE (RFC 2177).

:meth:`SyncSession.stream_summaries` is the initial sync's fetch: one ``UID FETCH`` of only what
the inbox shows (the stored header fields, BODYSTRUCTURE for attachments, a snippet, flags, size,
dates), read as the server sends it and handed out in batches, so storing one batch overlaps with
receiving the next. Response data is parsed by :mod:`.parser`; header fields by
:func:`mailport.core.summary.summarize`.

The snippet: where the server offers RFC 8970 ``PREVIEW`` (Dovecot 2.3.14+, Cyrus, Stalwart…)
it is the server's own preview, and a first sync asks for ``PREVIEW (LAZY)``: only the previews
the server has at hand (its cache), NIL for the rest, so it need not open every message file.
Those come back ``snippet_pending`` and :meth:`SyncSession.stream_snippets` fetches them later
(plain ``PREVIEW``). Dovecot before 2.3.14 has the draft's ``SNIPPET=FUZZY`` instead, used the
same way. Elsewhere (Gmail, Exchange…) the first kilobyte of the body is fetched and cut here.

IDLE holds no task of its own: it waits on the connection's next read under a deadline, and a
:class:`Wakeup` (the engine's "sync this account now") moves that deadline to now.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncGenerator, Callable, Iterable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mailport.adapters.imap.client import ImapSession
from mailport.adapters.imap.parser import (
    Deferred,
    FetchShape,
    ParseError,
    Value,
    attachments_from_bodystructure,
    parse_fetch,
    parse_internaldate,
    parse_search,
)
from mailport.adapters.imap.wire import Record, mailbox_arg
from mailport.core.summary import (
    SNIPPET_BYTES,
    FetchedMessage,
    header_fields,
    preview_text,
    snippet,
    summarize,
)
from mailport.core.syncplan import FolderSnapshot, uid_set
from mailport.errors import NetworkError, ProtocolError, RemoteError, ValidationError

__all__ = [
    "FETCH_BATCH",
    "FolderOpened",
    "IdleResult",
    "SyncSession",
    "Wakeup",
]

FETCH_BATCH = 500
# Only the header fields the store keeps (real mail carries kilobytes of Received/DKIM/ARC
# headers nobody lists): less to transfer and to parse.
_HEADER_FIELDS = (b"FROM TO CC REPLY-TO SUBJECT DATE MESSAGE-ID IN-REPLY-TO REFERENCES CONTENT-TYPE "
                  b"CONTENT-TRANSFER-ENCODING X-FAILED-RECIPIENTS AUTO-SUBMITTED")
_CODE = re.compile(r"^\[([A-Za-z0-9.-]+)(?: ([^\]]*))?\]")
_RECORD_NUMBER = re.compile(rb"^(\d+) ([A-Za-z]+)")
_DEFER = frozenset((b"BODYSTRUCTURE",))  # parsed only when it may describe an attachment
_BODY_PREFIX = b"BODY.PEEK[TEXT]<0." + str(SNIPPET_BYTES).encode() + b">"
# What a server-made preview is asked with: (item, item with the lazy modifier); None: no preview.
_PREVIEW_ITEMS = {"PREVIEW": (b"PREVIEW", b"PREVIEW (LAZY)"), "SNIPPET": (b"SNIPPET (FUZZY)", b"SNIPPET (LAZY=FUZZY)")}


class Wakeup(asyncio.Event):
    """An :class:`asyncio.Event` that also calls listeners when set (what IDLE waits on)."""

    def __init__(self) -> None:
        super().__init__()
        self._listeners: list[Callable[[], None]] = []

    def set(self) -> None:
        super().set()
        for listener in list(self._listeners):
            listener()

    def listen(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` on :meth:`set` until the returned function is called."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None


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

    @property
    def preview(self) -> str | None:
        """How the server makes snippets itself: ``PREVIEW`` (RFC 8970), ``SNIPPET`` (its draft,
        Dovecot 2.3.0–2.3.13: ``SNIPPET=FUZZY``) or None (the body prefix is cut here)."""
        if self.session.has_capability("PREVIEW"):
            return "PREVIEW"
        if self.session.has_capability("SNIPPET=FUZZY"):
            return "SNIPPET"
        return None

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
        fetch_records: list[Record] = []
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
            try:
                uids.extend(parse_search(_head(record)))
            except ParseError as exc:
                raise self._wire.error(ProtocolError, "Unreadable SEARCH response", stage=stage,
                                       exception=exc) from exc
        return sorted(set(uids))

    def _summary_items(self, *, lazy: bool) -> bytes:
        preview = _PREVIEW_ITEMS.get(self.preview or "")
        snippet_item = _BODY_PREFIX if preview is None else preview[lazy]
        return (b"(UID FLAGS RFC822.SIZE INTERNALDATE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (" + _HEADER_FIELDS
                + b")] " + snippet_item + (b" MODSEQ)" if self.condstore else b")"))

    async def stream_summaries(self, uids: Iterable[int], *, batch: int = FETCH_BATCH,
                               lazy_snippets: bool = False) -> AsyncGenerator[list[FetchedMessage], None]:
        """Summaries of ``uids`` in batches of up to ``batch``, as the server sends them.

        One ``UID FETCH`` for all of them: the server streams while the caller stores. The
        connection is busy until the iterator ends (use ``contextlib.aclosing``); messages
        expunged meanwhile are simply missing. ``lazy_snippets``: where the server makes
        previews, take only those it has at hand; the others are ``snippet_pending``.
        """
        ordered = sorted(set(uids))
        if not ordered:
            return
        stage = "imap.fetch"
        wanted = set(ordered)
        pending: list[FetchedMessage] = []
        stream = self._wire.stream("UID FETCH", uid_set(ordered).encode("ascii"),
                                   self._summary_items(lazy=lazy_snippets), stage=stage)
        shapes: list[FetchShape] = []  # the answer's record shapes, learnt as they come
        async with aclosing(stream):
            async for records in stream:
                for record in records:
                    try:
                        data = _summary_data(record, shapes)
                        if data is None:
                            continue
                        item = _fetched(data)
                    except ParseError as exc:  # includes a deferred BODYSTRUCTURE that does not parse
                        raise self._wire.error(ProtocolError, "Unreadable FETCH response", stage=stage,
                                               exception=exc) from exc
                    if item is not None and item.uid in wanted:
                        pending.append(item)
                while len(pending) >= batch:
                    yield pending[:batch]
                    pending = pending[batch:]
        if pending:
            yield pending

    async def fetch_summaries(self, uids: Iterable[int], *, batch: int = FETCH_BATCH,
                              lazy_snippets: bool = False) -> list[FetchedMessage]:
        """Summaries of ``uids`` (all at once; see :meth:`stream_summaries`)."""
        found: list[FetchedMessage] = []
        async with aclosing(self.stream_summaries(uids, batch=batch, lazy_snippets=lazy_snippets)) as stream:
            async for chunk in stream:
                found.extend(chunk)
        return found

    async def stream_snippets(self, uids: Iterable[int], *,
                              batch: int = FETCH_BATCH) -> AsyncGenerator[dict[int, str], None]:
        """``{uid: snippet}`` of ``uids`` in batches of up to ``batch`` (the server's preview made
        now, or the body prefix cut here); UIDs the server no longer has are missing."""
        ordered = sorted(set(uids))
        if not ordered:
            return
        stage = "imap.fetch"
        preview = _PREVIEW_ITEMS.get(self.preview or "")
        items = (b"(UID " + preview[0] + b")" if preview is not None else
                 b"(UID BODY.PEEK[HEADER.FIELDS (CONTENT-TYPE CONTENT-TRANSFER-ENCODING)] " + _BODY_PREFIX + b")")
        wanted = set(ordered)
        pending: dict[int, str] = {}
        stream = self._wire.stream("UID FETCH", uid_set(ordered).encode("ascii"), items, stage=stage)
        async with aclosing(stream):
            async for records in stream:
                for record in records:
                    if not _is_fetch(record):
                        continue
                    data = self._fetch_data(record, stage)
                    uid = _int(data.get(b"UID"))
                    if uid is None or uid not in wanted:
                        continue
                    text = _preview(data)
                    if text is None and preview is None:
                        fields = header_fields(_header_of(data))
                        body = data.get(b"BODY[TEXT]<0>")
                        text = snippet(fields.get("content-type", ""), fields.get("content-transfer-encoding", ""),
                                       body if isinstance(body, bytes) else b"")
                    pending[uid] = text or ""
                if len(pending) >= batch:
                    yield pending
                    pending = {}
        if pending:
            yield pending

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
        return self._parse_flags([r for r in reply.untagged if _is_fetch(r)], stage=stage)

    async def fetch_raw(self, uid: int) -> bytes | None:
        """The whole message (``BODY.PEEK[]``: reading it does not mark it seen); None if gone."""
        stage = "imap.fetch"
        reply = await self._wire.command("UID FETCH", str(uid).encode("ascii"), b"(UID BODY.PEEK[])",
                                         stage=stage)
        if reply.status != "OK":
            raise self._wire.refused(reply, stage=stage, what="The server refused to fetch the message")
        for record in reply.untagged:
            if _is_fetch(record):
                data = self._fetch_data(record, stage)
                if _int(data.get(b"UID")) == uid:
                    body = data.get(b"BODY[]")
                    return body if isinstance(body, bytes) else b""
        return None

    def _fetch_data(self, record: Record, stage: str, *, defer: frozenset[bytes] = frozenset()) -> dict[bytes, Value]:
        try:
            return parse_fetch(record, defer=defer)[1]
        except ParseError as exc:
            raise self._wire.error(ProtocolError, "Unreadable FETCH response", stage=stage,
                                   exception=exc) from exc

    def _parse_flags(self, records: list[Record], *, stage: str) -> list[tuple[int, tuple[str, ...], int | None]]:
        found: dict[int, tuple[tuple[str, ...], int | None]] = {}
        for record in records:
            data = self._fetch_data(record, stage)
            uid = _int(data.get(b"UID"))
            if uid is not None and b"FLAGS" in data:
                found[uid] = (_flags(data.get(b"FLAGS")), _modseq(data.get(b"MODSEQ")))
        return [(uid, flags, modseq) for uid, (flags, modseq) in sorted(found.items())]

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
                    pushed = await self._idle_record(remaining, stop, stage)
                    if pushed is None:
                        break
                    head = _head(pushed)
                    if len(pushed) > 1 or not isinstance(pushed[0], bytes):
                        raise wire.error(ProtocolError, "Unexpected literal during IDLE", stage=stage,
                                         text=head.decode("utf-8", "replace")[:200])
                    body = head[2:] if head.startswith(b"* ") else head
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

    async def _idle_record(self, remaining: float, stop: asyncio.Event | None, stage: str) -> Record | None:
        """The next record the server pushes during IDLE, or None at the deadline / on ``stop``.

        Waits on the connection's own read, without the session's short timeout (an idle
        connection is silent for minutes) and without a helper task: ``stop`` reschedules the
        deadline to now. A read cancelled that way leaves the bytes in the stream's buffer.
        """
        wire = self._wire
        record = wire.take_record(stage)
        if record is not None:
            return record
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(remaining) as deadline:
                def expire() -> None:
                    if not deadline.expired():
                        deadline.reschedule(loop.time())

                unhook = _on_set(stop, expire)
                task = asyncio.current_task()
                try:
                    while (record := wire.take_record(stage)) is None:
                        if task is not None and task.cancelling():
                            # A cancel that met the deadline can come back here as a plain
                            # wake-up (seen on 3.11 when the engine stops): waiting on would
                            # hold the engine's shutdown for the whole IDLE period.
                            raise asyncio.CancelledError
                        await wire.fill(stage, limit=False)
                finally:
                    unhook()
        except TimeoutError:
            return wire.take_record(stage)
        return record


def _on_set(event: asyncio.Event | None, callback: Callable[[], None]) -> Callable[[], None]:
    """Call ``callback`` when ``event`` is set; returns the function that stops listening."""
    if event is None:
        return lambda: None
    if isinstance(event, Wakeup):
        return event.listen(callback)
    # A plain Event (no listeners): one small task per wait.
    waiter = asyncio.ensure_future(event.wait())
    waiter.add_done_callback(lambda f: None if f.cancelled() else callback())

    def unhook() -> None:
        waiter.cancel()

    return unhook


_HEADER_KEY = b"BODY[HEADER.FIELDS (" + _HEADER_FIELDS + b")]"  # as servers echo it back


def _header_of(data: dict[bytes, Value]) -> bytes:
    value = data.get(_HEADER_KEY)
    if isinstance(value, bytes):
        return value
    for key, value in data.items():
        if key.startswith(b"BODY[HEADER") and isinstance(value, bytes):
            return value
    return b""


def _preview(data: dict[bytes, Value]) -> str | None:
    """The server's preview in a FETCH answer (``PREVIEW "…"`` or ``SNIPPET (FUZZY "…")``); None
    when it sent none (NIL: a lazy request it had no preview at hand for) or was not asked."""
    value = data.get(b"PREVIEW")
    if value is None:
        value = data.get(b"SNIPPET")
        if isinstance(value, list) and len(value) == 2:  # (algorithm text)
            value = value[1]
    return preview_text(value) if isinstance(value, bytes) else None


_SHAPES = 4  # shapes learnt per answer, at most (a server answers one FETCH in one or two)


def _summary_data(record: Record, shapes: list[FetchShape]) -> dict[bytes, Value] | None:
    """The items of one record of the summaries' FETCH answer (None: not a FETCH record), read by
    a shape learnt from an earlier record where one fits, else by :func:`parse_fetch` (and the
    record's shape learnt). Raises :class:`ParseError`."""
    for shape in shapes:
        data = shape.read(record)
        if data is not None:
            return data
    if not _is_fetch(record):
        return None
    data = parse_fetch(record, defer=_DEFER)[1]
    if len(shapes) < _SHAPES and (learnt := FetchShape.learn(record, data, defer=_DEFER)) is not None:
        shapes.append(learnt)
    return data


def _fetched(data: dict[bytes, Value]) -> FetchedMessage | None:
    uid = _int(data.get(b"UID"))
    if uid is None:
        return None
    header = _header_of(data)
    text = data.get(b"BODY[TEXT]<0>")
    preview: str | None = None
    pending = False
    if text is None:
        preview = _preview(data)
        pending = preview is None and (b"PREVIEW" in data or b"SNIPPET" in data)
    structure = data.get(b"BODYSTRUCTURE")
    if isinstance(structure, Deferred):
        # Only a part with a file name or an attachment disposition is an attachment: most
        # structures name neither, and need not be built into lists at all.
        lowered = structure.lower()
        structure = structure.parse() if b"name" in lowered or b"attachment" in lowered else None
    size = data.get(b"RFC822.SIZE")
    return FetchedMessage(
        uid=uid, flags=_flags(data.get(b"FLAGS")), size=int(size) if isinstance(size, bytes) and size.isdigit() else 0,
        internal_date=parse_internaldate(data.get(b"INTERNALDATE")), modseq=_modseq(data.get(b"MODSEQ")),
        summary=summarize(header, text if isinstance(text, bytes) else b"", preview=preview),
        attachments=attachments_from_bodystructure(structure) if isinstance(structure, list) else (),
        snippet_pending=pending,
    )


# -- parsing helpers ----------------------------------------------------------------------------

def _head(record: Record) -> bytes:
    first = record[0]
    return first if isinstance(first, bytes) else first[0]


def _is_fetch(record: Record) -> bool:
    match = _RECORD_NUMBER.match(_head(record))
    return bool(match and match.group(2).upper() == b"FETCH")


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


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, bytes) and value.isdigit() else None


_FLAG_SETS: dict[tuple[Any, ...], tuple[str, ...]] = {}  # a mailbox has few distinct sets of flags


def _flags(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    key = tuple(value)
    found = _FLAG_SETS.get(key)
    if found is None:
        found = tuple(sorted(f.decode("utf-8", "replace") for f in value if isinstance(f, bytes)))
        if len(_FLAG_SETS) < 1024:
            _FLAG_SETS[key] = found
    return found


def _modseq(value: Any) -> int | None:
    if isinstance(value, list) and value:
        value = value[0]
    return _int(value)
