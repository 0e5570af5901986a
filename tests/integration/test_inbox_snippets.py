"""Snippets of the initial sync against the lab's real Dovecot (2.3.19: PREVIEW and SNIPPET=FUZZY):
listed lazily (only the previews Dovecot has cached), filled afterwards by the backfill, by the
engine before it waits, or when a message is opened; the body-prefix fallback for servers
without PREVIEW; and the parsing of the answers."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from test_inbox_sync import PASSWORD, _until, add_account, append, lab_runtime, make_message

from mailport.adapters.imap import SyncSession
from mailport.adapters.imap.parser import parse_fetch
from mailport.adapters.imap.sync import _fetched
from mailport.adapters.storage.tables_inbox import InboxMessage
from mailport.runtime import Runtime

pytestmark = pytest.mark.lab


@pytest.fixture
def runtime(tmp_path: Path, mail_lab: Any, database_url: str) -> Iterator[Runtime]:
    rt = lab_runtime(tmp_path, mail_lab, database_url)  # SQLite and PostgreSQL
    yield rt
    rt.close()


@pytest.fixture
def mailbox(mail_lab: Any) -> str:
    email = f"snip{secrets.token_hex(4)}@example.test"
    mail_lab.add_user(email, PASSWORD)
    return email


def html_message() -> EmailMessage:
    msg = make_message("Offer", body="Plain part: see the offer below.")
    msg.add_alternative("<html><body><p>Dear <b>shop</b>, our offer &amp; terms.</p></body></html>",
                        subtype="html")
    return msg


def rows(rt: Runtime, account_id: str) -> dict[str, InboxMessage]:
    with rt.db.session() as s:
        return {m.subject: m for m in s.scalars(sa.select(InboxMessage).where(InboxMessage.account_id == account_id))}


def fill_mailbox(mail_lab: Any, mailbox: str) -> None:
    append(mail_lab, mailbox, make_message("Question", body="Dear shop,\n\nwhy is invoice 42 so expensive?\n"))
    append(mail_lab, mailbox, html_message())
    append(mail_lab, mailbox, make_message("Sent copy", sender=mailbox, body="Thanks for the order."), folder="Sent")


@pytest.mark.parametrize("preview", ["PREVIEW", "SNIPPET"])
async def test_lazy_listing_then_backfill(runtime: Runtime, mail_lab: Any, mailbox: str, preview: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    if preview == "SNIPPET":  # Dovecot before 2.3.14 offered only the draft's SNIPPET=FUZZY
        monkeypatch.setattr(SyncSession, "preview", property(lambda self: "SNIPPET"))
    tenant, account = add_account(runtime, mail_lab, mailbox)
    fill_mailbox(mail_lab, mailbox)

    report = await runtime.inbox.sync_account(tenant, account, backfill=False)
    assert report.added == 3
    listed = rows(runtime, account)
    # Nothing was cached by Dovecot yet: every message is listed, none with a snippet.
    assert {s: (m.snippet, m.snippet_pending) for s, m in listed.items()} == {
        "Question": ("", True), "Offer": ("", True), "Sent copy": ("", True)}
    assert listed["Question"].from_email == "jane@customer.example"  # the rest of the row is there

    await runtime.inbox.sync_account(tenant, account)  # an increment, then the backfill
    filled = rows(runtime, account)
    assert not any(m.snippet_pending for m in filled.values())
    assert filled["Question"].snippet == "Dear shop, why is invoice 42 so expensive?"
    assert filled["Offer"].snippet.startswith("Plain part: see the offer below.")
    assert filled["Sent copy"].snippet == "Thanks for the order."
    assert {m.id for m in filled.values()} == {m.id for m in listed.values()}  # filled in place

    # Dovecot cached the previews when the backfill asked for them: a lazy listing now has them.
    async with runtime.imap_sync.connect(tenant, account) as conn:
        await conn.sync.examine("INBOX")
        uids = await conn.sync.uid_search_all()
        again = await conn.sync.fetch_summaries(uids, lazy_snippets=True)
    assert sorted(m.summary.snippet for m in again) == sorted([filled["Question"].snippet, filled["Offer"].snippet])
    assert not any(m.snippet_pending for m in again)


@pytest.mark.parametrize("preview", [True, False])
async def test_snippets_of_encoded_bodies_read_the_same_with_and_without_preview(
    runtime: Runtime, mail_lab: Any, mailbox: str, preview: bool, monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not preview:
        monkeypatch.setattr(SyncSession, "preview", property(lambda self: None))
    tenant, account = add_account(runtime, mail_lab, mailbox)
    latin = make_message("Latin")
    latin.set_content("Grüße aus Köln,\nbis Freitag.", charset="iso-8859-1", cte="quoted-printable")
    base64_body = make_message("Base64")
    base64_body.set_content("Ünïcode body, sent as base64.", cte="base64")
    html_only = make_message("Html")
    html_only.set_content("<html><body><p>Only <i>HTML</i> here &amp; there.</p></body></html>", subtype="html")
    for msg in (latin, base64_body, html_only):
        append(mail_lab, mailbox, msg)
    await runtime.inbox.sync_account(tenant, account)
    found = {s: m.snippet for s, m in rows(runtime, account).items()}
    assert found == {"Latin": "Grüße aus Köln, bis Freitag.", "Base64": "Ünïcode body, sent as base64.",
                     "Html": "Only HTML here & there."}


async def test_without_preview_the_body_prefix_gives_the_snippet_at_once(
    runtime: Runtime, mail_lab: Any, mailbox: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(SyncSession, "preview", property(lambda self: None))  # Gmail, Exchange, …
    tenant, account = add_account(runtime, mail_lab, mailbox)
    fill_mailbox(mail_lab, mailbox)
    await runtime.inbox.sync_account(tenant, account, backfill=False)
    listed = rows(runtime, account)
    assert not any(m.snippet_pending for m in listed.values())
    assert listed["Question"].snippet == "Dear shop, why is invoice 42 so expensive?"
    assert listed["Offer"].snippet.startswith("Plain part: see the offer below.")


async def test_new_mail_comes_with_its_snippet(runtime: Runtime, mail_lab: Any, mailbox: str) -> None:
    tenant, account = add_account(runtime, mail_lab, mailbox)
    await runtime.inbox.sync_account(tenant, account, backfill=False)  # empty: the folder is known
    append(mail_lab, mailbox, make_message("Later", body="Arrived after the first sync."))
    await runtime.inbox.sync_account(tenant, account, backfill=False)
    later = rows(runtime, account)["Later"]
    assert (later.snippet, later.snippet_pending) == ("Arrived after the first sync.", False)


async def test_opening_a_pending_message_fills_its_snippet(runtime: Runtime, mail_lab: Any, mailbox: str) -> None:
    tenant, account = add_account(runtime, mail_lab, mailbox)
    append(mail_lab, mailbox, html_message())
    await runtime.inbox.sync_account(tenant, account, backfill=False)
    offer = rows(runtime, account)["Offer"]
    assert offer.snippet_pending
    raw = await runtime.inbox.raw(tenant, offer.id)
    assert b"our offer" in raw
    opened = rows(runtime, account)["Offer"]
    assert (opened.snippet, opened.snippet_pending) == ("Plain part: see the offer below.", False)


async def test_a_possible_bounce_read_whole_gets_its_snippet_from_its_bytes(
    runtime: Runtime, mail_lab: Any, mailbox: str,
) -> None:
    tenant, account = add_account(runtime, mail_lab, mailbox)
    report = make_message("Delivery Status Notification", sender="MAILER-DAEMON@mx.example",
                          body="This is the mail system at host mx.example. Your message could not be delivered.")
    append(mail_lab, mailbox, report)
    append(mail_lab, mailbox, make_message("Order", body="An order."))
    await runtime.inbox.sync_account(tenant, account, backfill=False)
    found = rows(runtime, account)
    dsn = found["Delivery Status Notification"]
    assert (dsn.snippet, dsn.snippet_pending) == (
        "This is the mail system at host mx.example. Your message could not be delivered.", False)
    assert found["Order"].snippet_pending  # the others wait for the backfill


async def test_engine_fills_snippets_before_waiting(runtime: Runtime, mail_lab: Any, mailbox: str) -> None:
    _, account = add_account(runtime, mail_lab, mailbox)
    fill_mailbox(mail_lab, mailbox)
    engine = runtime.make_inbox_engine(worker_id="w-snippets")
    engine.claim_interval = 0.1
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    try:
        await _until(lambda: account in engine.waiting, timeout=15)
        found = rows(runtime, account)
        assert len(found) == 3 and not any(m.snippet_pending for m in found.values())
        assert found["Question"].snippet == "Dear shop, why is invoice 42 so expensive?"
        # Mail that arrives while the engine waits comes with its snippet.
        append(mail_lab, mailbox, make_message("Live", body="Pushed while idling."))
        await _until(lambda: "Live" in rows(runtime, account), timeout=5)
        assert rows(runtime, account)["Live"].snippet == "Pushed while idling."
    finally:
        stop.set()
        await task


def test_fetch_answers_with_and_without_a_preview() -> None:
    header = b"From: Jane <jane@customer.example>\r\nSubject: Hi\r\n\r\n"
    head = b"7 FETCH (UID 7 FLAGS (\\Seen) RFC822.SIZE 10 PREVIEW "
    tail = b" BODY[HEADER.FIELDS (FROM SUBJECT)] {%d}" % len(header)

    def fetched(record: list[Any]) -> Any:
        item = _fetched(parse_fetch(record)[1])
        assert item is not None
        return item

    quoted = fetched([(head + b'"Hello   there,\\"you\\""' + tail, header), b")"])
    assert (quoted.summary.snippet, quoted.snippet_pending) == ('Hello there,"you"', False)
    assert quoted.summary.subject == "Hi" and quoted.uid == 7
    nil = fetched([(head + b"NIL" + tail, header), b")"])
    assert (nil.summary.snippet, nil.snippet_pending) == ("", True)
    literal = fetched([(head + b"{9}", "Grüße\r\n".encode()), (tail, header), b")"])
    assert (literal.summary.snippet, literal.snippet_pending) == ("Grüße", False)
    draft = fetched([(b'7 FETCH (UID 7 SNIPPET (FUZZY "Old style") BODY[HEADER.FIELDS (FROM SUBJECT)] {%d}'
                      % len(header), header), b")"])
    assert (draft.summary.snippet, draft.snippet_pending) == ("Old style", False)
    draft_nil = fetched([(b"7 FETCH (UID 7 SNIPPET (FUZZY NIL) BODY[HEADER.FIELDS (FROM SUBJECT)] {%d}"
                          % len(header), header), b")"])
    assert draft_nil.snippet_pending
    # Neither asked for (a flags refresh): no snippet, and nothing pending either.
    plain = fetched([b"7 FETCH (UID 7 FLAGS ())"])
    assert (plain.summary.snippet, plain.snippet_pending) == ("", False)

