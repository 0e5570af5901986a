"""A few rows read as cheaply as the driver hands them, for the reads on every request.

Reading one row through a ``Session`` costs ~300 µs of Python on SQLite (the session, the pool's
checkout and reset, the statement's execution context, the result object) for a lookup SQLite
answers in ~10 µs: the API key check on every request and the sending account of every accepted
message were together a third of the API's CPU per ``POST /v1/messages`` (bench/bench_send.py).
On SQLite :class:`RowRead` runs its statement, compiled once, on a driver connection the calling
thread keeps for such reads (:meth:`Database.driver_rows`: autocommit, so each read is its own
WAL snapshot, ended when its rows are fetched — it neither waits for nor blocks the writers), and
passes every value through the column type's own bind and result processors, so the rows are
those a session would return. On PostgreSQL (psycopg) it runs the same way on a pooled connection
switched to autocommit for the one statement (:meth:`Database.driver_rows`): the reading session
and Core execution around a key check cost ~700 µs of CPU there, the statement itself ~120–200
(bench/bench_send.py). Other databases run the Core statement in a reading session.

:meth:`RowRead.all_in` reads inside a transaction (the worker's begins: an ORM load of a batch's
messages, contents, recipients and accounts cost ~200 µs a statement before its rows, the driver
~20): on SQLite through the session's own driver connection, errors raised as SQLAlchemy's so the
transaction ends as any other failure does. A list bound to an expanding ``IN`` gets one ``?``
per element.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, TextClause
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from mailport.adapters.storage.database import Database

__all__ = ["RowRead", "RowWrite", "TextRows", "execute_driver_sql"]

_MISSING = object()


class RowRead:
    """The rows of one prebuilt ``select`` (plain tuples, in the order of its columns)."""

    def __init__(self, statement: Select[*tuple[Any, ...]], *, binary: bool = False) -> None:
        self.statement = statement
        self.binary = binary
        """PostgreSQL, in a transaction (:meth:`all_in`): rows in binary format. A message's
        bytes come as they are stored instead of as hex text twice their size, which both
        PostgreSQL and psycopg spent ~70 µs of CPU per 20 KB invoice on."""
        self._plans: dict[str, _Plan] = {}  # by dialect: a process may use SQLite and PostgreSQL

    def all(self, db: Database, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        if not db.has_driver_reads:
            with db.reading() as s:
                return [tuple(row) for row in s.connection().execute(self.statement, dict(params))]
        plan = self._plan(db.engine.dialect)
        return plan.rows(db.driver_rows(plan.sql, plan.bind(params)))

    def _plan(self, dialect: Dialect) -> _Plan:
        plan = self._plans.get(dialect.name)
        if plan is None:
            plan = self._plans[dialect.name] = _Plan(self.statement, dialect)
        return plan

    def first(self, db: Database, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        rows = self.all(db, params)
        return rows[0] if rows else None

    async def first_async(self, db: Database, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """:meth:`first` awaited on the event loop (:meth:`Database.driver_rows_async`); only where
        ``db.has_async_reads``."""
        plan = self._plan(db.engine.dialect)
        rows = plan.rows(await db.driver_rows_async(plan.sql, plan.bind(params)))
        return rows[0] if rows else None

    def all_in(self, session: Session, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The rows, read in ``session``'s transaction."""
        conn = session.connection()
        dialect = conn.dialect
        if dialect.name == "sqlite":
            plan = self._plan(dialect)
            sql, values = plan.expanded(params)
            return plan.rows(_driver(conn, sql, values))
        if dialect.driver == "psycopg":
            plan = self._plan(dialect)
            if plan.plain:
                return plan.rows(*_psycopg(conn, plan.sql, plan.bind(params), binary=self.binary))
        return [tuple(row) for row in conn.execute(self.statement, dict(params))]


