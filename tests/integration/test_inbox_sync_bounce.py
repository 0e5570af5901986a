"""A real bounce: an invoice sent through the lab's Postfix to a non-existent local user comes back
as Postfix's own DSN; inbox sync recognizes it, links it to the sent message (now ``bounced``,
recipient diagnosed 5.1.1 hard) and records ``message.bounced``. A reply to the invoice is linked
to it as well, and new mail fires ``message.received``."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from outbox_helpers import run_worker_until, state_of
from test_inbox_sync import PASSWORD, append, make_message

from dbfixtures import make_runtime
from mailport.adapters.storage.tables_inbox import InboxMessage
from mailport.adapters.storage.tables_outbox import Event, MessageRecipient
from mailport.core.bounces import parse_bounce
from mailport.core.message import Mailbox
from mailport.runtime import Runtime
from mailport.services.accounts import AccountInput
from mailport.services.send import SendRequest

pytestmark = pytest.mark.lab


@pytest.fixture
def sender(mail_lab: Any) -> str:
    email = f"shop{secrets.token_hex(4)}@example.test"
    mail_lab.add_user(email, PASSWORD)
    return email


@pytest.fixture
def runtime(tmp_path: Path, mail_lab: Any) -> Iterator[Runtime]:
    # Fast send retries: another test may just have restarted Dovecot, whose SASL Postfix uses.
    rt = make_runtime(tmp_path, allow_private_hosts=True, ca_file=str(mail_lab.ca_pem_path), connect_timeout=10.0,
                      send_retry_min_delay=0.2, send_retry_max_delay=0.5)
    yield rt
    rt.close()


async def test_postfix_bounce_is_recognized_and_linked_to_the_sent_invoice(
    runtime: Runtime, mail_lab: Any, sender: str,
) -> None:
    tenant = runtime.tenants.create(name="Bakkerij").tenant.id
    account = runtime.accounts.create(tenant, AccountInput(
        email=sender, password=PASSWORD,
        smtp={"host": "127.0.0.1", "port": mail_lab.submission_port, "security": "starttls"},
        imap={"host": "127.0.0.1", "port": mail_lab.imaps_port, "security": "tls"},
    )).id
    # First pass: the mailbox is empty; later mail counts as new.
    await runtime.inbox.sync_account(tenant, account)

    nobody = f"nobody{secrets.token_hex(3)}@example.test"
    sent = runtime.outbox.submit(tenant, SendRequest(
        account_id=account, to=[Mailbox.parse(nobody)], subject="Factuur 2026-0099",
        text="Beste klant, de factuur.", metadata={"invoice_id": "2026-0099"},
    )).message
    await run_worker_until(runtime, lambda: state_of(runtime, tenant, sent.id) in ("sent", "failed"), timeout=30)
    assert state_of(runtime, tenant, sent.id) == "sent"

    dsn = mail_lab.wait_for_message(sender, subject="Undelivered Mail Returned to Sender", timeout=30)
    raw_dsn = dsn.as_bytes()
    assert parse_bounce(raw_dsn).is_bounce  # the parser alone already knows it

    report = await runtime.inbox.sync_account(tenant, account)
    assert next(f for f in report.folders if f.role == "inbox").bounces == 1

    assert state_of(runtime, tenant, sent.id) == "bounced"
    view = runtime.outbox.get(tenant, sent.id)
    with runtime.db.session() as s:
        row = s.scalars(sa.select(InboxMessage).where(InboxMessage.account_id == account,
                                                      InboxMessage.direction == "in")).one()
        assert row.sent_message_id == sent.id
        assert row.bounce is not None and row.bounce["is_bounce"] is True
        assert row.bounce["original_message_id"] == view.header_message_id
        assert row.bounce["recipients"] == [{"recipient": nobody, "status": "5.1.1", "hard": True,
                                             "reason": "the mailbox does not exist"}]
        recipient = s.scalars(sa.select(MessageRecipient).where(MessageRecipient.message_id == sent.id)).one()
        assert (recipient.status, recipient.enhanced_code) == ("failed", "5.1.1")
        events = s.scalars(sa.select(Event).where(Event.tenant_id == tenant,
                                                  Event.type.in_(["message.bounced", "message.received"]))).all()
        bounced = [e for e in events if e.type == "message.bounced"]
        assert len(bounced) == 1 and bounced[0].message_id == sent.id
        assert bounced[0].data["recipient"] == nobody and bounced[0].data["hard"] is True
        assert bounced[0].data["metadata"] == {"invoice_id": "2026-0099"}
        assert [e.data["message_id"] for e in events if e.type == "message.received"] == [row.id]
    # The same report again (e.g. also delivered to the return-path address): linked, no new event.
    assert runtime.inbox.ingest_bounce(tenant, raw_dsn) == sent.id
    assert runtime.inbox.ingest_bounce(tenant, b"Subject: hi\r\n\r\nnot a bounce\r\n") is None
    other = runtime.tenants.create(name="Other").tenant.id
    assert runtime.inbox.ingest_bounce(other, raw_dsn) is None  # another tenant's message: not found
    with runtime.db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Event).where(
            Event.type == "message.bounced", Event.message_id == sent.id)) == 1
    # the DSN was read whole once; the API serves it from the cache
    assert (await runtime.inbox.raw(tenant, row.id)).replace(b"\r\n", b"\n") == raw_dsn.replace(b"\r\n", b"\n")

    # A customer's reply to the invoice is linked to it.
    reply = make_message("Re: Factuur 2026-0099", sender="debiteur@example.org", to=sender,
                         in_reply_to=view.header_message_id)
    append(mail_lab, sender, reply, folder="INBOX")
    await runtime.inbox.sync_account(tenant, account)
    replies = [m for m in runtime.inbox.list_messages(tenant, account_id=account) if m.subject.startswith("Re:")]
    assert len(replies) == 1 and replies[0].sent_message_id == sent.id and replies[0].bounce is None
