"""What a business owner reads on the Outbox and Inbox pages instead of code: a message's history
says in words that its address went on the suppression list, addresses read as written
(``bäckerei``, not ``xn--bckerei-5wa``), a Sent-folder copy in the Inbox says it was sent, and to
whom, and no text from a mail shows reordered by bidi override characters — through HTTP, no mail
servers."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dbfixtures import ADMIN_KEY, make_runtime
from mailport.api.app import create_app
from mailport.core.bounces import BouncedRecipient
from mailport.services.inbox import InboxMessageView

BASE = "http://127.0.0.1:8400"


def _signed_in(c: TestClient, lang: str) -> None:
    c.headers["Authorization"] = "Bearer " + c.post(
        "/v1/tenants", json={"name": "Bakkerij"}, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    ).json()["api_key"]
    link = c.post("/v1/ui-sessions", json={"user_name": "Anna", "language": lang}).json()["url"]
    assert c.get(link.removeprefix(BASE), follow_redirects=False).status_code == 303


@pytest.mark.parametrize(("lang", "line"), [
    ("nl", "klant@bäckerei.example is op de lijst gezet van adressen die geen documenten meer ontvangen"),
    ("en", "klant@bäckerei.example went on the list of addresses that no longer receive documents"),
])
def test_the_history_names_the_suppression_in_words(tmp_path: Path, lang: str, line: str) -> None:
    runtime = make_runtime(tmp_path)
    with TestClient(create_app(runtime, embedded_worker=False), raise_server_exceptions=False, base_url=BASE) as c:
        _signed_in(c, lang)
        account = c.post("/v1/accounts", json={
            "email": "info@bakkerij.example", "password": "pw",
            "smtp": {"host": "smtp.bakkerij.example", "port": 465, "security": "tls"}})
        assert account.status_code == 201, account.text
        sent = c.post("/v1/messages", json={"account": account.json()["id"], "to": ["klant@bäckerei.example"],
                                            "subject": "Factuur 2026-0043", "text": "Beste klant,"})
        assert sent.status_code == 202, sent.text
        message_id = sent.json()["id"]
        stored = sent.json()["recipients"][0]["address"]
        assert stored == "klant@xn--bckerei-5wa.example"  # what goes on the wire; the pages show Unicode
        tenant_id = c.get("/v1/tenant").json()["id"]
        with runtime.db.session() as s:  # the inbox sync's step when the bounce arrives
            assert runtime.suppression.record_bounce(
                s, tenant_id=tenant_id, message_id=message_id, now=datetime.now(UTC),
                recipient=BouncedRecipient(recipient=stored, status="5.1.1", hard=True,
                                           reason="unknown user", category="unknown_user"))
        events = [e["type"] for e in c.get(f"/v1/messages/{message_id}").json()["events"]]
        assert "recipient.suppressed" in events

        page = c.get(f"/ui/outbox/{message_id}").text
        assert line in page
        assert "recipient.suppressed" not in page and "xn--" not in page
        outbox = c.get("/ui/outbox").text  # the list and the suppression list
        assert outbox.count("klant@bäckerei.example") == 2
        # Only the "remove from list" form still carries the stored form, for the server.
        assert "xn--" not in outbox.replace(f'name="address" value="{stored}"', "")
    runtime.close()


def test_what_the_server_said_is_only_shown_when_a_server_said_it(tmp_path: Path) -> None:
    """A message deferred because the server name does not exist showed, under "Wat de server
    antwoordde", mailport's own English note ("The host name … does not exist in DNS"): no server
    said anything, and the diagnosis above says it in Dutch."""
    from mailport.adapters.storage.tables_outbox import MessageRecipient

    runtime = make_runtime(tmp_path)
    with TestClient(create_app(runtime, embedded_worker=False), raise_server_exceptions=False, base_url=BASE) as c:
        _signed_in(c, "nl")
        account = c.post("/v1/accounts", json={
            "email": "info@bakkerij.example", "password": "pw",
            "smtp": {"host": "smtp.bakkerij.example", "port": 465, "security": "tls"}}).json()["id"]
        message_id = c.post("/v1/messages", json={"account": account, "to": ["klant@example.org"],
                                                  "subject": "Factuur", "text": "x"}).json()["id"]

        def recipient(**values: Any) -> str:
            with runtime.db.session() as s:
                row = s.get(MessageRecipient, (message_id, 0))
                assert row is not None
                for key, value in values.items():
                    setattr(row, key, value)
            return c.get(f"/ui/outbox/{message_id}").text

        page = recipient(status="deferred", smtp_code=None, enhanced_code=None, diagnosis="net.host_not_found",
                         text="The host name smtp.bakkerij.example does not exist in DNS")
        assert "De servernaam is niet gevonden" in page
        assert "Wat de server antwoordde" not in page and "does not exist in DNS" not in page
        page = recipient(smtp_code=451, enhanced_code="4.7.1", diagnosis="send.greylisted",
                         text="451 4.7.1 Greylisted, try again later")
        assert "Wat de server antwoordde" in page and "451 4.7.1 Greylisted" in page
    runtime.close()


def _view(**changes: Any) -> InboxMessageView:
    base = InboxMessageView(
        id="imsg_1", account_id="acc_1", folder="INBOX", direction="in", uid=1, header_message_id=None,
        in_reply_to=None, references=[], thread_id="t1", subject="Vraag over factuur",
        from_={"name": "Jan Smit", "email": "jan@debiteur.example"},
        to=[{"name": None, "email": "info@bakkerij.example"}], cc=[], date=datetime(2026, 12, 6, 12, tzinfo=UTC),
        received_at=None, flags=["\\Seen"], size=100, snippet="", sent_message_id=None, bounce=None)
    return dataclasses.replace(base, **changes)


def test_the_inbox_marks_sent_copies_and_shows_no_bidi_override(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = make_runtime(tmp_path)
    # From anyone: an override that would show "Vraag over factuur exe.pdf" for a program's name.
    received = _view(subject="Vraag over factuur \u202efdp.exe", snippet="zie \u2067bijlage\u2069")
    sent = _view(id="imsg_2", folder="Sent", direction="out", subject="Factuur 2026-0042",
                 from_={"name": "Bakkerij Jansen", "email": "info@bakkerij.example"},
                 to=[{"name": "Debiteur BV", "email": "klant@debiteur.example"}])
    monkeypatch.setattr(type(runtime.inbox), "list_messages", lambda self, tenant_id, **kw: [sent, received])
    with TestClient(create_app(runtime, embedded_worker=False), raise_server_exceptions=False, base_url=BASE) as c:
        _signed_in(c, "nl")
        page = c.get("/ui/inbox").text
    rows = page.split("<tbody>", 1)[1].split("</tr>")
    sent_row = next(r for r in rows if "Factuur 2026-0042" in r)
    received_row = next(r for r in rows if "Vraag over factuur" in r)
    assert "Vraag over factuur fdp.exe" in received_row and "zie bijlage" in received_row
    assert not any(ch in page for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    assert "Verstuurd" in sent_row and "Aan: </span>klant@debiteur.example" in sent_row
    assert "Bakkerij Jansen" not in sent_row  # not "from" the business itself, as if it were received
    assert "Jan Smit" in received_row and "Verstuurd" not in received_row
    # On a phone each cell shows its own label: "Aan: klant@…", never "Van: Verstuurd".
    assert 'data-label="Aan"' in sent_row and 'data-label="Van"' not in sent_row
    assert 'data-label="Van"' in received_row
    runtime.close()


def test_a_sent_copy_in_the_inbox_shows_how_its_document_fared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Sent-folder copy of an invoice that bounced said "Verstuurd": it now says what the outbox
    knows ("Teruggestuurd"), linked to the document; a copy sent by another program stays "Verstuurd"."""
    from mailport.adapters.storage.tables_outbox import Message

    runtime = make_runtime(tmp_path)
    with TestClient(create_app(runtime, embedded_worker=False), raise_server_exceptions=False, base_url=BASE) as c:
        _signed_in(c, "nl")
        account = c.post("/v1/accounts", json={
            "email": "info@bakkerij.example", "password": "pw",
            "smtp": {"host": "smtp.bakkerij.example", "port": 587, "security": "starttls"}})
        assert account.status_code == 201, account.text
        sent = c.post("/v1/messages", json={"account": account.json()["id"], "to": ["klant@debiteur.example"],
                                            "subject": "Factuur 2026-0042", "text": "x"}).json()
        with runtime.db.session() as s:
            row = s.get(Message, sent["id"])
            assert row is not None
            row.state = "bounced"
        copy = _view(id="imsg_2", folder="Sent", direction="out", subject="Factuur 2026-0042",
                     header_message_id=sent["message_id_header"],
                     to=[{"name": None, "email": "klant@debiteur.example"}])
        other = _view(id="imsg_3", folder="Sent", direction="out", subject="Offerte", header_message_id="<x@y>",
                      to=[{"name": None, "email": "jan@debiteur.example"}])
        monkeypatch.setattr(type(runtime.inbox), "list_messages", lambda self, tenant_id, **kw: [copy, other])
        page = c.get("/ui/inbox").text
    rows = page.split("<tbody>", 1)[1].split("</tr>")
    bounced = next(r for r in rows if "Factuur 2026-0042" in r)
    assert "Teruggestuurd" in bounced and "Verstuurd" not in bounced
    assert f'href="/ui/outbox/{sent["id"]}"' in bounced
    assert "Verstuurd" in next(r for r in rows if "Offerte" in r)
    runtime.close()
