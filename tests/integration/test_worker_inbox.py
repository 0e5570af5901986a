"""A worker process's background loops: the job worker and the inbox sync run side by side.

Connect a lab mailbox, start ``Runtime.run_background`` (what ``mailport worker`` and the embedded
worker of ``mailport serve`` run), deliver a mail to the mailbox — it shows up in the inbox API's
store without anyone asking for a sync.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from dbfixtures import make_runtime
from mailport.services.accounts import AccountInput

pytestmark = pytest.mark.lab


async def test_worker_syncs_new_mail_without_being_asked(tmp_path: Path, mail_lab: Any) -> None:
    email = f"worker{secrets.token_hex(3)}@example.test"
    mail_lab.add_user(email, "pw-worker-123")
    rt = make_runtime(tmp_path, allow_private_hosts=True, ca_file=str(mail_lab.ca_pem_path))
    tenant = rt.tenants.create(name="w").tenant.id
    account = rt.accounts.create(tenant, AccountInput(
        email=email, password="pw-worker-123",
        smtp={"host": "127.0.0.1", "port": mail_lab.submission_port, "security": "starttls"},
        imap={"host": "127.0.0.1", "port": mail_lab.imaps_port, "security": "tls"},
    ))
    stop = asyncio.Event()
    background = asyncio.create_task(rt.run_background(stop, worker_id="test-worker"))
    try:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "klant@example.test", email, "Vraag over factuur 17"
        msg["Message-ID"] = f"<{secrets.token_hex(8)}@example.test>"
        msg.set_content("Hallo, een vraag.")
        mail_lab.inject(msg, mail_from="klant@example.test", rcpt_to=[email])
        deadline = time.monotonic() + 30
        subjects: list[str] = []
        while time.monotonic() < deadline:
            found = await asyncio.to_thread(rt.inbox.list_messages, tenant, account_id=account.id)
            subjects = [m.subject for m in found]
            if "Vraag over factuur 17" in subjects:
                break
            await asyncio.sleep(0.3)
        assert "Vraag over factuur 17" in subjects
    finally:
        stop.set()
        await asyncio.wait_for(background, 30)
        rt.close()
