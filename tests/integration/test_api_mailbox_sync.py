"""The one pass loop of the mail-API inbox syncs (``services/api_mailbox_sync.py``), on SQLite and
PostgreSQL, with a scripted provider: what the provider's ``batches()`` yields is stored once, the
cursor it reports is saved, and after a full resync only mail newer than the last sync is announced."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from mailport.adapters.storage.tables_api_sync import ApiSyncCursor
from mailport.adapters.storage.tables_outbox import Event
from mailport.core.summary import FetchedMessage, summarize
from mailport.core.verification import AccountConfig
from mailport.runtime import Runtime
from mailport.services.accounts import AccountInput
from mailport.services.api_mailbox_sync import ApiBatch, ApiConnection, ApiMailboxSync, ApiPass
from mailport.services.mailbox_sync import RawLocation


def message(uid: int, arrived: datetime) -> FetchedMessage:
    header = f"From: Customer <c{uid}@customer.example>\r\nSubject: Order {uid}\r\nMessage-ID: <m{uid}@x>\r\n\r\n"
    return FetchedMessage(uid=uid, flags=(), size=10, internal_date=arrived, modseq=None,
                          summary=summarize(header.encode()))


class Scripted(ApiMailboxSync[str]):
    """A provider whose passes are scripted: (cursor it reports, full resync?, batches)."""

    transport = "scripted"

    def __init__(self, rt: Runtime, script: list[tuple[str | None, bool, list[list[FetchedMessage]]]]) -> None:
        super().__init__(store=rt.inbox_store, oauth=rt.oauth, clock=rt.clock, settings=rt.settings)
        self.script = script
        self.seen: list[ApiPass] = []

    def server(self, config: AccountConfig) -> str:
        return "https://api.example"

    def client(self, tenant_id: str, account_id: str) -> contextlib.AbstractAsyncContextManager[str]:
        @contextlib.asynccontextmanager
        async def opened() -> AsyncIterator[str]:
            yield "client"
        return opened()

    async def fetch_raw(self, tenant_id: str, account_id: str, where: RawLocation) -> bytes | None:
        return None

    async def batches(self, conn: ApiConnection[str], state: ApiPass) -> AsyncGenerator[ApiBatch, None]:
        self.seen.append(ApiPass(cursor=state.cursor, since=state.since, known=set(state.known)))
        cursor, resync, batches = self.script.pop(0)
        state.new_cursor, state.full_resync = cursor, resync
        for batch in batches:
            yield [(m, None) for m in batch]


async def test_one_loop_stores_once_saves_the_cursor_and_announces_only_new_mail_after_a_resync(
    runtime: Runtime,
) -> None:
    tenant = runtime.tenants.create(name="Bakkerij").tenant.id
    account = runtime.accounts.create(tenant, AccountInput(
        email="shop@example.org", password="pw",
        smtp={"host": "smtp.example.org", "port": 465, "security": "tls"},
        imap={"host": "imap.example.org", "port": 993, "security": "tls"})).id
    old = datetime.now(UTC) - timedelta(days=2)
    first, second = message(1, old), message(2, old)
    later = message(3, datetime.now(UTC) + timedelta(minutes=5))
    sync = Scripted(runtime, [
        ("c1", False, [[first], [second]]),                # the first sync: the window, two batches
        (None, False, []),                                 # nothing new: the cursor stays
        ("c9", True, [[first, second, later]]),            # the provider forgot c1: the window again
    ])

    def cursor() -> tuple[str | None, int]:
        with runtime.db.session() as s:
            row = s.get(ApiSyncCursor, account)
            assert row is not None and row.transport == "scripted"
            return row.cursor, row.full_syncs

    def announced() -> list[str]:
        with runtime.db.session() as s:
            return [e.data["subject"] for e in s.scalars(sa.select(Event).where(
                Event.tenant_id == tenant, Event.type == "message.received"))]

    async with sync.connect(tenant, account) as conn:
        report = await conn.sync_pass()
        assert (report.added, report.folders[0].reset) == (2, False)
        assert cursor() == ("c1", 0) and sync.seen[0].cursor is None and not sync.seen[0].known
        assert announced() == []  # the first sync is history, not news

        report = await conn.sync_pass()
        assert report.added == 0 and cursor() == ("c1", 0)
        assert sync.seen[1].cursor == "c1" and sync.seen[1].known == {1, 2}

        report = await conn.sync_pass()
        assert (report.added, report.folders[0].reset) == (1, True)  # the known two are not stored again
        assert cursor() == ("c9", 1)
        assert announced() == ["Order 3"]  # only what arrived after the last sync
