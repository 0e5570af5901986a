"""Many rows of plain column values into one table, as cheaply as the driver takes them.

A Core ``conn.execute(table.insert(), rows)`` builds each row's parameters in Python —
``construct_params`` and the per-value bind processing — which cost more than SQLite takes to
store the row: accepting a batch of invoices spent ~50 µs per message there, a tenth of the API's
CPU (bench/bench_send.py). On SQLite :class:`RowInsert` hands the driver one executemany of
tuples, each value passed through the same bind processor SQLAlchemy would apply (the column
type's own: the JSON serializer, the UTC datetime text, the binary wrapper), so the stored
values are the same. It goes through ``exec_driver_sql``, so errors arrive as SQLAlchemy's
(``IntegrityError`` for a duplicate key) and the connection's events still fire.

On PostgreSQL the same plan hands psycopg SQLAlchemy's own compiled INSERT for the dialect (its
``%(name)s`` parameters and type casts) and one dict of processed values per row: the Core
executemany built those dicts through ``construct_params`` per row, about a third of an
INSERT's client CPU at the API's batch sizes (bench/bench_send.py, "session 6 PostgreSQL pass").
Other databases take the Core statement as before.

:meth:`RowInsert.from_json` gives the same INSERT as SQL that reads its rows from one JSON
parameter (``json_populate_recordset`` with the table's own row type), for a statement that writes
several tables at once (:meth:`OutboxRepository.add_accepted`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection, Dialect

__all__ = ["RowInsert"]


# The SQL of :meth:`RowInsert.from_json`, and the omitted columns' defaults.
_FromJson = tuple[str, tuple[tuple[str, Any], ...]]


class RowInsert:
    """``INSERT INTO table`` of rows given as dicts of column values, every row with the same
    keys (the first row's decide the columns, as in a Core executemany)."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self._core = table.insert()
        self._plans: dict[tuple[str, tuple[str, ...]], _Plan | None] = {}  # by (dialect, columns)
        self._from_json: dict[tuple[tuple[str, ...], str, tuple[str, ...]], _FromJson] = {}

    def execute(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:  # an executemany of no rows would be an INSERT … DEFAULT VALUES
            return
        keys = tuple(rows[0])
        plan_key = (conn.dialect.name, keys)
        if plan_key not in self._plans:
            self._plans[plan_key] = self._plan(conn.dialect, keys)
        plan = self._plans[plan_key]
        if plan is None:
            conn.execute(self._core, list(rows))
            return
        if plan.names is None:
            conn.exec_driver_sql(plan.sql, [plan.values(row) for row in rows])
        else:
            names = plan.names
            conn.exec_driver_sql(plan.sql, [dict(zip(names, plan.values(row), strict=True)) for row in rows])

    def from_json(self, keys: tuple[str, ...], param: str, *, binary: tuple[str, ...] = ()
                  ) -> tuple[str, tuple[tuple[str, Any], ...]]:
        """See :meth:`_from_json_sql`; built once per set of keys (it was per accept)."""
        cache_key = (keys, param, binary)
        built = self._from_json.get(cache_key)
        if built is None:
            built = self._from_json_sql(keys, param, binary=binary)
            if len(self._from_json) < 64:
                self._from_json[cache_key] = built
        return built

    def _from_json_sql(self, keys: tuple[str, ...], param: str, *, binary: tuple[str, ...] = ()
                       ) -> tuple[str, tuple[tuple[str, Any], ...]]:
        """PostgreSQL, psycopg's placeholders: ``INSERT INTO table (…) SELECT … FROM
        json_populate_recordset(…)`` of rows with ``keys``, read from the JSON parameter ``param``
        (:func:`recordset.json_dicts` of the rows), and the omitted columns' scalar defaults to add
        to each row — as :meth:`execute` fills them in. The row type converts each value as the
        column's input would (times with their offset, ``bytea`` as ``\\x`` hex, JSON columns
        nested). The ``binary`` columns (``bytea``) are not in the JSON: each comes as its own
        array parameter ``{param}_{column}`` in binary format, in the rows' order — a message's
        bytes as hex in the JSON cost PostgreSQL's JSON parser 0.5 ms of CPU per 20 KB invoice."""
        found = _omitted(self.table, keys)
        if found is None:
            raise ValueError(f"{self.table.name}: a default SQLAlchemy computes per row")
        names = [*keys, *(key for key, _ in found)]
        columns = ", ".join(f'"{self.table.columns[k].name}"' for k in names)
        picked = ", ".join(f"b{binary.index(k)}.v" if k in binary else f'x."{self.table.columns[k].name}"'
                           for k in names)
        source = f'json_populate_recordset(NULL::"{self.table.name}", %({param})s::json)'
        if binary:
            source += " WITH ORDINALITY AS x" + "".join(
                f" JOIN unnest(%({param}_{k})b::bytea[]) WITH ORDINALITY AS b{i}(v, ordinality) USING (ordinality)"
                for i, k in enumerate(binary))
        else:
            source += " AS x"
        return f'INSERT INTO "{self.table.name}" ({columns}) SELECT {picked} FROM {source}', tuple(found)

    def _plan(self, dialect: Dialect, keys: tuple[str, ...]) -> _Plan | None:
        """The driver's SQL and the values' processing, or ``None``: the Core path (not SQLite
        or PostgreSQL, or an omitted column whose default SQLAlchemy computes per row)."""
        if dialect.name not in ("sqlite", "postgresql"):
            return None
        columns = self.table.columns
        omitted = _omitted(self.table, keys)
        if omitted is None:
            return None
        names = [*keys, *(key for key, _ in omitted)]
        processors = [columns[key].type._cached_bind_processor(dialect) for key in names]
        defaults = tuple(value if proc is None else proc(value)
                         for (_, value), proc in zip(omitted, processors[len(keys):], strict=True))
        processed = [(i, proc) for i, proc in enumerate(processors[:len(keys)]) if proc is not None]
        if dialect.name == "postgresql":
            compiled = self._core.compile(dialect=dialect, column_keys=names)
            if compiled.positional or set(compiled.binds) != set(names):
                return None  # not the named parameters, one per column, this plan fills in
            return _Plan(compiled.string, keys, processed, defaults, names=tuple(names))
        quote = dialect.identifier_preparer.quote
        sql = (f"INSERT INTO {quote(self.table.name)} ({', '.join(quote(columns[k].name) for k in names)}) "
               f"VALUES ({', '.join('?' for _ in names)})")
        return _Plan(sql, keys, processed, defaults)


def _omitted(table: Table, keys: tuple[str, ...]) -> list[tuple[str, Any]] | None:
    """The columns not in ``keys`` with a scalar default SQLAlchemy fills in, with that default;
    ``None`` when one's default is computed per row."""
    omitted: list[tuple[str, Any]] = []
    for column in table.columns:
        if column.key in keys or column.default is None:
            continue
        if not column.default.is_scalar:
            return None
        omitted.append((column.key, column.default.arg))  # type: ignore[attr-defined]
    return omitted


class _Plan:
    __slots__ = ("_get", "_processed", "defaults", "names", "sql")

    def __init__(self, sql: str, keys: tuple[str, ...], processed: Sequence[tuple[int, Callable[[Any], Any]]],
                 defaults: tuple[Any, ...], *, names: tuple[str, ...] | None = None) -> None:
        self.sql = sql
        self.names = names  # PostgreSQL: the parameters' names, in the order of the values
        self._get = itemgetter(*keys) if len(keys) > 1 else (lambda row: (row[keys[0]],))
        self._processed = processed
        self.defaults = defaults

    def values(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        values = list(self._get(row))
        for i, process in self._processed:
            values[i] = process(values[i])
        return (*values, *self.defaults) if self.defaults else tuple(values)
