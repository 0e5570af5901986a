"""Repository of the inbox tables: folders and cursors, messages, participants, leases, contacts.

Every read of tenant data filters by ``tenant_id``. Message rows are written in batches with
Core ``INSERT`` statements (one per table per batch), so an initial sync of thousands of messages
costs a few round trips, not one per row.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from typing import Any, cast

from sqlalchemy import JSON, Table, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from mailport.adapters.storage.tables import Account
from mailport.adapters.storage.tables_inbox import (
    Contact,
    ContactAddress,
    InboxBody,
    InboxFolder,
    InboxMessage,
    InboxParticipant,
    InboxSync,
    InboxWorker,
)
from mailport.adapters.storage.tables_outbox import Message, MessageRecipient
from mailport.errors import NotFound

__all__ = ["MESSAGE_COLUMNS", "PARTICIPANT_COLUMNS", "ContactRepository", "InboxRepository", "LeaseRepository",
           "StoredUid"]


@dataclass(frozen=True, slots=True)
class StoredUid:
    id: str
    flags: tuple[str, ...]


# The column order of :meth:`InboxRepository.insert_messages`' rows.
MESSAGE_COLUMNS: tuple[str, ...] = (
    "id", "tenant_id", "account_id", "folder_id", "direction", "uidvalidity", "uid", "stale", "header_message_id",
    "in_reply_to", "reference_ids", "thread_id", "subject", "from_name", "from_email", "to", "cc", "date",
    "internal_date", "flags", "size", "snippet", "snippet_pending", "attachments", "sent_message_id", "bounce",
    "created_at")
PARTICIPANT_COLUMNS: tuple[str, ...] = ("message_id", "address", "role", "tenant_id")


def _insert_converted(conn: Any, table: Table, columns: Sequence[str], converted: Sequence[Sequence[Any]],
                      json_at: Sequence[int]) -> None:
    """INSERT rows whose values are what the driver binds (JSON as text).

    On PostgreSQL the rows go to the driver's ``executemany`` (pipelined by psycopg). On SQLite
    they go in multi-row ``INSERT … VALUES (…), (…)`` statements: ``executemany`` steps the
    statement once per row and gives up the GIL and takes it back around each step, which, with
    the event loop's thread parsing the next batch meanwhile, cost a thread switch per row."""
    names = ", ".join(f'"{k}"' for k in columns)
    if conn.dialect.name != "sqlite":
        placeholders = ", ".join("CAST(%s AS JSON)" if i in json_at else "%s" for i in range(len(columns)))
        conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({placeholders})',
                             [tuple(values) for values in converted])
        return
    start = 0
    for size in _SQLITE_ROWS:
        if size * len(columns) > _SQLITE_VARIABLES and size > 1:
            continue
        statement = _values_statement(table.name, names, len(columns), size)
        while len(converted) - start >= size:
            conn.exec_driver_sql(statement, tuple(chain.from_iterable(converted[start:start + size])))
            start += size


# Rows per multi-row statement: a few fixed shapes (a batch of 500 is 1 + 7 + 5 statements), so
# sqlite3's per-connection cache keeps each prepared once instead of one per batch length. The
# variables stay under SQLite's limit (32,766 since SQLite 3.32; the packaged Python's is newer).
_SQLITE_ROWS = (256, 32, 4, 1)
_SQLITE_VARIABLES = 16_000
_JSON_POSITIONS: dict[tuple[str, tuple[str, ...]], tuple[int, ...]] = {}


def _json_positions(table: Table, columns: tuple[str, ...]) -> tuple[int, ...]:
    """The positions of the JSON columns among ``columns`` (cast to JSON on PostgreSQL)."""
    key = (table.name, columns)
    found = _JSON_POSITIONS.get(key)
    if found is None:
        types = {c.name: c.type for c in table.columns}
        found = _JSON_POSITIONS[key] = tuple(i for i, k in enumerate(columns) if isinstance(types[k], JSON))
    return found


@functools.lru_cache(maxsize=16)
def _values_statement(table: str, names: str, width: int, count: int) -> str:
    row = "(" + ", ".join(["?"] * width) + ")"
    return f'INSERT INTO "{table}" ({names}) VALUES ' + ", ".join([row] * count)


