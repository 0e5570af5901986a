"""The example's own tiny database (SQLite): customers, invoices, and a few settings."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS invoices (
    id INTEGER PRIMARY KEY, number TEXT NOT NULL UNIQUE, customer_id INTEGER NOT NULL REFERENCES customers(id),
    description TEXT NOT NULL, amount_cents INTEGER NOT NULL, created_at TEXT NOT NULL,
    idempotency_key TEXT, message_id TEXT, status TEXT NOT NULL DEFAULT 'draft', status_detail TEXT);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seen_events (id TEXT PRIMARY KEY, received_at TEXT NOT NULL);
"""

# Delivery states in the order they can follow each other: webhooks may arrive out of order
# (a retried "queued" after "sent"), and a status never goes back.
RANK = {"draft": 0, "queued": 1, "sending": 2, "deferred": 2, "sent": 3, "cancelled": 4, "failed": 4,
        "bounced": 5}


@dataclass(frozen=True, slots=True)
class Customer:
    id: int
    name: str
    email: str

    @property
    def contact_id(self) -> str:
        """The id mailport knows this customer by (our id, namespaced)."""
        return f"customer-{self.id}"


@dataclass(frozen=True, slots=True)
class Invoice:
    id: int
    number: str
    customer_id: int
    description: str
    amount_cents: int
    created_at: str
    idempotency_key: str | None
    message_id: str | None
    status: str
    status_detail: str | None

    @property
    def amount(self) -> str:
        return f"{self.amount_cents // 100},{self.amount_cents % 100:02d}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:  # one transaction
                yield db
        finally:
            db.close()

    # settings
    def get(self, key: str) -> str | None:
        with self._db() as db:
            row = db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def put(self, key: str, value: str) -> None:
        with self._db() as db:
            db.execute("INSERT INTO settings(key, value) VALUES (?, ?) "
                       "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    # customers
    def add_customer(self, *, name: str, email: str) -> Customer:
        with self._db() as db:
            cur = db.execute("INSERT INTO customers(name, email, created_at) VALUES (?, ?, ?)",
                             (name, email, _now()))
        return Customer(id=int(cur.lastrowid or 0), name=name, email=email)

    def customers(self) -> list[Customer]:
        with self._db() as db:
            return [Customer(*row) for row in db.execute("SELECT id, name, email FROM customers ORDER BY id")]

    def customer(self, customer_id: int) -> Customer:
        with self._db() as db:
            row = db.execute("SELECT id, name, email FROM customers WHERE id = ?", (customer_id,)).fetchone()
        if row is None:
            raise KeyError(customer_id)
        return Customer(*row)

    # invoices
    def add_invoice(self, *, customer_id: int, description: str, amount_cents: int) -> Invoice:
        with self._db() as db:
            count = db.execute("SELECT COUNT(*) FROM invoices").fetchone()[0]
            number = f"{datetime.now(UTC).year}-{count + 1:04d}"
            cur = db.execute("INSERT INTO invoices(number, customer_id, description, amount_cents, created_at) "
                             "VALUES (?, ?, ?, ?, ?)", (number, customer_id, description, amount_cents, _now()))
        return self.invoice(int(cur.lastrowid or 0))

    def invoices(self) -> list[Invoice]:
        with self._db() as db:
            return [Invoice(*row) for row in db.execute(f"SELECT {_INVOICE_COLUMNS} FROM invoices ORDER BY id DESC")]

    def invoice(self, invoice_id: int) -> Invoice:
        with self._db() as db:
            row = db.execute(f"SELECT {_INVOICE_COLUMNS} FROM invoices WHERE id = ?", (invoice_id,)).fetchone()
        if row is None:
            raise KeyError(invoice_id)
        return Invoice(*row)

    def invoice_by_message(self, message_id: str) -> Invoice | None:
        with self._db() as db:
            row = db.execute(f"SELECT {_INVOICE_COLUMNS} FROM invoices WHERE message_id = ?",
                             (message_id,)).fetchone()
        return Invoice(*row) if row else None

    def claim_idempotency_key(self, invoice_id: int, key: str) -> str:
        """Store a key for the invoice's send unless it has one; return the key to use. Persisting
        it *before* calling mailport is what makes a crash-and-retry send the invoice only once."""
        with self._db() as db:
            db.execute("UPDATE invoices SET idempotency_key = ? WHERE id = ? AND idempotency_key IS NULL",
                       (key, invoice_id))
            return str(db.execute("SELECT idempotency_key FROM invoices WHERE id = ?", (invoice_id,)).fetchone()[0])

    def set_message(self, invoice_id: int, *, message_id: str, status: str) -> None:
        with self._db() as db:
            db.execute("UPDATE invoices SET message_id = ? WHERE id = ?", (message_id, invoice_id))
        self.set_status(invoice_id, status=status, detail=None)

    def set_status(self, invoice_id: int, *, status: str, detail: str | None) -> bool:
        """Move the invoice forward to ``status``; False if it already is further along."""
        with self._db() as db:
            current = db.execute("SELECT status FROM invoices WHERE id = ?", (invoice_id,)).fetchone()
            if current is None or RANK.get(status, 0) < RANK.get(current[0], 0):
                return False
            db.execute("UPDATE invoices SET status = ?, status_detail = ? WHERE id = ?", (status, detail, invoice_id))
            return True

    def first_time(self, event_id: str) -> bool:
        """Record a webhook event id; False if it was seen before (deliveries can repeat)."""
        with self._db() as db:
            cur = db.execute("INSERT OR IGNORE INTO seen_events(id, received_at) VALUES (?, ?)", (event_id, _now()))
            return cur.rowcount == 1


_INVOICE_COLUMNS = ("id, number, customer_id, description, amount_cents, created_at, idempotency_key, "
                    "message_id, status, status_detail")
