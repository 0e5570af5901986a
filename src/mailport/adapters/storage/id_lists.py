"""A list of ids bound as one parameter, so a worker's batch statements stay one cached statement.

SQLAlchemy's expanding ``IN`` renders one placeholder per element: on PostgreSQL every batch size
is a new query string, and psycopg re-parses strings of more than 50 parameters on every
execution (a regular expression per placeholder — a tenth of a PostgreSQL worker's CPU went to
claiming with it). There the list is one array, ``col = ANY(:ids)``; SQLite keeps ``IN``, which
its driver passes through as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

__all__ = ["PerDialect", "one_of"]

S = TypeVar("S")


def one_of(column: Any, name: str, *, postgresql: bool, value: Any = None) -> ColumnElement[bool]:
    """``column`` is one of the list bound as ``name`` (or given as ``value``)."""
    if postgresql:
        return column == any_(bindparam(name, value, type_=ARRAY(column.type)))  # type: ignore[no-any-return]
    return column.in_(bindparam(name, value, expanding=True))  # type: ignore[no-any-return]


class PerDialect(Generic[S]):
    """A statement built once per dialect by ``build(postgresql)``."""

    def __init__(self, build: Callable[[bool], S]) -> None:
        self._build = build
        self._built: dict[bool, S] = {}

    def for_session(self, session: Session) -> S:
        return self.for_dialect(session.get_bind().dialect.name)

    def for_dialect(self, name: str) -> S:
        postgresql = name == "postgresql"
        built = self._built.get(postgresql)
        if built is None:
            built = self._built[postgresql] = self._build(postgresql)
        return built
