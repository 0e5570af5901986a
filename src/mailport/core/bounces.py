"""Delivery status notifications → failed recipients, status, hard/soft, reason, original message.

Pure: bytes in, a :class:`BounceReport` out. Reads, in this order:

1. **RFC 3464 reports** (``multipart/report; report-type=delivery-status``): per-recipient
   ``Final-Recipient``/``Action``/``Status``/``Diagnostic-Code`` blocks, as Postfix, Sendmail, Exim 4,
   Exchange/Office 365, Gmail and most others send them.
2. **Feedback reports** (ARF, RFC 5965, ``report-type=feedback-report``): a complaint, not a bounce.
3. **Non-standard bounces**: qmail (``Hi. This is the qmail-send program``) and Yahoo's qmail
   derivative, Exim without a DSN (``X-Failed-Recipients`` + "The following address(es) failed"),
   old Sendmail ("permanent fatal errors"), Exchange 2003-style NDRs, old Gmail ("Delivery to the
   following recipient failed permanently"), recognized by the sender (``MAILER-DAEMON``,
   ``postmaster``) and subject.
4. **Auto-replies** (RFC 3834 ``Auto-Submitted``, vacation headers and subjects): never bounces.

"Hard" means the address itself is permanently undeliverable — unknown user or domain, mailbox
moved or disabled, domain accepts no mail (null MX). A full mailbox, a spam or policy block, a
message too large or an expired retry is soft even with a 5xx code: the host product stops
mailing hard-bounced addresses only. A generic status (``5.0.0``) with a specific diagnostic text
is reported as the specific status, so ``550 5.0.0 … User unknown`` becomes ``5.1.1``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from email import message_from_bytes, message_from_string
from email.header import decode_header, make_header
from email.message import Message
from email.policy import compat32
from email.utils import getaddresses
from typing import Any, Literal

__all__ = [
    "BounceKind",
    "BounceReport",
    "BouncedRecipient",
    "classify_status",
    "parse_bounce",
    "reason_for",
]

BounceKind = Literal["bounce", "delay", "delivery_success", "auto_reply", "feedback", "not_a_bounce"]
Category = Literal[
    "unknown_user", "unknown_domain", "mailbox_moved", "mailbox_disabled", "no_mail_accepted",
    "mailbox_full", "message_too_large", "spam_or_policy", "expired", "temporary", "other",
]

# Categories that mean "this address cannot receive mail, stop sending to it".
_HARD: frozenset[str] = frozenset(
    {"unknown_user", "unknown_domain", "mailbox_moved", "mailbox_disabled", "no_mail_accepted"})

_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_SMTP_REPLY = re.compile(r"(?<!\d)([45]\d\d)(?:[ -]|$)")
_ANGLE_ADDR = re.compile(r"<([^<>\s@]+@[^<>\s@]+)>")
_BARE_ADDR = re.compile(r"(?<![\w.+-])([A-Za-z0-9._%+'=-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
_MSGID = re.compile(r"<[^<>\s]+@[^<>\s]+>")
_MAX_TEXT = 256 * 1024  # read at most this much of a body: bounces quote whole messages

def _rule(category: Category, status: str, *alternatives: str) -> tuple[re.Pattern[str], Category, str]:
    return re.compile("|".join(alternatives), re.IGNORECASE), category, status


# Diagnostic text → (category, the specific status it means). First match wins, so the more
# specific entries come first. Sources: Postfix/Exim/Sendmail/qmail replies, Microsoft's NDR
# code list, Gmail and Yahoo reply texts.
_TEXT_RULES: tuple[tuple[re.Pattern[str], Category, str], ...] = (
    # Office 365 directory-based edge blocking: "5.4.1 Recipient address rejected: Access denied.
    # AS(201806281)" is its way of saying the recipient does not exist.
    _rule("unknown_user", "5.1.1",
         r"AS\(201806281\)",
         # A remote server's "550 Unrouteable address" refuses the recipient (Exim's verify);
         # Exim's own "Unrouteable address" without a reply means the domain (below).
         r"\b[45]\d\d[ -](?:[45]\.\d{1,3}\.\d{1,3} )?Unrouteable address"),
    _rule("no_mail_accepted", "5.1.10",
         r"null MX", r"does not accept (?:e-?)?mail", r"accepts no mail"),
    _rule("mailbox_full", "5.2.2",
         r"(?:over|exceeded|exceeds)[ -]?(?:its |the |his |her )?(?:storage )?(?:quota|allocation)",
          r"quota exceeded", r"mailbox (?:is )?full", r"mailbox has exceeded",
          r"insufficient (?:system )?storage", r"out of storage", r"user is over",
          r"inbox is (?:currently )?full", r"full mailbox", r"QuotaExceeded"),
    _rule("message_too_large", "5.3.4",
         r"message (?:size )?(?:is )?too (?:big|large)", r"message size exceeds",
          r"exceeds (?:the )?(?:maximum )?(?:message )?size", r"size limit"),
    _rule("spam_or_policy", "5.7.1",
         r"spam", r"blocked", r"block ?list", r"blacklist", r"black list", r"denylist", r"spamhaus",
          r"barracuda", r"reputation", r"policy", r"not authorized", r"unauthenticated", r"DMARC", r"SPF",
          r"DKIM", r"content rejected", r"rejected for policy",
          r"relay(?:ing)? (?:access )?(?:denied|not permitted)", r"relay not permitted",
          r"access denied, banned"),
    _rule("mailbox_moved", "5.1.6",
         r"mailbox (?:has )?moved", r"address (?:has )?changed", r"user has moved",
          r"no longer (?:valid|available) at"),
    _rule("mailbox_disabled", "5.2.1",
         r"account (?:has been |is )?(?:disabled|deactivated|suspended|inactive|locked|closed|terminated)",
          r"mailbox (?:is )?(?:disabled|inactive|not active|deactivated)",
          r"(?:disabled|inactive) (?:account|mailbox)", r"no longer (?:active|in use)",
          r"not accepting (?:messages|mail)"),
    _rule("unknown_domain", "5.1.2",
         r"host or domain name not found", r"domain (?:name )?not found", r"no such domain", r"unrouteable address",
          r"domain does not exist", r"unrouteable (?:mail )?domain", r"unroutable domain", r"NXDOMAIN",
          r"domain (?:is )?not (?:valid|exist)",
          r"DNS Error: (?:Domain name not found|DNS type .* lookup of .* responded with code NXDOMAIN)",
          r"all relevant MX records point to non-existent hosts", r"no MX (?:or A )?records? for",
          r"domain couldn't be found"),
    _rule("unknown_user", "5.1.1",
         r"user ?unknown", r"unknown user", r"no such user", r"no such (?:mailbox|recipient|account)",
          r"user (?:does not|doesn't) exist",
          r"(?:recipient|address|mailbox|account|user)(?: address)? (?:does not|doesn't|did not) exist",
          r"does not exist", r"doesn't have an? [\w.-]+ account",
          r"unknown (?:local[- ]part|recipient|address|mailbox)",
          r"recipient (?:address )?(?:rejected: )?(?:unknown|not found|invalid)",
          r"invalid (?:recipient|mailbox|address)", r"RecipNotFound", r"RESOLVER\.ADR\.",
          r"address (?:couldn't|could not) be found", r"mailbox (?:not found|unavailable)",
          r"no mailbox here by that name", r"not our customer", r"unknown or illegal alias",
          r"not a valid (?:recipient|mailbox)", r"account that you tried to reach does not exist",
          r"no such person", r"unknown address", r"not listed in", r"undeliverable address",
          r"user not found", r"bad destination mailbox", r"couldn't be found"),
    _rule("expired", "4.4.7",
         r"retry (?:time(?:out)?|period) (?:exceeded|expired)", r"message expired", r"delivery time expired",
          r"too long in (?:the )?queue", r"could not be delivered for \d+ days", r"has been delayed for",
          r"maximum time", r"expired after", r"retry timeout"),
)

_STATUS_CATEGORY: dict[tuple[str, str], Category] = {
    ("1", "1"): "unknown_user", ("1", "2"): "unknown_domain", ("1", "3"): "unknown_user",
    ("1", "6"): "mailbox_moved", ("1", "10"): "no_mail_accepted", ("2", "1"): "mailbox_disabled",
    ("2", "2"): "mailbox_full", ("2", "3"): "message_too_large", ("3", "4"): "message_too_large",
    ("4", "7"): "expired", ("7", "1"): "spam_or_policy",
}

_REASONS: dict[str, str] = {
    "unknown_user": "the mailbox does not exist",
    "unknown_domain": "the domain does not exist",
    "mailbox_moved": "the mailbox has moved",
    "mailbox_disabled": "the mailbox is disabled",
    "no_mail_accepted": "the domain does not accept mail",
    "mailbox_full": "the mailbox is full",
    "message_too_large": "the message is too large",
    "spam_or_policy": "rejected by the receiver's spam or policy filter",
    "expired": "delivery was retried until it expired",
    "temporary": "a temporary failure",
    "other": "the receiving server refused the message",
}

_AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(?:auto(?:matic)?[ -]?(?:reply|response|antwort|risposta|réponse)|out of (?:the )?office|"
    r"abwesenheit|afwezig|absence|absent|assente|fuori sede|vacation|on leave|away from)|"
    r"\b(?:out of office|automatische antwort|réponse automatique|risposta automatica|"
    r"automatisch antwoord|autoreply|auto-reply)\b",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery (?:status notification|failure|has failed|failed)|"
    r"mail delivery (?:failed|failure|subsystem)|returned mail|failure notice|non[- ]?deliver|"
    r"could not be delivered|delivery problem|not delivered|mail system error|rejected:|"
    r"unzustellbar|onbestelbaar|non recapitabile|non remis|échec de la remise|message not delivered",
    re.IGNORECASE,
)
_BOUNCE_SENDER = re.compile(r"^(?:mailer-daemon|postmaster|mail-daemon|mailerdaemon|mdaemon|"
                            r"microsoftexchange[0-9a-f]*|bounce[s]?|double-bounce)@", re.IGNORECASE)


_REPLY_CODE = re.compile(r"\s*(?:smtp\s*;\s*)?([45][0-5][0-9])(?:[\s-]|$)", re.IGNORECASE)


@dataclass(frozen=True, slots=True, kw_only=True)
class BouncedRecipient:
    """One recipient the report is about.

    ``status`` is the RFC 3463 enhanced code (refined from the text when the server sent a generic
    one); ``reason`` a short description of the category; ``diagnostic`` what the server said.
    """

    recipient: str
    status: str | None
    hard: bool
    reason: str
    category: Category
    action: str = "failed"
    diagnostic: str | None = None
    remote_mta: str | None = None

    @property
    def reply_code(self) -> int | None:
        """The SMTP reply code the receiving server gave (``550`` of ``smtp; 550 5.1.1 …``), if the
        diagnostic starts with one."""
        found = _REPLY_CODE.match(self.diagnostic or "")
        return int(found.group(1)) if found else None

    def to_dict(self) -> dict[str, Any]:
        return {"recipient": self.recipient, "status": self.status, "hard": self.hard, "reason": self.reason}


@dataclass(frozen=True, slots=True, kw_only=True)
class BounceReport:
    """What a received message says about earlier deliveries.

    ``is_bounce`` only for failure reports (``kind == "bounce"``); delay warnings, delivery-success
    notices, auto-replies and complaint (ARF) reports are not bounces. ``original_message_id`` is the
    Message-ID of the message that bounced (from the returned message or quoted headers, else the
    report's In-Reply-To); ``addressed_to`` lists the addresses the report was sent to (envelope
    headers first) so a VERP return path can be matched.
    """

    kind: BounceKind
    recipients: tuple[BouncedRecipient, ...] = ()
    original_message_id: str | None = None
    addressed_to: tuple[str, ...] = ()
    references: tuple[str, ...] = field(default=())

    @property
    def is_bounce(self) -> bool:
        return self.kind == "bounce"

    @property
    def hard(self) -> bool:
        return any(r.hard for r in self.recipients)

    def to_json(self) -> dict[str, Any]:
        """The shape of ``mailport bounce-parse --json``."""
        return {
            "is_bounce": self.is_bounce,
            "recipients": [r.to_dict() for r in self.recipients] if self.is_bounce else [],
            "original_message_id": self.original_message_id,
        }


# -- classification of one status + text ---------------------------------------------------

def reason_for(category: Category) -> str:
    """The short description of a bounce category (``BouncedRecipient.reason``)."""
    return _REASONS[category]


def classify_status(status: str | None, text: str | None = None) -> tuple[str | None, Category, bool]:
    """``(status, category, hard)`` for a DSN status and its diagnostic text.

    A specific enhanced code inside the text beats a generic status (``x.0.0``); a known text beats
    a generic status too. Hard only for address-level permanent failures with a 5.x.x status.
    """
    flat = " ".join((text or "").split())
    status = _normal_status(status)
    embedded = [m for m in _STATUS.finditer(flat)]
    if (status is None or _is_generic(status)) and embedded:
        specific = [f"{m.group(1)}.{m.group(2)}.{m.group(3)}" for m in embedded]
        specific = [s for s in specific if not _is_generic(s)] or specific
        if status is None or not _is_generic(specific[0]):
            status = specific[0] if status is None or specific[0][0] == status[0] else status
    text_category, text_status = _by_text(flat)
    if status is None:
        reply = _SMTP_REPLY.search(flat)
        klass = reply.group(1)[0] if reply else None
        if text_category is not None:
            status = f"{klass or text_status[0]}{text_status[1:]}" if text_category != "expired" else text_status
        elif klass is not None:
            status = f"{klass}.0.0"
    elif _is_generic(status) and text_category is not None:
        status = status[0] + text_status[1:] if text_category != "expired" else status
    category = _category(status, text_category)
    permanent = status is not None and status.startswith("5")
    return status, category, bool(permanent and category in _HARD)


def _normal_status(status: str | None) -> str | None:
    if not status:
        return None
    match = _STATUS.search(status)
    return f"{match.group(1)}.{match.group(2)}.{match.group(3)}" if match else None


def _is_generic(status: str) -> bool:
    return status.endswith(".0.0")


def _by_text(flat: str) -> tuple[Category | None, str]:
    for pattern, category, status in _TEXT_RULES:
        if pattern.search(flat):
            return category, status
    return None, ""


def _category(status: str | None, text_category: Category | None) -> Category:
    if status is not None:
        _, subject, detail = status.split(".")
        by_code = _STATUS_CATEGORY.get((subject, detail))
        if by_code is not None:
            # A 5.4.4 "unable to route" is an unknown domain when the text says so, etc.
            if text_category in _HARD and by_code != "mailbox_full":
                # Microsoft sends 5.1.10 (null MX in RFC 7505) for "recipient not found".
                return text_category
            return by_code
        if text_category is not None:
            return text_category
        if subject == "7":
            return "spam_or_policy"
        return "temporary" if status.startswith("4") else "other"
    return text_category or "other"


# -- entry point ---------------------------------------------------------------------------

def parse_bounce(raw: bytes | str) -> BounceReport:
    """Read one received message (RFC 5322 bytes) and say whether and how it reports a bounce."""
    msg = message_from_bytes(raw, policy=compat32) if isinstance(raw, bytes) else \
        message_from_string(raw, policy=compat32)
    addressed = _addressed_to(msg)
    refs = tuple(_MSGID.findall(" ".join(_header(msg, n) for n in ("In-Reply-To", "References"))))
    report_type = (msg.get_param("report-type", header="content-type") or "")
    report_type = str(report_type).lower() if not isinstance(report_type, tuple) else ""
    if msg.get_content_type() == "multipart/report" and report_type == "feedback-report" \
            or _find_part(msg, "message/feedback-report") is not None:
        return BounceReport(kind="feedback", addressed_to=addressed, references=refs,
                            original_message_id=_original_message_id(msg, refs))
    dsn = _find_part(msg, "message/delivery-status")
    if dsn is None and msg.get_content_type() == "multipart/report" and report_type == "delivery-status":
        dsn = _find_part(msg, "text/delivery-status")
    if dsn is not None:
        report = _from_dsn(msg, dsn, addressed, refs)
        if report is not None:
            return report
    if _looks_like_bounce(msg):
        recipients = _from_text(msg)
        if recipients:
            return BounceReport(kind="bounce", recipients=tuple(recipients), addressed_to=addressed,
                                references=refs, original_message_id=_original_message_id(msg, refs))
    if _is_auto_reply(msg):
        return BounceReport(kind="auto_reply", addressed_to=addressed, references=refs,
                            original_message_id=refs[0] if refs else None)
    return BounceReport(kind="not_a_bounce", addressed_to=addressed, references=refs)


# -- RFC 3464 ------------------------------------------------------------------------------

def _from_dsn(msg: Message, part: Message, addressed: tuple[str, ...],
              refs: tuple[str, ...]) -> BounceReport | None:
    blocks = _dsn_blocks(part)
    if len(blocks) < 2:
        return None
    human = _human_text(msg)
    failed: list[BouncedRecipient] = []
    actions: list[str] = []
    for block in blocks[1:]:
        recipient = _dsn_address(block.get("final-recipient")) or _dsn_address(block.get("original-recipient"))
        action = (block.get("action") or "").strip().lower()
        if not recipient or not action:
            continue
        actions.append(action)
        if action != "failed":
            continue
        diagnostic = _diagnostic_text(block.get("diagnostic-code"))
        context = diagnostic or _context_for(human, recipient)
        status, category, hard = classify_status(block.get("status"), context)
        failed.append(BouncedRecipient(
            recipient=recipient, status=status, hard=hard, category=category,
            reason=_REASONS[category], action=action, diagnostic=diagnostic or None,
            remote_mta=_dsn_address(block.get("remote-mta"), allow_host=True),
        ))
    if not actions:
        return None
    original = _original_message_id(msg, refs)
    if failed:
        return BounceReport(kind="bounce", recipients=tuple(failed), addressed_to=addressed,
                            references=refs, original_message_id=original)
    kind: BounceKind = "delay" if "delayed" in actions else "delivery_success"
    return BounceReport(kind=kind, addressed_to=addressed, references=refs, original_message_id=original)


def _dsn_blocks(part: Message) -> list[dict[str, str]]:
    """The per-message block and per-recipient blocks of a delivery-status part, keys lowercased."""
    payload = part.get_payload()
    blocks: list[dict[str, str]] = []
    if isinstance(payload, list) and payload and all(isinstance(p, Message) for p in payload):
        for sub in payload:
            if isinstance(sub, Message):
                blocks.append({k.lower(): _unfold(str(v)) for k, v in sub.items()})
        if any(blocks):
            return [b for b in blocks if b] if len(blocks) > 1 else _split_blocks(_payload_text(part))
    return _split_blocks(_payload_text(part))


def _split_blocks(text: str) -> list[dict[str, str]]:
    blocks: list[dict[str, str]] = []
    for chunk in re.split(r"\r?\n[ \t]*\r?\n", text.strip()):
        block: dict[str, str] = {}
        last: str | None = None
        for line in chunk.splitlines():
            if line[:1] in (" ", "\t") and last:
                block[last] += " " + line.strip()
                continue
            name, sep, value = line.partition(":")
            if sep and re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*", name.strip()):
                last = name.strip().lower()
                block[last] = value.strip()
        if block:
            blocks.append(block)
    return blocks


def _dsn_address(value: str | None, *, allow_host: bool = False) -> str | None:
    """``rfc822; user@example.com`` → ``user@example.com`` (``dns; mx.example`` for Remote-MTA)."""
    if not value:
        return None
    _, sep, rest = value.partition(";")
    address = (rest if sep else value).strip().strip("<>").strip()
    if allow_host:
        return address or None
    return address if "@" in address else None


def _diagnostic_text(value: str | None) -> str:
    if not value:
        return ""
    kind, sep, rest = value.partition(";")
    return " ".join((rest if sep and " " not in kind.strip() else value).split())


# -- non-standard formats -------------------------------------------------------------------

def _looks_like_bounce(msg: Message) -> bool:
    if msg.get("X-Failed-Recipients"):
        return True
    sender = " ".join(a for _, a in getaddresses([_header(msg, "From"), _header(msg, "Return-Path")]))
    subject = _header(msg, "Subject")
    return bool(_BOUNCE_SENDER.search(sender) or any(_BOUNCE_SENDER.match(a) for a in sender.split())) \
        and bool(_BOUNCE_SUBJECT.search(subject) or _human_text(msg)) \
        or bool(_BOUNCE_SUBJECT.search(subject) and _bounce_body_marker(_human_text(msg)))


_BODY_MARKERS = re.compile(
    r"this is the qmail-send program|could not be delivered to one or more|"
    r"following address(?:es)? (?:had permanent fatal errors|failed)|"
    r"delivery to the following recipients? failed|unable to deliver your message|"
    r"your message did not reach some or all|the following recipient\(s\) cannot be reached|"
    r"delivery has failed to these recipients|permanent error|I'm sorry to have to inform you|"
    r"could not be delivered|undeliverable",
    re.IGNORECASE,
)


def _bounce_body_marker(text: str) -> bool:
    return bool(_BODY_MARKERS.search(text))


def _from_text(msg: Message) -> list[BouncedRecipient]:
    """Recipients of a bounce without a delivery-status part, from its human-readable text."""
    text = _human_text(msg)
    # Everything after these markers is the returned message, which must not be mined for addresses.
    cut = _ORIGINAL_FOLLOWS.search(text)
    body = text[: cut.start()] if cut else text
    # Addresses that are never the failed recipient: the report's own addressee and sender, and
    # Message-IDs (``<id@host>`` looks like an address).
    own = {a.lower() for a in _addressed_to(msg)} | {
        a.lower() for _, a in getaddresses([_header(msg, "From"), _header(msg, "Sender")]) if "@" in a}
    msgids = {m.group(0)[1:-1].lower() for m in _MSGID.finditer(text)
              if re.search(r"(?:message-id|references|in-reply-to)\s*:\s*" + re.escape(m.group(0)), text,
                           re.IGNORECASE)}
    found: dict[str, str] = {}

    # qmail and Yahoo: "<user@host>:" on its own line, the reason on the lines after it.
    for match in re.finditer(r"^<([^<>\s]+@[^<>\s]+)>:\s*\n((?:.+\n?)*)", body, re.MULTILINE):
        found.setdefault(match.group(1), match.group(2))
    # Sendmail: "<user@host>" then "(reason: …)"; Exim: indented address then indented reason.
    if not found:
        # The reason is indented deeper than its address (the next address is not part of it).
        for match in re.finditer(r"^([ \t]*)<?([^<>\s()'\"]+@[^<>\s()'\"]+?)>?[ \t]*(?:\(.*\))?\n"
                                 r"((?:\1[ \t]+.+\n?)+)", body, re.MULTILINE):
            found.setdefault(match.group(2), match.group(3))
    # Exchange 2003 style: 'user@host' on <date>, indented reasons following.
    if not found:
        for match in re.finditer(r"^[ \t]*'([^'\s]+@[^'\s]+)'.*\n((?:[ \t]+.+\n?)*)", body, re.MULTILINE):
            found.setdefault(match.group(1), match.group(2))
    failed_header = [a for _, a in getaddresses(msg.get_all("X-Failed-Recipients") or []) if "@" in a]
    for address in failed_header:
        if not any(address.lower() == k.lower() for k in found):
            found[address] = _context_for(body, address)
    if not found:
        # Old Gmail / generic: addresses indented under a "failed permanently" sentence.
        for match in _BARE_ADDR.finditer(body):
            address = match.group(1)
            if address.lower().startswith(("mailer-daemon@", "postmaster@")):
                continue
            found.setdefault(address, _context_for(body, address))
    recipients = []
    for address, context in list(found.items()):
        clean = address.strip("'\"<>.,;:()")
        if clean.lower() in own or clean.lower() in msgids or "@" not in clean:
            del found[address]
            continue
        if clean != address:
            del found[address]
            found.setdefault(clean, context)
    for address, context in found.items():
        diagnostic = " ".join(context.split())
        status, category, hard = classify_status(None, diagnostic)
        if status is None:
            # The reason is not next to the address (old Gmail): read the whole report.
            diagnostic = " ".join(body.split())[:1000]
            status, category, hard = classify_status(None, diagnostic)
        if status is None:
            # No code at all: a permanent-failure sentence still says "5".
            permanent = re.search(r"permanent|fatal|failed permanently|giving up", body, re.IGNORECASE)
            status = ("5" if permanent else "4") + ".0.0"
            status, category, hard = classify_status(status, diagnostic)
        if status is None or status.startswith("2"):
            continue
        recipients.append(BouncedRecipient(
            recipient=address, status=status, hard=hard, category=category, reason=_REASONS[category],
            diagnostic=diagnostic[:1000] or None,
        ))
    return recipients


# Where a plain-text report starts quoting the returned message: nothing below is mined for
# recipients (the original's own From/To would look like failed addresses).
_ORIGINAL_FOLLOWS = re.compile(
    r"^[ \t]*-{2,}\s*(?:Below this line is a copy of the message|Original message|The original message|"
    r"Returned message|Original Message Headers|This is a copy of the message|Transcript of session follows|"
    r"The header of the original message|Die ursprüngliche Nachricht|Original message follows|"
    r"Ursprüngliche Nachricht|Oorspronkelijk bericht|Messaggio originale|Message d'origine)"
    r"|^[ \t]*(?:Below is a copy of the original message|The original message follows|"
    r"Original message headers:|-+\s*Original Message\s*-+)"
    r"|^>[ \t]*(?:From|De|Von|Van|Da):",
    re.IGNORECASE | re.MULTILINE,
)


def _context_for(text: str, address: str) -> str:
    """The lines right after ``address`` in ``text``, up to a blank line (its reason)."""
    index = text.lower().find(address.lower())
    if index < 0:
        return ""
    tail = text[index + len(address):]
    lines: list[str] = []
    for line in tail.splitlines()[:8]:
        if not line.strip() and lines:
            break
        lines.append(line.strip())
    return " ".join(" ".join(lines).split())


# -- auto-replies --------------------------------------------------------------------------

def _is_auto_reply(msg: Message) -> bool:
    auto = _header(msg, "Auto-Submitted").strip().lower()
    if auto and auto != "no":
        return True
    if any(msg.get(h) for h in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress-Reply",
                                "X-Vacation")):
        return True
    if _header(msg, "Precedence").strip().lower() in {"auto_reply", "auto-reply"}:
        return True
    return bool(_AUTO_REPLY_SUBJECT.search(_header(msg, "Subject")))


# -- helpers -------------------------------------------------------------------------------

def _header(msg: Message, name: str) -> str:
    value = msg.get(name)
    if value is None:
        return ""
    try:
        return str(make_header(decode_header(str(value))))
    except (UnicodeError, LookupError, ValueError):
        return str(value)


def _unfold(value: str) -> str:
    return " ".join(value.split())


def _addressed_to(msg: Message) -> tuple[str, ...]:
    seen: list[str] = []
    for name in ("X-Original-To", "Delivered-To", "Envelope-To", "To"):
        for _, address in getaddresses(msg.get_all(name) or []):
            if "@" in address and address.lower() not in [s.lower() for s in seen]:
                seen.append(address)
    return tuple(seen)


def _find_part(msg: Message, content_type: str) -> Message | None:
    for part in msg.walk():
        if part.get_content_type() == content_type:
            return part
    return None


def _payload_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        charset = part.get_content_charset() or "utf-8"
        try:
            return payload[:_MAX_TEXT].decode(charset, "replace")
        except LookupError:
            return payload[:_MAX_TEXT].decode("utf-8", "replace")
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw[:_MAX_TEXT]
    if isinstance(raw, list):
        return "\n\n".join(p.as_string() if isinstance(p, Message) else str(p) for p in raw)[:_MAX_TEXT]
    return ""


def _human_text(msg: Message) -> str:
    """The report's own text: text/plain parts outside any returned message (HTML if none)."""
    plain: list[str] = []
    html: list[str] = []
    for part in _own_parts(msg):
        ctype = part.get_content_type()
        if ctype == "text/plain":
            plain.append(_payload_text(part))
        elif ctype == "text/html":
            html.append(re.sub(r"<[^>]+>", " ", _payload_text(part)))
    return "\n".join(plain or html).replace("\r\n", "\n")


