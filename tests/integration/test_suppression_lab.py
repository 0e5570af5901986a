"""The suppression list end to end against the lab's real Postfix and Dovecot.

An invoice to a user that does not exist → Postfix's own DSN comes back to the sender's mailbox →
inbox sync reads it as a hard bounce → the address is on the tenant's suppression list (with the
bounced message, date and diagnosis; ``recipient.suppressed`` fired) → the next invoice to it is
refused at accept with ``send.recipient_suppressed`` and the diagnosis in Dutch → removed from the
list (the customer fixed it) → the next invoice is accepted. The API is driven through the
package's own client (``mailport.client``) over HTTP.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from outbox_helpers import run_worker_until, state_of
from test_inbox_sync import PASSWORD

from dbfixtures import make_runtime
from mailport import errors
from mailport.adapters.storage.tables_outbox import Event
from mailport.api.app import create_app
from mailport.client import Client
from mailport.runtime import Runtime
from mailport.services.accounts import AccountInput

pytestmark = pytest.mark.lab


@pytest.fixture
def runtime(tmp_path: Path, mail_lab: Any) -> Iterator[Runtime]:
    rt = make_runtime(tmp_path, allow_private_hosts=True, ca_file=str(mail_lab.ca_pem_path), connect_timeout=10.0,
                      send_retry_min_delay=0.2, send_retry_max_delay=0.5)
    yield rt
    rt.close()


async def test_hard_bounce_suppresses_until_removed(runtime: Runtime, mail_lab: Any) -> None:
    sender = f"shop{secrets.token_hex(4)}@example.test"
    mail_lab.add_user(sender, PASSWORD)
    created = runtime.tenants.create(name="Bakkerij")
    tenant = created.tenant.id
    account = runtime.accounts.create(tenant, AccountInput(
        email=sender, password=PASSWORD,
        smtp={"host": "127.0.0.1", "port": mail_lab.submission_port, "security": "starttls"},
        imap={"host": "127.0.0.1", "port": mail_lab.imaps_port, "security": "tls"},
    )).id
    await runtime.inbox.sync_account(tenant, account)  # later mail counts as new
    nobody = f"nobody{secrets.token_hex(3)}@example.test"

    with TestClient(create_app(runtime)) as http:
        client = Client("http://testserver", api_key=created.api_key, language="nl", http_client=http)
        first = client.messages.send(account=account, to=[nobody], subject="Factuur 2026-0101",
                                     text="Beste klant, de factuur.", metadata={"invoice_id": "2026-0101"})
        assert client.suppressions.list() == []

        await run_worker_until(runtime, lambda: state_of(runtime, tenant, first.id) in ("sent", "failed"))
        assert state_of(runtime, tenant, first.id) == "sent"
        mail_lab.wait_for_message(sender, subject="Undelivered Mail Returned to Sender", timeout=30)
        await runtime.inbox.sync_account(tenant, account)
        assert state_of(runtime, tenant, first.id) == "bounced"

        # On the list: the bounced message, the date, the diagnosis (in the client's language).
        [entry] = client.suppressions.list()
        assert (entry.address, entry.reason, entry.status, entry.message_id) == (
            nobody, "hard_bounce", "5.1.1", first.id)
        assert entry.diagnosis is not None and entry.diagnosis.code == "send.recipient_unknown"
        assert entry.diagnosis.title == "Het adres van de ontvanger bestaat niet"
        assert entry.server_text and "5.1.1" in entry.server_text
        with runtime.db.session() as s:
            fired = s.scalars(sa.select(Event).where(Event.tenant_id == tenant,
                                                     Event.type == "recipient.suppressed")).all()
        assert [(e.data["address"], e.data["reason"], e.data["message_id"]) for e in fired] == [
            (nobody, "hard_bounce", first.id)]

        # The next invoice to it is refused at accept, explained in Dutch.
        with pytest.raises(errors.ValidationError) as refused:
            client.messages.send(account=account, to=[nobody], subject="Factuur 2026-0102", text="Tweede factuur.")
        assert refused.value.code == "send.recipient_suppressed"
        diagnosis = refused.value.diagnosis
        assert diagnosis.code == "send.recipient_unknown"
        assert diagnosis.title == "Het adres van de ontvanger bestaat niet"
        problem = refused.value.problem
        assert problem.model_extra["suppressed"][0]["address"] == nobody
        assert len(client.messages.list()) == 1  # nothing was queued

        # The customer fixed their address: remove it from the list, and mail is accepted again.
        client.suppressions.remove(nobody)
        assert client.suppressions.list() == []
        again = client.messages.send(account=account, to=[nobody], subject="Factuur 2026-0102",
                                     text="Tweede factuur.")
        assert again.state == "queued"
        with pytest.raises(errors.NotFound):
            client.suppressions.remove(nobody)
