"""A verification's test mail never reaches the CRM (issue 16 item 5): even when it could not be
deleted (no UIDPLUS, a second client that saw it first), the inbox sync leaves it out."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from test_inbox_sync import PASSWORD, add_account, append, lab_runtime, make_message, subjects

from mailport.core.verification import build_test_message


async def test_the_sync_leaves_a_test_mail_out(tmp_path: Path, mail_lab: Any) -> None:
    email = f"skip{secrets.token_hex(4)}@example.test"
    mail_lab.add_user(email, PASSWORD)
    rt = lab_runtime(tmp_path, mail_lab)
    try:
        tenant, account = add_account(rt, mail_lab, email)
        append(mail_lab, email, make_message("Vraag over factuur 2026-0042", to=email))
        raw = build_test_message(email=email, display_name="Bakkerij", date=datetime.now(UTC), token="abc",
                                 message_id=f"<mailport-verify.abc@{email.split('@')[1]}>")
        client = mail_lab.imap_client(email, PASSWORD)
        try:
            client.append("INBOX", raw)
        finally:
            client.logout()
        report = await rt.inbox.sync_account(tenant, account)
        assert report is not None
        assert subjects(rt, account) == ["Vraag over factuur 2026-0042"]
    finally:
        rt.close()