def _own_parts(msg: Message) -> Iterable[Message]:
    if msg.is_multipart():
        for sub in msg.get_payload():
            if not isinstance(sub, Message):
                continue
            if sub.get_content_type() in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers",
                                          "message/delivery-status", "message/feedback-report"):
                continue
            yield from _own_parts(sub)
    else:
        yield msg


def _original_message_id(msg: Message, refs: tuple[str, ...]) -> str | None:
    """The Message-ID of the returned message: attached message or headers, else quoted text."""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            inner = part.get_payload()
            candidates = inner if isinstance(inner, list) else [inner]
            for inner_msg in candidates:
                if isinstance(inner_msg, Message) and inner_msg.get("Message-ID"):
                    match = _MSGID.search(str(inner_msg.get("Message-ID")))
                    if match:
                        return match.group(0)
        elif ctype in ("text/rfc822-headers", "message/rfc822-headers"):
            found = _quoted_message_id(_payload_text(part))
            if found:
                return found
    # Non-standard bounces quote the original below the text; only a header line counts.
    found = _quoted_message_id(_full_text(msg))
    if found:
        return found
    return refs[0] if refs else None


def _quoted_message_id(text: str) -> str | None:
    match = re.search(r"^[ \t>]*Message-ID:[ \t]*\r?\n?[ \t]*(<[^<>\s]+@[^<>\s]+>)", text,
                      re.IGNORECASE | re.MULTILINE)
    return match.group(1) if match else None


def _full_text(msg: Message) -> str:
    texts = []
    for part in msg.walk():
        if part.is_multipart() or part.get_content_type() == "message/rfc822":
            continue
        if part.get_content_maintype() in ("text", "message"):
            texts.append(_payload_text(part))
    return "\n".join(texts)