class RowWrite:
    """A prebuilt ``UPDATE``/``INSERT`` run the way :class:`RowRead` reads: on SQLite through the
    session's driver connection (an executemany of tuples, or one statement with its
    ``RETURNING`` rows), each value through its column type's bind processor; elsewhere the Core
    statement. A statement whose ``SET`` or ``VALUES`` columns come from the parameters is
    compiled once per set of keys, as Core does."""

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._plans: dict[tuple[str, ...], _Plan] = {}

    def execute_many(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        conn = session.connection()
        if conn.dialect.name != "sqlite":
            conn.execute(self.statement, [dict(r) for r in rows])
            return
        plan = self._plan(conn.dialect, tuple(rows[0]))
        values = [plan.bind(row) for row in rows]
        _driver(conn, plan.sql, values, many=True)

    def returning(self, session: Session, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        conn = session.connection()
        if conn.dialect.name != "sqlite":
            return [tuple(row) for row in conn.execute(self.statement, dict(params))]
        plan = self._plan(conn.dialect, ())
        sql, values = plan.expanded(params)
        return plan.rows(_driver(conn, sql, values))

    def _plan(self, dialect: Dialect, keys: tuple[str, ...]) -> _Plan:
        plan = self._plans.get(keys)
        if plan is None:
            plan = self._plans[keys] = _Plan(self.statement, dialect, column_keys=list(keys) or None)
        return plan


class TextRows:
    """A ``text()`` statement run in a session's transaction for its rows — on psycopg directly,
    compiled once (its ``:name`` parameters as psycopg's ``%(name)s``), without Core's execution
    context and result around it; elsewhere through Core. The parameters go as they are given
    (a ``text()`` has no column types to process them)."""

    def __init__(self, statement: TextClause) -> None:
        self.statement = statement
        self._sql: dict[str, str] = {}  # by dialect

    def all_in(self, session: Session, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        conn = session.connection()
        dialect = conn.dialect
        if dialect.driver != "psycopg":
            return [tuple(row) for row in conn.execute(self.statement, dict(params))]
        sql = self._sql.get(dialect.name)
        if sql is None:
            sql = self._sql[dialect.name] = self.statement.compile(dialect=dialect).string
        return _psycopg(conn, sql, params, binary=False)[0]


def execute_driver_sql(session: Session, sql: str, params: Mapping[str, Any]) -> None:
    """``Connection.exec_driver_sql`` in ``session``'s transaction — on psycopg without Core's
    execution context and result around it (for the accept statement, once per group commit)."""
    conn = session.connection()
    if conn.dialect.driver == "psycopg":
        _psycopg(conn, sql, params, binary=False)
    else:
        conn.exec_driver_sql(sql, dict(params))


def _psycopg(conn: Any, sql: str, values: Any, *, binary: bool) -> tuple[list[tuple[Any, ...]], list[int]]:
    """``sql`` on the psycopg connection under the SQLAlchemy connection, in its transaction,
    without Core's execution context and result around it (~110 µs of CPU a statement): the
    rows and their columns' type codes. A driver error is raised as SQLAlchemy's, as
    :func:`_driver` does."""
    import psycopg

    driver = conn.connection.driver_connection
    try:
        with driver.cursor(binary=binary) as cursor:
            cursor.execute(sql, values)
            if cursor.description is None:
                return [], []
            return cursor.fetchall(), [column.type_code for column in cursor.description]
    except psycopg.Error as exc:
        raise DBAPIError.instance(sql, values, exc, psycopg.Error) from exc


def _driver(conn: Any, sql: str, values: Any, *, many: bool = False) -> list[tuple[Any, ...]]:
    """``sql`` on the SQLAlchemy connection's driver connection (in its transaction); a driver
    error raised as SQLAlchemy's, so the transaction ends as on any other failure."""
    driver = conn.connection.driver_connection
    try:
        if many:
            driver.executemany(sql, values)
            return []
        return list(driver.execute(sql, values).fetchall())
    except sqlite3.Error as exc:
        raise DBAPIError.instance(sql, values, exc, sqlite3.Error) from exc


class _Plan:
    __slots__ = ("_binds", "_columns", "_dialect", "_expanding", "_names", "_results", "_sql_by_lengths", "sql")

    def __init__(self, statement: Any, dialect: Dialect, *, column_keys: list[str] | None = None) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=column_keys)
        binds = compiled.binds
        # psycopg's named style (``%(name)s``): the values go as a dict by these names
        self._names = None if compiled.positiontup is not None else tuple(binds)
        self.sql = compiled.string
        # (parameter key, bind processor, the statement's own value for a literal it binds)
        self._binds: list[tuple[str, Callable[[Any], Any] | None, Any]] = [
            (binds[name].key, binds[name].type._cached_bind_processor(dialect),
             binds[name].effective_value if binds[name].value is not None or binds[name].callable else _MISSING)
            for name in (compiled.positiontup if self._names is None else self._names)]
        self._expanding = [binds[name].key for name in (compiled.positiontup or binds) if binds[name].expanding]
        self._sql_by_lengths: dict[tuple[int, ...], str] = {}
        self._dialect = dialect
        self._columns = list(statement.exported_columns)
        # The result processors, made for the first rows: a numeric column's on psycopg depends
        # on the type the server reports for it (its ``coltype``), as Core's result does.
        self._results: list[tuple[int, Callable[[Any], Any]]] | None = None

    @property
    def plain(self) -> bool:
        """No list bound to an expanding ``IN`` (whose SQL depends on the lists' lengths)."""
        return not self._expanding

    def bind(self, params: Mapping[str, Any]) -> list[Any] | dict[str, Any]:
        if self._expanding:
            raise ValueError("a list parameter is read with all_in")
        values = self.expanded(params)[1]
        return values if self._names is None else dict(zip(self._names, values, strict=True))

    def expanded(self, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
        """The SQL with one ``?`` per element of each list parameter, and the values (SQLite)."""
        values: list[Any] = []
        for key, proc, own in self._binds:
            value = params[key] if own is _MISSING or key in params else own
            if key in self._expanding:
                values.extend(value if proc is None else [proc(v) for v in value])
            else:
                values.append(value if proc is None else proc(value))
        if not self._expanding:
            return self.sql, values
        lengths = tuple(len(params[key]) for key in self._expanding)
        sql = self._sql_by_lengths.get(lengths)
        if sql is None:
            sql = self.sql
            for key, n in zip(self._expanding, lengths, strict=True):
                # an empty list: an empty set (IN is false, NOT IN true)
                sql = sql.replace(f"(__[POSTCOMPILE_{key}])", f"({', '.join('?' * n)})" if n else "(SELECT 1 WHERE 0)")
            if len(self._sql_by_lengths) < 64:
                self._sql_by_lengths[lengths] = sql
        return sql, values

    def rows(self, raw: list[tuple[Any, ...]], coltypes: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """``raw`` through the columns' result processors; ``coltypes``: the type codes of the
        driver's description, where it gives them."""
        if self._results is None:
            types = coltypes or [None] * len(self._columns)
            processors = [column.type._cached_result_processor(self._dialect, coltype)
                          for column, coltype in zip(self._columns, types, strict=True)]
            self._results = [(i, proc) for i, proc in enumerate(processors) if proc is not None]
        if not self._results:
            return raw
        out = []
        for row in raw:
            values = list(row)
            for i, process in self._results:
                values[i] = process(values[i])
            out.append(tuple(values))
        return out
