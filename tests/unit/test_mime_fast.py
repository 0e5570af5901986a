"""The direct MIME writer (``core/mime_fast.py``) writes exactly the stdlib's bytes.

Thousands of drafts from a seeded generator — plain ones and every kind of value that needs the
stdlib's care (RFC 2047 names and subjects, folding, RFC 2231 file names, quoting, encoded-word
look-alikes, IDN domains, odd newlines, long lines) — are rendered both ways; wherever the fast
path answers, its bytes must equal the stdlib's, and the common invoice must take it.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from mailport.core import mime_fast
from mailport.core.message import (
    Attachment,
    Mailbox,
    MessageDraft,
    _normalize_newlines,
    _render_stdlib,
    _text_cte,
    build_message,
)
from mailport.errors import MailportError

NAMES = ["", "Jan", "Bakkerij Jansen", "Jansen B.V.", "Doe, Jan", 'Jan "de Bakker"', "O'Brien & Zn",
         "Müller GmbH", "Ærø Café", "中文 名字", "Back\\slash", "(comment) Name", "a" * 70,
         "Jan  de  Vries", "=?utf-8?q?Jan?=", "Name: Colon", "Dr. med. Anna-Lena Schäfer-Wöhrle",
         "x" * 30 + " " + "y" * 30, "Ufficio Amministrazione", "Société Générale"]
LOCALS = ["klant", "a+b", "o'brien", "first.last", "info", "x" * 40, "user_name", "a-b"]
DOMAINS = ["example.org", "example.nl", "bücher.example", "sub.domain.example.com",
           "b" * 40 + ".example"]
SUBJECTS = ["Factuur 2026-001", "", "Rechnung für März", "Fattura n° 12", "Facture n°12 – décembre",
            "  leading and trailing  ", "double  space", "=?utf-8?q?hello?=", "a" * 70,
            "word " * 30, "Re: [Ticket #123] Your invoice", "Tab\there", "日本語の件名",
            "Subject: with colon", "x" * 200]
TEXTS = [None, "", "Beste klant,\n\nIn de bijlage vindt u de factuur.\n", "line\r\nwith crlf\r\n",
         "lone\rcr", "Sehr geehrte Damen und Herren,\nanbei die Rechnung für März.\n",
         "Привет, это счёт.\n" * 5, "a" * 1200, "ends without newline", "\n\n\n", ".\n.dot\n",
         "From the start\n>quoted\n", "mixed € and ascii " * 40, "tab\there\n"]
HTMLS = [None, "<p>Beste klant</p>", "<p>Für Sie</p>\n", "<html><body>" + "x" * 2000 + "</body></html>"]
FILENAMES = ["factuur.pdf", "Factuur 2026-001.pdf", "Rechnung_März.pdf", 'quote".pdf',
             "a" * 80 + ".pdf", "(copy) invoice, final.pdf", "x.y.z.pdf", "fattura n. 12.pdf", "報告.pdf"]
TYPES = ["", "application/pdf", "text/csv", "image/png", "application/vnd.ms-excel"]
HEADERS = [{}, {"X-Invoice-Id": "2026-001"}, {"X-Long": "v " * 60},
           {"In-Reply-To": "<abc@example.org>"},
           {"References": "<a@example.org> <b@example.org>"},
           {"List-Unsubscribe": "<mailto:unsub@example.org>"}, {"X-Unicode": "Grüße"},
           {"X-Empty-Ish": "-"}, {"X-Encoded": "=?utf-8?q?x?="}]


def _mailbox(rng: random.Random) -> Mailbox:
    return Mailbox.parse(f"{rng.choice(LOCALS)}@{rng.choice(DOMAINS)}", name=rng.choice(NAMES))


def _draft(rng: random.Random) -> MessageDraft | None:
    text, html = rng.choice(TEXTS), rng.choice(HTMLS)
    if text is None and html is None:
        text = "body"
    attachments = [Attachment(filename=rng.choice(FILENAMES), content_type=rng.choice(TYPES),
                              content=rng.randbytes(rng.choice([0, 1, 56, 57, 58, 1000, 20_000])))
                   for _ in range(rng.choice([0, 0, 1, 1, 2, 3]))]
    try:
        return MessageDraft.create(
            from_=_mailbox(rng), to=[_mailbox(rng) for _ in range(rng.choice([1, 1, 2, 5]))],
            cc=[_mailbox(rng) for _ in range(rng.choice([0, 0, 1, 3]))],
            bcc=[_mailbox(rng) for _ in range(rng.choice([0, 1]))],
            reply_to=[_mailbox(rng) for _ in range(rng.choice([0, 1]))],
            subject=rng.choice(SUBJECTS), text=text, html=html, attachments=attachments,
            headers=rng.choice(HEADERS),
        )
    except MailportError:
        return None  # a combination the validation refuses (e.g. a tab in a subject)


def _both(draft: MessageDraft, rng: random.Random) -> tuple[bytes | None, bytes]:
    message_id = f"<{rng.getrandbits(64):x}@example.test>"
    now = datetime(2026, 12, 6, tzinfo=timezone(timedelta(hours=rng.choice([0, 1, -5])))) + timedelta(
        seconds=rng.randrange(10**8))
    cte = {sub: _text_cte(_normalize_newlines(t), allow_8bit=draft.needs_smtputf8)
           for sub, t in (("plain", draft.text), ("html", draft.html)) if t is not None}
    from email.utils import format_datetime

    fast = mime_fast.render(draft, message_id=message_id, date=format_datetime(now), text_cte=cte)
    slow = _render_stdlib(draft, message_id=message_id, now=now, utf8=draft.needs_smtputf8)
    return fast, slow


@pytest.mark.parametrize("seed", range(6))
def test_fast_bytes_equal_the_stdlib_bytes(seed: int) -> None:
    rng = random.Random(seed)
    compared = 0
    for _ in range(500):
        draft = _draft(rng)
        if draft is None:
            continue
        fast, slow = _both(draft, rng)
        if fast is not None:
            compared += 1
            assert fast == slow, (draft, fast[:2000], slow[:2000])
    # The generator is mostly awkward values; still a good share must take the fast path.
    assert compared >= 100


@pytest.mark.parametrize("subject,text,name,filename", [
    ("Factuur 2026-001", "Beste klant,\n\nIn de bijlage vindt u de factuur.\n", "Bakkerij Jansen",
     "factuur-2026-001.pdf"),
    ("Rechnung 2026-001", "Sehr geehrte Damen und Herren,\nanbei die Rechnung für März.\n", "Müller GmbH",
     "Rechnung 2026-001.pdf"),
    ("Fattura n° 12", "Gentile cliente,\nin allegato la fattura.\n", "Ufficio Rossi", "fattura-12.pdf"),
    ("Facture n°12 – décembre", "Madame, Monsieur,\nveuillez trouver ci-joint la facture.\n", "Société Générale",
     "facture_12.pdf"),
    ("Invoice 12", "Dear customer,\nplease find the invoice attached.\n", "Acme Ltd", "invoice (12).pdf"),
])
def test_the_invoices_of_the_seed_languages_take_the_fast_path(subject: str, text: str, name: str,
                                                                 filename: str) -> None:
    """Non-ASCII subjects and names go through the stdlib header by header, not the whole
    message: the invoice still takes the fast path and stays byte-identical."""
    draft = MessageDraft.create(
        from_=Mailbox.parse("info@bakkerij.example", name=name), to=["klant@example.org"],
        subject=subject, text=text, html=f"<p>{text}</p>",
        attachments=[Attachment(filename=filename, content=b"%PDF-1.4\n" + bytes(range(256)) * 60,
                                content_type="application/pdf")])
    fast, slow = _both(draft, random.Random(1))
    assert fast is not None
    assert fast == slow


def test_build_message_uses_the_fast_path_and_falls_back_for_smtputf8() -> None:
    now = datetime(2026, 12, 6, tzinfo=UTC)
    ascii_draft = MessageDraft.create(from_=Mailbox.parse("a@example.org"), to=["b@example.org"],
                                      subject="Hi", text="x")
    utf8_draft = MessageDraft.create(from_=Mailbox.parse("a@example.org"), to=["jörg@example.org"],
                                     subject="Hi", text="x")
    assert utf8_draft.needs_smtputf8
    cte = {"plain": "7bit"}
    assert mime_fast.render(utf8_draft, message_id="<t@example.org>", date="x", text_cte=cte) is None
    for draft in (ascii_draft, utf8_draft):
        built = build_message(draft, message_id_domain="example.org", now=now, make_id=lambda: "t")
        assert built.raw == _render_stdlib(draft, message_id="<t@example.org>", now=now,
                                           utf8=draft.needs_smtputf8)


def test_the_sent_copy_bcc_line_equals_the_stdlib_line() -> None:
    from email import policy as email_policy
    from email.message import EmailMessage

    rng = random.Random(7)
    for _ in range(300):
        boxes = [_mailbox(rng) for _ in range(rng.choice([1, 2, 6]))]
        if any(b.address.smtputf8 for b in boxes):
            continue
        header = EmailMessage(policy=email_policy.SMTP)
        header["Bcc"] = [b.header_address() for b in boxes]
        line = header.as_bytes(policy=email_policy.SMTP.clone(linesep="\r\n")).split(b"\r\n\r\n", 1)[0]
        assert mime_fast.address_header("Bcc", boxes) == line + b"\r\n"
