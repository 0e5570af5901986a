"""Storing synced mail on SQLite and PostgreSQL: a batch written through the bulk insert reads back
exactly (aware datetimes, JSON lists, attachments, NULLs), participants link contacts."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import event, select

from mailport.adapters.storage.inbox_repository import InboxRepository
from mailport.adapters.storage.tables_inbox import InboxMessage
from mailport.core.summary import AttachmentInfo, FetchedMessage, summarize
from mailport.runtime import Runtime
from mailport.services.accounts import AccountInput
from mailport.services.inbox_store import StoreTarget

HEADER = (b"From: =?utf-8?q?Ren=C3=A9e?= <renee@customer.example>\r\nTo: shop@example.org\r\n"
          b"Cc: \"Acc, Dept\" <acc@example.org>\r\nSubject: Invoice 42\r\n"
          b"Date: Sun, 06 Dec 2026 12:00:00 +0100\r\nMessage-ID: <r1@customer.example>\r\n"
          b"References: <inv-41@shop.example> <inv-42@shop.example>\r\n\r\n")


def test_batch_round_trip(runtime: Runtime) -> None:
    tenant = runtime.tenants.create(name="Bakkerij").tenant.id
    account = runtime.accounts.create(tenant, AccountInput(
        email="shop@example.org", password="pw",
        smtp={"host": "smtp.example.org", "port": 465, "security": "tls"},
        imap={"host": "imap.example.org", "port": 993, "security": "tls"})).id
    folder_id = runtime.inbox_store.in_repo(
        lambda repo: repo.folder(tenant_id=tenant, account_id=account, name="INBOX", role="inbox").id)
    arrived = datetime(2026, 12, 6, 11, 0, 5, tzinfo=UTC)
    fetched = [
        FetchedMessage(uid=7, flags=("\\Seen",), size=2048, internal_date=arrived, modseq=3,
                       summary=summarize(HEADER, b"Hello"),
                       attachments=(AttachmentInfo(filename="invoice 42.pdf", content_type="application/pdf",
                                                   size=13500),)),
        FetchedMessage(uid=8, flags=(), size=10, internal_date=None, modseq=None,
                       summary=summarize(b"Subject: bare\r\n\r\n")),
    ]
    target = StoreTarget(tenant_id=tenant, account_id=account, folder_id=folder_id, role="inbox",
                         uidvalidity=99, announce=False)
    assert runtime.inbox_store.store_batch(target, fetched, {}, {}) == (2, 0, 0)
    views = {v.uid: v for v in runtime.inbox.list_messages(tenant, account_id=account)}
    first, bare = views[7], views[8]
    assert first.subject == "Invoice 42" and first.from_ == {"name": "Renée", "email": "renee@customer.example"}
    assert first.cc == [{"name": "Acc, Dept", "email": "acc@example.org"}]
    assert first.references == ["<inv-41@shop.example>", "<inv-42@shop.example>"]
    assert first.date == datetime(2026, 12, 6, 11, 0, tzinfo=UTC) and first.received_at == arrived
    assert first.flags == ["\\Seen"] and first.snippet == "Hello"
    assert first.attachments == [{"filename": "invoice 42.pdf", "content_type": "application/pdf", "size": 13500}]
    assert first.to_dict()["has_attachments"] is True
    assert (bare.date, bare.received_at, bare.bounce, bare.attachments, bare.cc) == (None, None, None, [], [])
    with runtime.db.session() as s:
        people = InboxRepository(s).participants_of([first.id])[first.id]
    assert sorted(people) == [("cc", "acc@example.org"), ("from", "renee@customer.example"),
                              ("to", "shop@example.org")]


def test_the_lookups_of_the_dropped_indexes_still_use_an_index(sqlite_runtime: Runtime) -> None:
    """Migration 0023_i19: replies to a sent message find it through the partial index, a resync's
    stale rows through the folder's unique index (SQLite's plan; PostgreSQL plans by statistics)."""
    runtime = sqlite_runtime
    linked = select(InboxMessage.id).where(InboxMessage.tenant_id == "t", InboxMessage.sent_message_id == "m",
                                           InboxMessage.stale.is_(False))
    stale = select(InboxMessage.header_message_id, InboxMessage.id).where(
        InboxMessage.folder_id == 1, InboxMessage.stale.is_(True), InboxMessage.header_message_id.is_not(None))
    with runtime.db.engine.connect() as conn:
        plans = [" ".join(str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(
            stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})))) for stmt in (linked, stale)]
    assert "USING INDEX ix_inbox_messages_sent_message_id" in plans[0]
    assert "SEARCH inbox_messages USING INDEX" in plans[1] and "(folder_id=?)" in plans[1]
    with runtime.db.engine.connect() as conn:
        names = {row[0] for row in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'inbox_messages'")}
    assert "ix_inbox_messages_thread" not in names and "ix_inbox_messages_folder_msgid" not in names


def test_messages_waiting_for_a_snippet_are_found_through_their_partial_index(sqlite_runtime: Runtime) -> None:
    """Migration 0024_i19: every pass asks whether snippets wait; with none waiting that must not
    walk the folder's rows (SQLite's plan), and the waiting ones are found and filled by UID."""
    runtime = sqlite_runtime
    statements: list[tuple[str, object]] = []

    def capture(conn: object, cursor: object, statement: str, parameters: object, context: object,
                executemany: bool) -> None:
        if "snippet_pending" in statement and not statement.startswith("EXPLAIN"):
            statements.append((statement, parameters))

    event.listen(runtime.db.engine, "before_cursor_execute", capture)
    try:
        with runtime.db.session() as s:
            repo = InboxRepository(s)
            assert repo.pending_snippet_uids(folder_id=1, uidvalidity=5, limit=1) == []
            assert repo.folders_with_pending_snippets(account_id="acc") == []
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", capture)
    assert len(statements) == 2
    with runtime.db.engine.connect() as conn:
        for statement, parameters in statements:
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + statement, parameters))  # type: ignore[arg-type]
            assert "USING INDEX ix_inbox_messages_snippet_pending" in plan, plan


def test_a_batch_larger_than_one_statement_is_stored_whole_in_id_order(runtime: Runtime) -> None:
    """SQLite takes the rows in multi-row INSERTs of a few fixed sizes: a batch that needs each of
    them loses nothing and mixes nothing up; ids ascend in the order of the batch."""
    tenant = runtime.tenants.create(name="Groothandel").tenant.id
    folder_id = runtime.inbox_store.in_repo(
        lambda repo: repo.folder(tenant_id=tenant, account_id="acc", name="INBOX", role="inbox").id)
    count = 1317  # 5 × 256 + 32 + 4 + 1 messages, twice that many participants
    fetched = [FetchedMessage(uid=uid, flags=("\\Seen",) if uid % 2 else (), size=uid, internal_date=None,
                              modseq=None, snippet_pending=bool(uid % 3),
                              summary=summarize(f"From: c{uid}@customer.example\r\nTo: shop@example.org\r\n"
                                                f"Subject: Order {uid}\r\n\r\n".encode()))
               for uid in range(1, count + 1)]
    target = StoreTarget(tenant_id=tenant, account_id="acc", folder_id=folder_id, role="inbox", uidvalidity=1,
                         announce=False)
    assert runtime.inbox_store.store_batch(target, fetched, {}, {}) == (count, 0, 0)
    with runtime.db.session() as s:
        rows = s.execute(select(InboxMessage.id, InboxMessage.uid, InboxMessage.subject, InboxMessage.flags,
                                InboxMessage.snippet_pending).where(InboxMessage.folder_id == folder_id)
                         .order_by(InboxMessage.id)).all()
        people = InboxRepository(s).participants_of([rows[0].id, rows[-1].id])
    assert [r.uid for r in rows] == list(range(1, count + 1))
    assert all(r.subject == f"Order {r.uid}" and r.flags == (["\\Seen"] if r.uid % 2 else [])
               and r.snippet_pending is bool(r.uid % 3) for r in rows)
    assert sorted(people[rows[-1].id]) == [("from", f"c{count}@customer.example"), ("to", "shop@example.org")]
