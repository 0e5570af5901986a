"""RowInsert writes, on SQLite, exactly what a Core executemany of the same rows writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

import pytest
from sqlalchemy import Table, create_engine
from sqlalchemy.exc import IntegrityError

from mailport.adapters.storage.row_insert import RowInsert
from mailport.adapters.storage.tables import Base
from mailport.adapters.storage.tables_outbox import Message

MESSAGES = cast(Table, Message.__table__)


def _rows(prefix: str) -> list[dict[str, Any]]:
    now = datetime(2026, 12, 6, 22, 0, 1, 123456, tzinfo=UTC)
    later = datetime(2026, 12, 7, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    return [{
        "id": f"{prefix}{n}", "tenant_id": "ten_1", "account_id": "acc_1", "state": "queued",
        "from_email": "a@example.test", "subject": f"Factuur é {n}", "header_message_id": f"<{n}@x>",
        "size": 100 + n, "meta": {"invoice_id": str(n), "ü": [1, None]} if n else {}, "send_at": later if n else None,
        "next_attempt_at": now, "last_delay_seconds": 1.5 if n else None, "reason": None,
        "idempotency_key": f"{prefix}-k{n}" if n else None, "request_fingerprint": None, "created_at": now,
        "updated_at": now, "sent_at": None,
    } for n in range(3)]  # attachment_count and attempts omitted: their defaults apply


def _stored(conn: Any, prefix: str) -> list[dict[str, Any]]:
    """The stored values as SQLite holds them (text, not what SQLAlchemy reads back)."""
    rows = conn.exec_driver_sql("SELECT * FROM messages WHERE id LIKE ? ORDER BY id", (prefix + "%",)).mappings()
    return [{k: (v.removeprefix(prefix) if isinstance(v, str) else v) for k, v in row.items()} for row in rows]


def test_the_same_stored_values_as_a_core_insert() -> None:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(MESSAGES.insert(), _rows("core"))
        RowInsert(MESSAGES).execute(conn, _rows("fast"))
        RowInsert(MESSAGES).execute(conn, [])  # nothing, not an INSERT … DEFAULT VALUES
        core, fast = _stored(conn, "core"), _stored(conn, "fast")
    assert len(fast) == 3
    assert fast == core
    assert fast[1]["attachment_count"] == 0 and fast[1]["attempts"] == 0  # the columns' defaults
    assert fast[1]["send_at"] == "2026-12-07 08:30:00.000000"  # UTC text, as the dialect writes it


def test_a_duplicate_key_is_sqlalchemys_integrity_error() -> None:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    insert = RowInsert(MESSAGES)
    with engine.begin() as conn:
        insert.execute(conn, _rows("m"))
        with pytest.raises(IntegrityError):
            insert.execute(conn, _rows("m")[:1])
