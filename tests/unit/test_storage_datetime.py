"""UTCDateTime's fused SQLite bind processor writes what process_bind_param + the dialect's
DATETIME processor write (the stacked pair SQLAlchemy would otherwise call per value)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import TypeDecorator

from mailport.adapters.storage.tables import UTCDateTime


def _stacked(value: datetime | None) -> object:
    """SQLAlchemy's own composition: the decorator's param step, then the dialect type's."""
    dialect = sqlite.dialect()
    processor = TypeDecorator.bind_processor(UTCDateTime().dialect_impl(dialect), dialect)
    assert processor is not None
    return processor(value)


VALUES = [None, datetime(2026, 12, 6, 20, 15, 0, tzinfo=UTC), datetime(2026, 12, 6, 20, 15, 0, 123456, tzinfo=UTC),
          datetime(1, 1, 1, tzinfo=UTC), datetime(999, 3, 4, 5, 6, 7, 8, tzinfo=UTC),
          datetime(2026, 3, 29, 2, 30, tzinfo=timezone(timedelta(hours=2))),
          datetime(2026, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=-5, minutes=-30)))]


def test_fused_sqlite_processor_writes_the_stacked_text() -> None:
    fused = UTCDateTime()._cached_bind_processor(sqlite.dialect())  # as statements get it
    assert fused is not None and fused.__qualname__ == "UTCDateTime.bind_processor.<locals>.process"
    for value in VALUES:
        assert fused(value) == _stacked(value)
        assert fused(value) == _stacked(value)  # the remembered answer too
    later = VALUES[1] + timedelta(microseconds=1)  # equal-looking but another object
    assert fused(later) == "2026-12-06 20:15:00.000001"


def test_fused_processor_refuses_naive_datetimes() -> None:
    fused = UTCDateTime()._cached_bind_processor(sqlite.dialect())  # as statements get it
    assert fused is not None
    with pytest.raises(ValueError, match="naive datetime"):
        fused(datetime(2026, 12, 6, 20, 15))


def test_postgresql_keeps_the_stacked_processors() -> None:
    value = datetime(2026, 12, 6, 21, 15, tzinfo=timezone(timedelta(hours=1)))
    processor = UTCDateTime()._cached_bind_processor(postgresql.psycopg.dialect())
    assert processor is not None
    result = processor(value)
    assert result == value and result.tzinfo is UTC