# json.dumps builds a C encoder on every call; an initial sync serializes five values per message,
# so one encoder is kept (the same output as json.dumps with its defaults).
_C_ENCODER: Any = getattr(json.encoder, "c_make_encoder", None)
_ENCODE: Callable[[Any, int], Sequence[str]] | None = (
    _C_ENCODER(None, json.JSONEncoder().default, json.encoder.encode_basestring_ascii, None, ": ", ", ",
               False, False, True) if _C_ENCODER is not None else None)


def _json_value(value: Any) -> str | None:
    if value is None:
        return None
    if value == [] and isinstance(value, list):
        return "[]"
    if _ENCODE is not None and isinstance(value, list | dict):
        return "".join(_ENCODE(value, 0))
    return json.dumps(value)


_QUOTE: Callable[[str], str] = json.encoder.encode_basestring_ascii  # C; as json.dumps quotes strings
_FLAGS_JSON: dict[tuple[str, ...], str] = {}  # a mailbox has few distinct sets of flags


def _json_strings(values: Sequence[str]) -> str:
    """``json.dumps(list(values))`` for strings, without the encoder's walk."""
    return "[" + ", ".join(map(_QUOTE, values)) + "]" if values else "[]"


def _json_flags(flags: Sequence[str]) -> str:
    found = _FLAGS_JSON.get(flags) if isinstance(flags, tuple) else None
    if found is None:
        found = _json_strings(flags)
        if isinstance(flags, tuple) and len(_FLAGS_JSON) < 1024:
            _FLAGS_JSON[flags] = found
    return found


def _json_people(pairs: Sequence[tuple[str, str]]) -> str:
    """``json.dumps([{"name": name or None, "email": address}, …])`` of (name, address) pairs."""
    if not pairs:
        return "[]"
    quote = _QUOTE
    return "[" + ", ".join([f'{{"name": {quote(name) if name else "null"}, "email": {quote(address)}}}'
                            for name, address in pairs]) + "]"


def _sqlite_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    zone = value.tzinfo
    if zone is not UTC:
        if zone is None:
            raise ValueError("naive datetime given to the database; use UTC-aware datetimes")
        value = value.astimezone(UTC)
    if value.year < 1000:  # strftime does not pad the year; keep its spelling for these
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value.isoformat(" ", "microseconds")[:26]  # without the "+00:00"


def _sqlite_bool(value: bool | None) -> int | None:
    return None if value is None else 1 if value else 0


def _same(value: Any) -> Any:
    return value


