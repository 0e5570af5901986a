"""A batch of rows as one JSON parameter, read back by PostgreSQL's ``json_to_recordset``.

The worker's batch statements (a send's begin and finish) carry a column per value. As arrays
(``unnest(CAST(:ids AS varchar[]), …)``) psycopg dumps each of some forty arrays in Python —
finding each list's element type, then escaping every element with a regular expression: 0.64 ms
for a finish of six messages, a tenth of a worker's CPU per sent message (bench/bench_send.py,
session 12). The same rows as one JSON document are one ``json.dumps`` in C: 0.04 ms.

``json_to_recordset`` turns each object's keys into the typed columns its ``AS x(…)`` names; a
missing key or ``null`` is SQL NULL. Times go as ISO 8601 with their UTC offset, which
``timestamptz`` reads exactly; bytes as ``bytea``'s ``\\x`` hex text. An accept writes its
rows the same way (:meth:`RowInsert.from_json`, with the table's own row type).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from mailport.adapters.storage.tables import utc_param

__all__ = ["Columns", "json_dicts", "json_rows", "recordset"]

# (column name in SQL, its type, the key of the Python row that holds it)
Columns = Sequence[tuple[str, str, str]]


def _default(value: object) -> str:
    if isinstance(value, datetime):
        return utc_param(value).isoformat()  # type: ignore[union-attr]  # naive ones are refused there
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()  # bytea's input text
    raise TypeError(f"{type(value).__name__} is not a recordset value")


_ENCODE = json.JSONEncoder(default=_default, separators=(",", ":"), check_circular=False,
                           allow_nan=False).encode


def json_rows(rows: Sequence[Mapping[str, Any]], columns: Columns) -> str:
    """The rows as the JSON array that :func:`recordset` reads (``columns`` picks and names)."""
    return _ENCODE([{name: row[key] for name, _, key in columns} for row in rows])


def json_dicts(rows: Sequence[Mapping[str, Any]], extra: Sequence[tuple[str, Any]] = ()) -> str:
    """The rows as they are (keys are column names), each with the ``extra`` columns added."""
    if extra:
        added = dict(extra)
        return _ENCODE([{**row, **added} for row in rows])
    return _ENCODE(list(rows))


def recordset(param: str, alias: str, columns: Columns) -> str:
    """SQL of a ``FROM`` item: the rows of the JSON parameter ``param`` as ``alias(columns)``."""
    typed = ", ".join(f"{name} {sql_type}" for name, sql_type, _ in columns)
    return f"json_to_recordset(CAST(:{param} AS json)) AS {alias}({typed})"
