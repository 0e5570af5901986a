"""What the Gmail and Graph inbox tests share: customer mail, seeded straight into the lab
Dovecot mailbox both lab APIs read, and the rows the sync stored."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import sqlalchemy as sa

from mailport.adapters.storage.tables_inbox import InboxMessage
from mailport.runtime import Runtime

CUSTOMERS = [f"klant{i}@customer.example" for i in range(20)]


def message(i: int, *, when: datetime, to: str) -> bytes:
    """Customer question number ``i`` (from one of 20 customers, in turn)."""
    msg = EmailMessage()
    msg["From"] = f"Klant {i % 20} <{CUSTOMERS[i % 20]}>"
    msg["To"] = to
    msg["Subject"] = f"Vraag {i:04d}"
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(domain="customer.example")
    msg.set_content(f"Bericht nummer {i}.")
    return msg.as_bytes()


def seed(oauth_lab: Any, user: str, raws: list[bytes], *, when: datetime) -> None:
    """Store messages in the user's Dovecot INBOX (MULTIAPPEND, 200 a command)."""
    client = oauth_lab.imap_client(user, oauth_lab.users[user], timeout=60)
    try:
        for start in range(0, len(raws), 200):
            client.multiappend("INBOX", [{"msg": raw, "date": when} for raw in raws[start:start + 200]])
    finally:
        client.logout()


def stored(rt: Runtime, account_id: str) -> list[InboxMessage]:
    with rt.db.session() as s:
        return list(s.scalars(sa.select(InboxMessage).where(InboxMessage.account_id == account_id)))
