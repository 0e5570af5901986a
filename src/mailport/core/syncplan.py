"""What to fetch from one IMAP folder, given what we stored last time and what SELECT says now.

Pure. The stored :class:`FolderCursor` is (UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ) after the last
complete pass; the server's :class:`FolderSnapshot` is what SELECT/EXAMINE answered. RFC 3501:
UIDs are only meaningful together with their UIDVALIDITY, so a changed UIDVALIDITY means every
stored UID of the folder is void and the folder is read again — the storage layer then matches
re-fetched messages to the stored ones by Message-ID so nothing is duplicated (see
:class:`SyncPlan.reset`). RFC 7162: with CONDSTORE only messages whose MODSEQ grew need their flags
re-read; with QRESYNC the server also names expunged UIDs (VANISHED) itself, otherwise we compare
the UID list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from mailport.errors import ValidationError

__all__ = [
    "DEFAULT_WINDOW",
    "FolderCursor",
    "FolderSnapshot",
    "SyncPlan",
    "advance",
    "expunged",
    "plan_folder",
    "uid_set",
    "window_start",
]

DEFAULT_WINDOW = timedelta(days=90)


@dataclass(frozen=True, slots=True, kw_only=True)
class FolderCursor:
    """Where the last complete sync of a folder ended."""

    uidvalidity: int
    uidnext: int
    highestmodseq: int | None = None
    window_start: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FolderSnapshot:
    """The folder as the server reports it on SELECT."""

    uidvalidity: int
    uidnext: int | None
    exists: int
    highestmodseq: int | None = None  # None: the server has no CONDSTORE or NOMODSEQ


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncPlan:
    """The commands one pass over a folder needs.

    ``reset``: UIDVALIDITY changed (or first sync) — forget stored UIDs, search the window again.
    ``search_since``: search ``UID SEARCH SINCE <date>`` (initial or reset pass).
    ``new_from_uid``: fetch UIDs >= this (``UID SEARCH UID n:*``; the answer may include the last
    UID even when it is below ``n``, which callers drop).
    ``flags_changed_since``: ``UID FETCH 1:* (FLAGS) (CHANGEDSINCE m)``; ``None`` with
    ``refresh_all_flags`` false means flags cannot have changed (same MODSEQ).
    ``refresh_all_flags``: no CONDSTORE — re-read FLAGS of every stored UID.
    ``find_expunged``: compare stored UIDs with the server's (no QRESYNC); ``use_qresync``: the
    server reports VANISHED UIDs on SELECT (QRESYNC enabled and a cursor to resume from).
    """

    reset: bool
    search_since: date | None = None
    new_from_uid: int | None = None
    flags_changed_since: int | None = None
    refresh_all_flags: bool = False
    find_expunged: bool = False
    use_qresync: bool = False

    @property
    def nothing_changed(self) -> bool:
        return (not self.reset and self.new_from_uid is None and self.flags_changed_since is None
                and not self.refresh_all_flags and not self.find_expunged)


def plan_folder(
    *,
    cursor: FolderCursor | None,
    snapshot: FolderSnapshot,
    today: date,
    window: timedelta = DEFAULT_WINDOW,
    condstore: bool = False,
    qresync: bool = False,
    stored_count: int | None = None,
) -> SyncPlan:
    """Decide one pass. ``stored_count`` (messages we hold for the folder) lets an unchanged
    folder skip the expunge check when the counts already agree and nothing is new."""
    if window <= timedelta(0):
        raise ValidationError("the sync window must be positive", field="window")
    if cursor is None or cursor.uidvalidity != snapshot.uidvalidity:
        return SyncPlan(reset=True, search_since=today - window)
    modseq_known = condstore and snapshot.highestmodseq is not None and cursor.highestmodseq is not None
    has_new = snapshot.uidnext is None or snapshot.uidnext > cursor.uidnext
    new_from = cursor.uidnext if has_new else None
    if modseq_known:
        assert snapshot.highestmodseq is not None and cursor.highestmodseq is not None
        changed = snapshot.highestmodseq != cursor.highestmodseq
        flags_since = cursor.highestmodseq if changed else None
        if qresync:
            return SyncPlan(reset=False, new_from_uid=new_from, flags_changed_since=flags_since,
                            use_qresync=True)
        # CONDSTORE alone does not report expunges; an expunge raises HIGHESTMODSEQ though.
        return SyncPlan(reset=False, new_from_uid=new_from, flags_changed_since=flags_since,
                        find_expunged=changed)
    # Plain IMAP4rev1: flags and expunges can only be found by looking at every stored UID.
    unchanged = not has_new and stored_count is not None and stored_count == snapshot.exists
    return SyncPlan(reset=False, new_from_uid=new_from, refresh_all_flags=True,
                    find_expunged=not unchanged or stored_count is None)


def advance(
    *,
    snapshot: FolderSnapshot,
    seen_uids: Iterable[int],
    previous: FolderCursor | None,
    window_start: date | None,
    highestmodseq: int | None = None,
) -> FolderCursor:
    """The cursor after a completed pass: UIDNEXT from the server, or one past the highest UID seen.

    ``highestmodseq`` overrides the snapshot's (a FETCH during the pass may report a higher one).
    """
    highest_seen = max(seen_uids, default=0)
    base = previous.uidnext if previous is not None and previous.uidvalidity == snapshot.uidvalidity else 1
    uidnext = max(snapshot.uidnext or 0, highest_seen + 1, base)
    modseq = highestmodseq if highestmodseq is not None else snapshot.highestmodseq
    start = window_start if window_start is not None else (previous.window_start if previous else None)
    return FolderCursor(uidvalidity=snapshot.uidvalidity, uidnext=uidnext, highestmodseq=modseq,
                        window_start=start)


def expunged(stored: Iterable[int], on_server: Iterable[int]) -> set[int]:
    """Stored UIDs the server no longer has."""
    return set(stored) - set(on_server)


def uid_set(uids: Iterable[int]) -> str:
    """RFC 3501 sequence-set of UIDs, with runs compressed: ``[1,2,3,7]`` → ``"1:3,7"``."""
    ordered = sorted(set(uids))
    if not ordered:
        raise ValidationError("an empty UID set cannot be sent to the server", field="uids")
    if ordered[0] < 1:
        raise ValidationError("UIDs start at 1", field="uids")
    parts: list[str] = []
    start = prev = ordered[0]
    for uid in ordered[1:]:
        if uid == prev + 1:
            prev = uid
            continue
        parts.append(f"{start}:{prev}" if prev != start else str(start))
        start = prev = uid
    parts.append(f"{start}:{prev}" if prev != start else str(start))
    return ",".join(parts)


def window_start(now: datetime, window: timedelta = DEFAULT_WINDOW) -> date:
    """First day of the initial sync window (IMAP SINCE has day granularity)."""
    return (now - window).date()