def _pg_time(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("naive datetime given to the database; use UTC-aware datetimes")
    return value


# SQLite without statistics prefers the folder's unique index, which holds every row of the folder:
# the rows waiting for a snippet are found through the partial index that holds only them.
_PENDING_INDEX = "INDEXED BY ix_inbox_messages_snippet_pending"


class LeaseRepository:
    """Which worker syncs which account: a row per account, leased with a guarded UPDATE.

    ``claim`` only takes rows whose lease is free or ran out, in one conditional UPDATE per row:
    on PostgreSQL (READ COMMITTED) a concurrent claimer re-checks the condition after the first
    commits and updates nothing, so each account has exactly one owner.
    """

    def __init__(self, session: Session) -> None:
        self.s = session

    def ensure_rows(self, *, now: datetime) -> int:
        """A sync row for every account: enabled when it has IMAP settings, else ``no_imap``
        (re-checked here, so an account that gains IMAP settings starts syncing)."""
        missing = self.s.execute(
            select(Account.id, Account.tenant_id, Account.imap)
            .outerjoin(InboxSync, InboxSync.account_id == Account.id)
            .where(InboxSync.account_id.is_(None))
        ).all()
        if missing:
            # Workers starting together find the same rows missing: the second insert of a row is
            # skipped, not an error that would stop the worker.
            rows = [{"account_id": account_id, "tenant_id": tenant_id, "enabled": bool(imap),
                     "state": "pending" if imap else "no_imap", "failures": 0, "updated_at": now}
                    for account_id, tenant_id, imap in missing]
            table = cast(Table, InboxSync.__table__)
            if self.s.get_bind().dialect.name == "postgresql":
                self.s.execute(pg_insert(table).on_conflict_do_nothing(index_elements=["account_id"]), rows)
            else:
                self.s.execute(sqlite_insert(table).on_conflict_do_nothing(index_elements=["account_id"]), rows)
        gained = [
            account_id for account_id, imap in self.s.execute(
                select(Account.id, Account.imap).join(InboxSync, InboxSync.account_id == Account.id)
                .where(InboxSync.state == "no_imap"))
            if imap
        ]
        if gained:
            self.s.execute(update(InboxSync).where(InboxSync.account_id.in_(gained))
                           .values(enabled=True, state="pending", updated_at=now)
                           .execution_options(synchronize_session=False))
        self.s.flush()
        return len(missing) + len(gained)

    def claim(self, *, worker_id: str, now: datetime, until: datetime, limit: int) -> list[tuple[str, str]]:
        free = or_(InboxSync.lease_until.is_(None), InboxSync.lease_until < now)
        candidates = self.s.execute(
            select(InboxSync.account_id, InboxSync.tenant_id)
            .where(InboxSync.enabled.is_(True), free)
            .order_by(InboxSync.lease_until.is_not(None), InboxSync.lease_until, InboxSync.account_id)
            .limit(limit)
        ).all()
        won: list[tuple[str, str]] = []
        for account_id, tenant_id in candidates:
            result = self.s.execute(
                update(InboxSync)
                .where(InboxSync.account_id == account_id, InboxSync.enabled.is_(True), free)
                .values(lease_owner=worker_id, lease_until=until)
                .execution_options(synchronize_session=False)
            )
            if getattr(result, "rowcount", 0):
                won.append((tenant_id, account_id))
        return won

    def renew(self, *, worker_id: str, account_ids: Sequence[str], until: datetime) -> set[str]:
        """Extend our leases; returns the accounts still ours (a lost one must stop syncing)."""
        if not account_ids:
            return set()
        self.s.execute(
            update(InboxSync)
            .where(InboxSync.account_id.in_(list(account_ids)), InboxSync.lease_owner == worker_id,
                   InboxSync.enabled.is_(True))
            .values(lease_until=until)
            .execution_options(synchronize_session=False)
        )
        return set(self.s.scalars(
            select(InboxSync.account_id).where(InboxSync.account_id.in_(list(account_ids)),
                                               InboxSync.lease_owner == worker_id,
                                               InboxSync.enabled.is_(True))
        ))

    def disabled(self, *, worker_id: str) -> set[str]:
        """Accounts leased to this worker that were disabled since (a read: no lease is written)."""
        return set(self.s.scalars(
            select(InboxSync.account_id).where(InboxSync.lease_owner == worker_id, InboxSync.enabled.is_(False))))

    def release(self, *, worker_id: str, account_id: str) -> None:
        self.s.execute(
            update(InboxSync).where(InboxSync.account_id == account_id, InboxSync.lease_owner == worker_id)
            .values(lease_owner=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )


    def release_many(self, *, worker_id: str, account_ids: Sequence[str]) -> None:
        if account_ids:
            self.s.execute(
                update(InboxSync).where(InboxSync.account_id.in_(list(account_ids)),
                                        InboxSync.lease_owner == worker_id)
                .values(lease_owner=None, lease_until=None)
                .execution_options(synchronize_session=False)
            )

    def count_by_state(self) -> dict[str, int]:
        return {state: int(n) for state, n in self.s.execute(
            select(InboxSync.state, func.count()).group_by(InboxSync.state))}

    def enabled_count(self) -> int:
        return int(self.s.scalar(select(func.count()).select_from(InboxSync)
                                 .where(InboxSync.enabled.is_(True))) or 0)

    # -- the registry of sync workers ----------------------------------------------------------
    def heartbeat(self, *, worker_id: str, now: datetime, accounts: int) -> None:
        """Say this worker is alive and how many accounts it holds."""
        updated = self.s.execute(
            update(InboxWorker).where(InboxWorker.worker_id == worker_id)
            .values(seen_at=now, accounts=accounts).execution_options(synchronize_session=False))
        if not getattr(updated, "rowcount", 0):
            self.s.add(InboxWorker(worker_id=worker_id, started_at=now, seen_at=now, accounts=accounts))
            self.s.flush()

    def live_workers(self, *, since: datetime) -> list[tuple[str, int]]:
        """``(worker_id, accounts)`` of the workers seen since ``since``."""
        return [(w, int(n)) for w, n in self.s.execute(
            select(InboxWorker.worker_id, InboxWorker.accounts).where(InboxWorker.seen_at >= since)
            .order_by(InboxWorker.worker_id))]

    def forget_worker(self, *, worker_id: str) -> None:
        self.s.execute(delete(InboxWorker).where(InboxWorker.worker_id == worker_id))

    def forget_workers_before(self, *, before: datetime) -> None:
        self.s.execute(delete(InboxWorker).where(InboxWorker.seen_at < before))


class InboxRepository:
    def __init__(self, session: Session) -> None:
        self.s = session

    # -- sync state ------------------------------------------------------------------------------
    def sync_row(self, *, tenant_id: str, account_id: str, now: datetime) -> InboxSync:
        row = self.s.get(InboxSync, account_id)
        if row is None or row.tenant_id != tenant_id:
            if row is not None:
                raise NotFound("no such account", resource="account")
            row = InboxSync(account_id=account_id, tenant_id=tenant_id, enabled=True, state="pending",
                            failures=0, updated_at=now)
            self.s.add(row)
            self.s.flush()
        return row

    def find_sync(self, *, tenant_id: str, account_id: str) -> InboxSync | None:
        return self.s.scalar(select(InboxSync).where(InboxSync.tenant_id == tenant_id,
                                                     InboxSync.account_id == account_id))

    def set_sync(self, *, account_id: str, values: Mapping[str, Any]) -> None:
        self.s.execute(update(InboxSync).where(InboxSync.account_id == account_id).values(**values)
                       .execution_options(synchronize_session=False))

    # -- folders ---------------------------------------------------------------------------------
    def folder(self, *, tenant_id: str, account_id: str, name: str, role: str) -> InboxFolder:
        row = self.s.scalar(select(InboxFolder).where(InboxFolder.account_id == account_id,
                                                      InboxFolder.name == name))
        if row is None:
            row = InboxFolder(tenant_id=tenant_id, account_id=account_id, name=name, role=role)
            self.s.add(row)
            self.s.flush()
        elif row.role != role:
            row.role = role
        return row

    def folders(self, *, account_id: str) -> Sequence[InboxFolder]:
        return self.s.scalars(select(InboxFolder).where(InboxFolder.account_id == account_id)).all()

    def save_cursor(self, folder_id: int, **values: Any) -> None:
        self.s.execute(update(InboxFolder).where(InboxFolder.id == folder_id).values(**values)
                       .execution_options(synchronize_session=False))

    # -- messages --------------------------------------------------------------------------------
    def stored_uids(self, *, folder_id: int, uidvalidity: int) -> dict[int, StoredUid]:
        rows = self.s.execute(
            select(InboxMessage.uid, InboxMessage.id, InboxMessage.flags)
            .where(InboxMessage.folder_id == folder_id, InboxMessage.uidvalidity == uidvalidity,
                   InboxMessage.stale.is_(False), InboxMessage.uid.is_not(None))
        ).all()
        return {int(uid): StoredUid(id=mid, flags=tuple(flags or ())) for uid, mid, flags in rows
                if uid is not None}

    def count(self, *, folder_id: int) -> int:
        return int(self.s.scalar(select(func.count()).select_from(InboxMessage)
                                 .where(InboxMessage.folder_id == folder_id, InboxMessage.stale.is_(False))) or 0)

    def mark_stale(self, *, folder_id: int) -> int:
        """UIDVALIDITY changed: every stored UID of the folder is void until re-matched."""
        result = self.s.execute(update(InboxMessage).where(InboxMessage.folder_id == folder_id)
                                .values(stale=True).execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0)

    def stale_by_message_id(self, *, folder_id: int) -> dict[str, list[str]]:
        rows = self.s.execute(
            select(InboxMessage.header_message_id, InboxMessage.id)
            .where(InboxMessage.folder_id == folder_id, InboxMessage.stale.is_(True),
                   InboxMessage.header_message_id.is_not(None))
            .order_by(InboxMessage.id)
        ).all()
        found: dict[str, list[str]] = {}
        for header_id, mid in rows:
            if header_id:
                found.setdefault(header_id, []).append(mid)
        return found

    def revive(self, *, message_id: str, uidvalidity: int, uid: int, flags: Sequence[str]) -> None:
        self.s.execute(update(InboxMessage).where(InboxMessage.id == message_id)
                       .values(uidvalidity=uidvalidity, uid=uid, flags=list(flags), stale=False)
                       .execution_options(synchronize_session=False))

    def delete_stale(self, *, folder_id: int) -> int:
        ids = list(self.s.scalars(select(InboxMessage.id).where(InboxMessage.folder_id == folder_id,
                                                                 InboxMessage.stale.is_(True))))
        return self._delete_ids(ids)

    def delete_uids(self, *, folder_id: int, uidvalidity: int, uids: Iterable[int]) -> int:
        wanted = list(uids)
        ids: list[str] = []
        for start in range(0, len(wanted), 500):
            ids.extend(self.s.scalars(select(InboxMessage.id).where(
                InboxMessage.folder_id == folder_id, InboxMessage.uidvalidity == uidvalidity,
                InboxMessage.uid.in_(wanted[start:start + 500]))))
        return self._delete_ids(ids)

    def _delete_ids(self, ids: list[str]) -> int:
        # Children first: SQLite only cascades with foreign_keys=ON, and bulk deletes skip ORM cascades.
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            self.s.execute(delete(InboxParticipant).where(InboxParticipant.message_id.in_(chunk)))
            self.s.execute(delete(InboxBody).where(InboxBody.message_id.in_(chunk)))
            self.s.execute(delete(InboxMessage).where(InboxMessage.id.in_(chunk)))
        return len(ids)

    def set_flags(self, *, folder_id: int, uidvalidity: int, changes: Mapping[int, Sequence[str]]) -> None:
        for uid, flags in changes.items():
            self.s.execute(update(InboxMessage).where(
                InboxMessage.folder_id == folder_id, InboxMessage.uidvalidity == uidvalidity,
                InboxMessage.uid == uid).values(flags=list(flags)).execution_options(synchronize_session=False))

    def insert_messages(self, rows: Sequence[Sequence[Any]], participants: Sequence[Sequence[Any]]) -> None:
        """Insert message rows (values in :data:`MESSAGE_COLUMNS`' order) and participant rows
        (:data:`PARTICIPANT_COLUMNS`).

        Message rows come as a sync has them: datetimes aware; ``reference_ids`` and ``flags`` as
        sequences of strings; ``to`` and ``cc`` as ``(name, address)`` pairs (stored as
        ``[{"name": name or null, "email": address}]``); ``attachments`` as JSON-able dicts;
        ``bounce`` a dict or None."""
        # One driver-level INSERT per table and few rows' worth of Python per row: an initial sync
        # inserts thousands of rows a second, and SQLAlchemy's per-row parameter processing cost
        # three times what SQLite spent inserting them (py-spy, bench/bench_imap.py). The JSON
        # columns are written here from their known shapes (strings, address pairs) rather than
        # by the encoder walking dicts built for it.
        conn = self.s.connection()
        if rows:
            sqlite = conn.dialect.name == "sqlite"
            to_time = _sqlite_time if sqlite else _pg_time
            flag = _sqlite_bool if sqlite else _same
            created_at = rows[0][26]
            created = to_time(created_at)
            values = [
                (mid, tenant, account, folder, direction, validity, uid, flag(stale), header_id, in_reply_to,
                 _json_strings(refs), thread, subject, from_name, from_email, _json_people(to), _json_people(cc),
                 to_time(date), to_time(internal_date), _json_flags(flags), size, snippet, flag(pending),
                 _json_value(list(attachments)) if attachments else "[]", sent, _json_value(bounce),
                 created if at is created_at else to_time(at))
                for (mid, tenant, account, folder, direction, validity, uid, stale, header_id, in_reply_to, refs,
                     thread, subject, from_name, from_email, to, cc, date, internal_date, flags, size, snippet,
                     pending, attachments, sent, bounce, at) in rows]
            table = cast(Table, InboxMessage.__table__)
            _insert_converted(conn, table, MESSAGE_COLUMNS, values, _json_positions(table, MESSAGE_COLUMNS))
        if participants:
            _insert_converted(conn, cast(Table, InboxParticipant.__table__), PARTICIPANT_COLUMNS, participants, ())


    def folders_with_pending_snippets(self, *, account_id: str) -> list[tuple[int, str, int]]:
        """``(folder id, name, uidvalidity)`` of the account's folders with messages listed
        without a snippet (a lazy first sync), at the folder's current UIDVALIDITY."""
        # The bare column (not "IS true"): the partial index's term (see tables_inbox).
        pending = (select(InboxMessage.id).with_hint(InboxMessage, _PENDING_INDEX, dialect_name="sqlite").where(
            InboxMessage.folder_id == InboxFolder.id, InboxMessage.snippet_pending,
            InboxMessage.uidvalidity == InboxFolder.uidvalidity).limit(1).exists())
        return [(fid, name, int(validity or 0)) for fid, name, validity in self.s.execute(
            select(InboxFolder.id, InboxFolder.name, InboxFolder.uidvalidity)
            .where(InboxFolder.account_id == account_id, InboxFolder.uidvalidity.is_not(None), pending)
            .order_by(InboxFolder.id))]

    def pending_snippet_uids(self, *, folder_id: int, uidvalidity: int, limit: int) -> list[int]:
        """UIDs (newest first, up to ``limit``) of the folder's messages still waiting for a snippet."""
        return [int(u) for u in self.s.scalars(
            select(func.coalesce(InboxMessage.uid, 0)).with_hint(InboxMessage, _PENDING_INDEX, dialect_name="sqlite")
            .where(InboxMessage.folder_id == folder_id, InboxMessage.snippet_pending,
                   InboxMessage.uidvalidity == uidvalidity, InboxMessage.uid.is_not(None))
            .order_by(InboxMessage.uid.desc()).limit(limit))]

    def set_snippets(self, *, folder_id: int, uidvalidity: int, snippets: Mapping[int, str]) -> int:
        """Fill the snippets of pending messages by UID (one executemany); returns rows changed."""
        if not snippets:
            return 0
        table = cast(Table, InboxMessage.__table__)
        result = self.s.execute(
            update(table).where(table.c.folder_id == folder_id, table.c.uidvalidity == uidvalidity,
                                table.c.uid == bindparam("b_uid"), table.c.snippet_pending)
            .values(snippet=bindparam("b_snippet"), snippet_pending=False),
            [{"b_uid": uid, "b_snippet": text} for uid, text in snippets.items()])
        return int(getattr(result, "rowcount", 0) or 0)

    def update_message(self, message_id: str, **values: Any) -> None:
        self.s.execute(update(InboxMessage).where(InboxMessage.id == message_id).values(**values)
                       .execution_options(synchronize_session=False))

    def header_message_id(self, *, account_id: str, uidvalidity: int, uid: int) -> str | None:
        """The Message-ID header of one stored message of ``account_id`` (by its UID)."""
        return self.s.scalar(select(InboxMessage.header_message_id).where(
            InboxMessage.account_id == account_id, InboxMessage.uidvalidity == uidvalidity,
            InboxMessage.uid == uid).limit(1))

    def get(self, *, tenant_id: str, message_id: str) -> InboxMessage:
        row = self.s.scalar(select(InboxMessage).where(InboxMessage.tenant_id == tenant_id,
                                                       InboxMessage.id == message_id,
                                                       InboxMessage.stale.is_(False)))
        if row is None:
            raise NotFound("no such message", resource="inbox_message")
        return row

    def folder_of(self, folder_id: int) -> InboxFolder:
        row = self.s.get(InboxFolder, folder_id)
        if row is None:
            raise NotFound("no such folder", resource="inbox_folder")
        return row

    def participants_of(self, message_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        found: dict[str, list[tuple[str, str]]] = {m: [] for m in message_ids}
        if message_ids:
            for mid, address, role in self.s.execute(
                select(InboxParticipant.message_id, InboxParticipant.address, InboxParticipant.role)
                .where(InboxParticipant.message_id.in_(list(message_ids)))
            ):
                found[mid].append((role, address))
        return found

    def linked_to(self, *, tenant_id: str, sent_message_id: str) -> Sequence[InboxMessage]:
        return self.s.scalars(
            select(InboxMessage)
            .where(InboxMessage.tenant_id == tenant_id, InboxMessage.sent_message_id == sent_message_id,
                   InboxMessage.stale.is_(False))
            .order_by(InboxMessage.created_at, InboxMessage.id)
            .limit(100)
        ).all()

    def list_messages(
        self, *, tenant_id: str, account_id: str | None = None, addresses: Sequence[str] | None = None,
        q: str | None = None, before: datetime | None = None, limit: int = 50,
    ) -> Sequence[InboxMessage]:
        """Newest first. ``addresses``: messages with any of them as a participant (any role)."""
        stmt = select(InboxMessage).where(InboxMessage.tenant_id == tenant_id, InboxMessage.stale.is_(False))
        if account_id:
            stmt = stmt.where(InboxMessage.account_id == account_id)
        if addresses is not None:
            if not addresses:
                return []
            stmt = stmt.where(InboxMessage.id.in_(
                select(InboxParticipant.message_id).where(InboxParticipant.tenant_id == tenant_id,
                                                          InboxParticipant.address.in_(list(addresses)))))
        if q:
            pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            stmt = stmt.where(or_(
                func.lower(InboxMessage.subject).like(pattern, escape="\\"),
                func.lower(InboxMessage.snippet).like(pattern, escape="\\"),
                func.lower(func.coalesce(InboxMessage.from_email, "")).like(pattern, escape="\\"),
                func.lower(func.coalesce(InboxMessage.from_name, "")).like(pattern, escape="\\"),
            ))
        sort = func.coalesce(InboxMessage.internal_date, InboxMessage.date, InboxMessage.created_at)
        if before is not None:
            stmt = stmt.where(sort < before)
        return self.s.scalars(stmt.order_by(sort.desc(), InboxMessage.id.desc()).limit(limit)).all()

    # -- bodies ----------------------------------------------------------------------------------
    def body(self, message_id: str) -> bytes | None:
        return self.s.scalar(select(InboxBody.raw).where(InboxBody.message_id == message_id))

    def save_body(self, *, message_id: str, raw: bytes, now: datetime) -> None:
        if self.s.get(InboxBody, message_id) is None:
            self.s.add(InboxBody(message_id=message_id, raw=raw, fetched_at=now))
            self.s.flush()

    # -- links to the outbox -----------------------------------------------------------------------
    def sent_message_by_header_ids(self, *, tenant_id: str, header_ids: Sequence[str]) -> Message | None:
        """The outbox message with one of these Message-IDs (with or without angle brackets)."""
        variants: list[str] = []
        for value in header_ids:
            bare = value.strip().strip("<>")
            variants.extend([f"<{bare}>", bare])
        if not variants:
            return None
        return self.s.scalar(select(Message).where(Message.tenant_id == tenant_id,
                                                   Message.header_message_id.in_(variants))
                             .order_by(Message.created_at.desc()).limit(1))

    def sent_ids_by_header_ids(self, *, tenant_id: str, header_ids: Iterable[str]) -> dict[str, str]:
        """Normalized Message-ID (``<…>``) → outbox message id, for every id that was sent by us."""
        return {given: mid for given, (mid, _state) in self.sent_by_header_ids(tenant_id=tenant_id,
                                                                            header_ids=header_ids).items()}

    def sent_by_header_ids(self, *, tenant_id: str, header_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """Message-ID as given → (outbox message id, its state), for every id that was sent by us."""
        wanted: dict[str, str] = {}
        for value in header_ids:
            bare = value.strip().strip("<>")
            if bare:
                wanted[f"<{bare}>"] = value
                wanted[bare] = value
        found: dict[str, tuple[str, str]] = {}
        keys = list(wanted)
        for start in range(0, len(keys), 500):
            for header_id, mid, state in self.s.execute(
                select(Message.header_message_id, Message.id, Message.state).where(
                    Message.tenant_id == tenant_id, Message.header_message_id.in_(keys[start:start + 500]))
            ):
                found[wanted[header_id]] = (mid, state)
        return found

    def sent_message(self, *, tenant_id: str, message_id: str) -> Message | None:
        return self.s.scalar(select(Message).where(Message.tenant_id == tenant_id, Message.id == message_id))

    def mark_recipient_bounced(self, *, message_id: str, address_key: str,
                               values: Mapping[str, Any]) -> tuple[bool, bool]:
        """Record a bounce on the recipient rows with this address: ``(matched, changed)``;
        ``changed`` is False when they already carried this failure (the same report again)."""
        rows = self.s.scalars(select(MessageRecipient).where(MessageRecipient.message_id == message_id)).all()
        matched = changed = False
        for row in rows:
            if row.address.lower() != address_key:
                continue
            matched = True
            if row.status == "failed" and row.enhanced_code == values.get("enhanced_code"):
                continue
            for name, value in values.items():
                setattr(row, name, value)
            changed = True
        self.s.flush()
        return matched, changed


class ContactRepository:
    def __init__(self, session: Session) -> None:
        self.s = session

    def upsert(self, *, tenant_id: str, external_id: str, name: str | None, addresses: Sequence[str],
               new_id: str, now: datetime) -> tuple[Contact, bool]:
        row = self.s.scalar(select(Contact).where(Contact.tenant_id == tenant_id,
                                                  Contact.external_id == external_id))
        created = row is None
        if row is None:
            row = Contact(id=new_id, tenant_id=tenant_id, external_id=external_id, name=name,
                          addresses=list(addresses), updated_at=now)
            self.s.add(row)
            self.s.flush()
        else:
            row.name, row.addresses, row.updated_at = name, list(addresses), now
            self.s.execute(delete(ContactAddress).where(ContactAddress.contact_id == row.id))
        if addresses:
            self.s.execute(insert(ContactAddress), [
                {"contact_id": row.id, "address": a, "tenant_id": tenant_id} for a in addresses])
        return row, created

    def get(self, *, tenant_id: str, contact_id: str) -> Contact:
        row = self.s.scalar(select(Contact).where(Contact.tenant_id == tenant_id,
                                                  or_(Contact.id == contact_id, Contact.external_id == contact_id)))
        if row is None:
            raise NotFound("no such contact", resource="contact")
        return row

    def list_for_tenant(self, *, tenant_id: str, limit: int = 200, offset: int = 0) -> Sequence[Contact]:
        return self.s.scalars(select(Contact).where(Contact.tenant_id == tenant_id)
                              .order_by(Contact.external_id).limit(limit).offset(offset)).all()

    def delete(self, *, tenant_id: str, contact_id: str) -> None:
        row = self.get(tenant_id=tenant_id, contact_id=contact_id)
        self.s.execute(delete(ContactAddress).where(ContactAddress.contact_id == row.id))
        self.s.delete(row)
        self.s.flush()

    def contacts_for(self, *, tenant_id: str, addresses: Sequence[str]) -> dict[str, list[str]]:
        """address key -> external ids of contacts with that address."""
        found: dict[str, list[str]] = {}
        if not addresses:
            return found
        for address, external in self.s.execute(
            select(ContactAddress.address, Contact.external_id)
            .join(Contact, Contact.id == ContactAddress.contact_id)
            .where(and_(ContactAddress.tenant_id == tenant_id, ContactAddress.address.in_(list(addresses))))
        ):
            found.setdefault(address, []).append(external)
        return found
