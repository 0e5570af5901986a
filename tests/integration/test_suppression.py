"""The suppression list over a real database: which bounces suppress, the accept-time check,
``ignore_suppression``, hand-made entries, tenants kept apart, and the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from dbfixtures import make_runtime
from mailport.adapters.storage.tables_outbox import Event, Message
from mailport.cli import app
from mailport.errors import NotFound, ValidationError
from mailport.runtime import Runtime
from mailport.services.accounts import AccountInput
from mailport.services.send import SendRequest


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    rt = make_runtime(tmp_path, database_url, suppress_after_soft_bounces=2)
    yield rt
    rt.close()


def _dsn(rcpt: str, header_id: str, status: str, text: str) -> bytes:
    return f"""From: MAILER-DAEMON@mail.shop.example
To: billing@shop.example
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

<{rcpt}>: host mx.example said: {text}

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.shop.example

Final-Recipient: rfc822; {rcpt}
Action: failed
Status: {status}
Diagnostic-Code: smtp; {text}

--b
Content-Type: text/rfc822-headers

Message-ID: {header_id}
Subject: Invoice

--b--
""".encode()


class Shop:
    def __init__(self, runtime: Runtime, name: str = "Bakkerij") -> None:
        self.rt = runtime
        self.tenant = runtime.tenants.create(name=name).tenant.id
        self.account = runtime.accounts.create(self.tenant, AccountInput(
            email=f"billing@{name.lower()}.example", password="secret",
            smtp={"host": "smtp.example", "port": 587, "security": "starttls"})).id

    def send(self, to: str, **extra: object) -> str:
        return self.rt.outbox.submit(self.tenant, SendRequest(
            account_id=self.account, to=[to], subject="Factuur", text="Factuur.", **extra)).message.id  # type: ignore[arg-type]

    def bounce(self, to: str, status: str, text: str) -> None:
        """Send to ``to``, pretend it went out, and let its bounce come back."""
        message_id = self.send(to, ignore_suppression=True)
        with self.rt.db.session() as s:
            s.execute(sa.update(Message).where(Message.id == message_id).values(state="sent"))
            header_id = s.scalar(sa.select(Message.header_message_id).where(Message.id == message_id))
        assert self.rt.inbox.ingest_bounce(self.tenant, _dsn(to, str(header_id), status, text)) == message_id

    def listed(self) -> list[tuple[str, str]]:
        return [(v.address, v.reason) for v in self.rt.suppression.list_suppressions(self.tenant)]


def test_hard_bounce_suppresses_at_once_and_send_is_refused(runtime: Runtime) -> None:
    shop = Shop(runtime)
    shop.bounce("gone@klant.example", "5.1.1", "550 5.1.1 <gone@klant.example>: User unknown")
    assert shop.listed() == [("gone@klant.example", "hard_bounce")]
    # The recipient carries the code of the server that refused it (was the submission's 250).
    bounced = runtime.outbox.list_messages(shop.tenant)[0].recipients[0]
    assert (bounced["smtp_code"], bounced["enhanced_code"]) == (550, "5.1.1"), bounced
    with pytest.raises(ValidationError) as refused:
        shop.send("Gone@Klant.example")  # the same address, any case
    assert refused.value.code == "send.recipient_suppressed"
    assert refused.value.diagnosis_code == "send.recipient_unknown"
    assert "5.1.1" in refused.value.server_text
    # …unless the caller insists; other recipients are unaffected.
    assert shop.send("gone@klant.example", ignore_suppression=True)
    assert shop.send("other@klant.example")


def test_a_batch_whose_every_item_is_suppressed_writes_nothing_and_warns_nothing(runtime: Runtime) -> None:
    # It used to reach an executemany of no rows: SQLAlchemy's "NULL primary key" SAWarning, an
    # "INSERT … DEFAULT VALUES" failing on its constraint, and a rollback the results hid.
    import warnings

    shop = Shop(runtime)
    runtime.suppression.add(shop.tenant, "weg@klant.example")
    runtime.suppression.add(shop.tenant, "ook.weg@klant.example")
    with runtime.db.session() as s:
        before = s.scalar(sa.select(sa.func.count()).select_from(Message))
    items = [(SendRequest(account_id=shop.account, to=[to], subject="Factuur", text="Factuur."), None)
             for to in ("weg@klant.example", "Ook.Weg@klant.example")]
    with warnings.catch_warnings():
        warnings.simplefilter("error", sa.exc.SAWarning)
        results = runtime.outbox.submit_many(shop.tenant, items)
    assert [r.code for r in results if isinstance(r, ValidationError)] == ["send.recipient_suppressed"] * 2
    with runtime.db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Message)) == before


def test_policy_and_full_mailbox_are_soft_even_under_5xx_and_count_up(runtime: Runtime) -> None:
    shop = Shop(runtime)
    shop.bounce("vol@klant.example", "5.2.2", "552 5.2.2 Mailbox full")
    shop.bounce("spam@klant.example", "5.7.1", "554 5.7.1 Message rejected as spam by Content Filtering")
    assert shop.listed() == []  # one soft bounce each: below the threshold of 2
    shop.send("vol@klant.example")
    shop.bounce("vol@klant.example", "5.2.2", "552 5.2.2 Mailbox full")
    assert shop.listed() == [("vol@klant.example", "soft_bounces")]
    with runtime.db.session() as s:
        events = s.scalars(sa.select(Event).where(Event.type == "recipient.suppressed")).all()
    assert [(e.data["address"], e.data["reason"], e.data["diagnosis"]) for e in events] == [
        ("vol@klant.example", "soft_bounces", "send.recipient_mailbox_full")]


def test_hand_made_entries_tenants_apart_and_removal(runtime: Runtime) -> None:
    shop, other = Shop(runtime), Shop(runtime, "Slager")
    view = runtime.suppression.add(shop.tenant, "Niet.Mailen@Klant.example")
    assert view.reason == "manual" and view.status is None
    assert runtime.suppression.add(shop.tenant, "niet.mailen@klant.example").created_at == view.created_at
    with pytest.raises(ValidationError):
        shop.send("niet.mailen@klant.example")
    assert other.send("niet.mailen@klant.example")  # another tenant's list does not apply
    runtime.suppression.remove(shop.tenant, "NIET.MAILEN@klant.example")
    assert shop.send("niet.mailen@klant.example")
    with pytest.raises(NotFound):
        runtime.suppression.remove(shop.tenant, "niet.mailen@klant.example")
    with pytest.raises(ValidationError):
        runtime.suppression.add(shop.tenant, "not an address")


def test_cli_lists_adds_and_removes(runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shop = Shop(runtime)
    shop.bounce("gone@klant.example", "5.1.1", "550 5.1.1 User unknown")
    monkeypatch.setenv("MAILPORT_DATABASE_URL", runtime.settings.database_url)
    monkeypatch.setenv("MAILPORT_DATA_DIR", str(runtime.settings.data_dir))
    monkeypatch.setenv("MAILPORT_SECRET_KEY", runtime.settings.secret_key)
    monkeypatch.setenv("MAILPORT_ADMIN_KEY", runtime.settings.admin_key)
    cli = CliRunner()
    listed = cli.invoke(app, ["suppression", "list", "--tenant", shop.tenant, "--json"])
    assert listed.exit_code == 0, listed.output
    [entry] = json.loads(listed.stdout)
    assert (entry["address"], entry["reason"], entry["status"]) == ("gone@klant.example", "hard_bounce", "5.1.1")
    human = cli.invoke(app, ["suppression", "list", "--tenant", shop.tenant, "--lang", "nl"])
    assert "gone@klant.example" in human.stdout and "Het adres van de ontvanger bestaat niet" in human.stdout
    assert cli.invoke(app, ["suppression", "add", "x@klant.example", "--tenant", shop.tenant]).exit_code == 0
    assert cli.invoke(app, ["suppression", "remove", "gone@klant.example", "--tenant", shop.tenant]).exit_code == 0
    assert shop.listed() == [("x@klant.example", "manual")]
    missing = cli.invoke(app, ["suppression", "remove", "gone@klant.example", "--tenant", shop.tenant])
    assert missing.exit_code == 2 and "suppression.not_found" in missing.output
    send = ["send", "--tenant", shop.tenant, "--account", shop.account, "--to", "x@klant.example",
            "--subject", "Factuur", "--text", "Factuur."]
    refused = cli.invoke(app, send)
    assert refused.exit_code == 2 and "send.recipient_suppressed" in refused.output
    assert cli.invoke(app, [*send, "--ignore-suppression"]).exit_code == 0
