"""Build the bounce corpus: ``samples/*.eml`` and the labelled ``truth.json``.

Each sample is one report as a mail system writes it — the sending side's report format (Postfix's
``bounce`` templates, Exim's ``exim_bounce`` text, Sendmail's DSN, qmail-send, Courier, OpenSMTPD,
Exchange/Microsoft 365 NDRs in five languages, Gmail, Yahoo, GMX, mail.ru, Yandex, SES, Domino,
MDaemon, the Japanese carriers, …) around one receiving server's reply (Postfix, Exchange Online,
Gmail, Exim, Dovecot LMTP, …). Formats and reply texts are written from the systems' documentation,
source templates and widely quoted examples; names and addresses are fictitious (RFC 2606/5737).
Alongside: RFC 3834 auto-replies and out-of-office notes in en/nl/de/it/fr, ARF feedback reports,
delay and success notices and ordinary replies — none of them bounces.

The truth is written from what each reply *means*, not from what the parser says: the RFC 3463
status the report gives (a generic ``x.0.0`` replaced by the specific one the text states; a report
without any code gets the status of its reason), and ``hard`` only when the address itself is
permanently undeliverable (``docs/bounces.md``). Every fifth sample, by a hash of its name, is the
held-out split: never looked at while tuning the parser.

Real reports from the lab's Postfix (``lab/``: captured from the test lab, truth by hand in
``lab/truth.json``) are copied in as they are.

Run ``.venv/bin/python tests/corpus/bounces/build.py`` to rewrite the corpus (deterministic).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from email.header import Header
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLES = HERE / "samples"
SENDER = "billing@shop.example"


@dataclass(frozen=True)
class Reply:
    """One receiving server's answer: the SMTP line, what it means, and hard/soft."""

    key: str
    line: str  # the server's reply, possibly several lines joined by "\n"
    status: str  # the RFC 3463 status it means (specific)
    hard: bool
    dsn_status: str | None = None  # what a sending MTA puts in Status: (defaults to status)

    def code(self) -> str:
        return self.line[:3]


# --- receiving servers' replies -----------------------------------------------------------------
R = Reply
REPLIES: list[Reply] = [
    # unknown user
    R("pf_unknown", "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table",
      "5.1.1", True),
    R("pf_local", "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in local recipient table",
      "5.1.1", True),
    R("exo_notfound", "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient {rcpt} not found by SMTP address lookup",
      "5.1.10", True),
    R("exo_recipnotfound", "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found", "5.1.1", True),
    R("gmail_nouser", "550-5.1.1 The email account that you tried to reach does not exist. Please try\n"
      "550-5.1.1 double-checking the recipient's email address for typos or\n"
      "550-5.1.1 unnecessary spaces. For more information, go to\n"
      "550 5.1.1  https://support.google.com/mail/?p=NoSuchUser a1si123 - gsmtp", "5.1.1", True),
    R("exim_unrouteable", "550 Unrouteable address", "5.1.1", True, "5.0.0"),
    R("exim_nosuch", "550 No Such User Here", "5.1.1", True, "5.0.0"),
    R("dovecot_lmtp", "550 5.1.1 <{rcpt}> User doesn't exist: {rcpt}", "5.1.1", True),
    R("yahoo_nouser", "554 delivery error: dd This user doesn't have a yahoo.com account ({rcpt}) [0] - "
      "mta1042.mail.ir2.yahoo.com", "5.1.1", True, "5.0.0"),
    R("icloud_nouser", "550 5.1.1 <{rcpt}>: user does not exist", "5.1.1", True),
    R("generic_unknown", "550 5.0.0 <{rcpt}>... User unknown", "5.1.1", True, "5.0.0"),
    R("invalid_mailbox", "550 Message was not accepted -- invalid mailbox. Local mailbox {rcpt} is "
      "unavailable: user not found", "5.1.1", True, "5.0.0"),
    R("no_mailbox", "550 5.1.1 Mailbox does not exist", "5.1.1", True),
    R("ms_access_denied", "550 5.4.1 Recipient address rejected: Access denied. AS(201806281) "
      "[AM0PR01MB1234.eurprd01.prod.exchangelabs.com]", "5.4.1", True),
    R("zoho_invalid", "550 5.1.1 Invalid Address", "5.1.1", True),
    R("gmx_unknown", "550 Requested action not taken: mailbox unavailable: Mailbox <{rcpt}> does not exist",
      "5.1.1", True, "5.0.0"),
    R("orange_unknown", "550 5.1.1 <{rcpt}>: Adresse d au moins un destinataire invalide. "
      "Invalid recipient. OFR_416 [416]", "5.1.1", True),
    # unknown domain, no mail accepted
    R("null_mx", "556 5.1.10 Recipient address has null MX", "5.1.10", True),
    R("no_mail_domain", "550 5.1.10 The domain {domain} does not accept mail (null MX)", "5.1.10", True),
    # disabled / moved
    R("disabled", "550 5.2.1 <{rcpt}>: Recipient address rejected: account disabled", "5.2.1", True),
    R("gmail_disabled", "550-5.2.1 The email account that you tried to reach is disabled. Learn more at\n"
      "550 5.2.1  https://support.google.com/mail/?p=DisabledUser x7si98 - gsmtp", "5.2.1", True),
    R("yahoo_inactive", "554 delivery error: dd Not a valid recipient - atlas110.free.mail.bf1.yahoo.com",
      "5.1.1", True, "5.0.0"),
    R("moved", "551 5.1.6 User has moved; please try <anna@new.example>", "5.1.6", True),
    # mailbox full
    R("pf_quota", "552 5.2.2 <{rcpt}>: Recipient address rejected: Mailbox over quota", "5.2.2", False),
    R("gmail_full", "452-4.2.2 The recipient's inbox is out of storage space. Please direct the\n"
      "452 4.2.2 recipient to https://support.google.com/mail/?p=OverQuotaTemp z2si1 - gsmtp", "4.2.2", False),
    R("exo_quota", "554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException."
      "MapiExceptionShutoffQuotaExceeded", "5.2.2", False),
    R("dovecot_quota", "552 5.2.2 <{rcpt}> Quota exceeded (mailbox for user is full)", "5.2.2", False),
    R("exim_quota", "552 Mailbox quota exceeded", "5.2.2", False, "5.0.0"),
    R("yahoo_full", "552 1 Requested mail action aborted, mailbox full", "5.2.2", False, "5.0.0"),
    # policy / spam
    R("spamhaus", "554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using zen.spamhaus.org",
      "5.7.1", False),
    R("gmail_spam", "550-5.7.1 [198.51.100.7] Our system has detected that this message is likely\n"
      "550-5.7.1 unsolicited mail. To reduce the amount of spam sent to Gmail, this message\n"
      "550 5.7.1 has been blocked. https://support.google.com/mail/?p=UnsolicitedMessageError q3si - gsmtp",
      "5.7.1", False),
    R("gmail_dmarc", "550-5.7.26 Unauthenticated email from shop.example is not accepted due to domain's\n"
      "550 5.7.26 DMARC policy. https://support.google.com/mail/answer/2451690 b1si - gsmtp", "5.7.26", False),
    R("exo_spam", "550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP.",
      "5.7.708", False),
    R("exo_blocked", "550 5.7.1 Unfortunately, messages from [198.51.100.7] weren't sent. Please contact "
      "your Internet service provider since part of their network is on our block list (S3150).",
      "5.7.1", False),
    R("yahoo_policy", "554 5.7.9 Message not accepted for policy reasons. See https://senders.yahooinc.com/error-codes",
      "5.7.9", False),
    R("relay_denied", "554 5.7.1 <{rcpt}>: Relay access denied", "5.7.1", False),
    R("content", "550 5.7.1 Message rejected as spam by Content Filtering.", "5.7.1", False),
    R("spf_fail", "550 5.7.23 The message was rejected because of Sender Policy Framework violation",
      "5.7.23", False),
    R("mailru_spam", "550 spam message rejected. Please visit http://help.mail.ru/notspam-support/id?c=x",
      "5.7.1", False, "5.0.0"),
    R("gmx_policy", "554-gmx.net (mxgmx117) Nemesis ESMTP Service not available\n554 Reject due to policy "
      "restrictions.", "5.7.1", False, "5.0.0"),
    R("sender_denied", "550 5.7.1 Sender address rejected: Access denied", "5.7.1", False),
    # size
    R("too_big", "552 5.3.4 Message size exceeds fixed maximum message size", "5.3.4", False),
    R("gmail_size", "552-5.2.3 Your message exceeded Google's message size limits. Please visit\n"
      "552 5.2.3  https://support.google.com/mail/?p=MaxSizeError h5si - gsmtp", "5.2.3", False),
    R("exo_size", "552 5.3.4 Message size exceeds fixed maximum message size", "5.3.4", False),
    # temporary at the end of the retry period
    R("greylist", "450 4.2.0 <{rcpt}>: Recipient address rejected: Greylisted, see "
      "http://postgrey.schweikert.ch/help/{domain}.html", "4.2.0", False),
    R("ratelimit", "421 4.7.0 [198.51.100.7] Our system has detected an unusual rate of unsolicited mail",
      "4.7.0", False),
    R("tempfail", "451 4.3.0 Temporary lookup failure", "4.3.0", False),
]
BY_KEY = {r.key: r for r in REPLIES}
UNKNOWN = [r for r in REPLIES if r.hard and r.status in ("5.1.1", "5.1.10", "5.4.1")]
PERMANENT = [r for r in REPLIES if r.line[0] == "5"]
TEMPORARY = [r for r in REPLIES if r.line[0] == "4"]

# Local failures of the sending MTA itself (no remote reply): (key, postfix text, status, hard).
LOCAL = {
    "nodomain": ("Host or domain name not found. Name service error for name={domain} type=A: Host not found",
                 "5.1.2", True),
    "expired": ("delivery temporarily suspended: connect to mx.{domain}[192.0.2.44]:25: Connection timed out",
                "4.4.1", False),
}


# --- helpers ------------------------------------------------------------------------------------

def split_of(name: str) -> str:
    return "holdout" if int(hashlib.sha256(name.encode()).hexdigest(), 16) % 5 == 0 else "train"


def msgid(n: int) -> str:
    return f"<inv-2026-{n:04d}.{n * 7919 % 100000:05d}@shop.example>"


def original(rcpt: str, n: int, *, subject: str = "Invoice") -> str:
    return (f"Return-Path: <{SENDER}>\nFrom: Shop Billing <{SENDER}>\nTo: {rcpt}\n"
            f"Subject: {subject} 2026-{n:04d}\nMessage-ID: {msgid(n)}\n"
            "Date: Mon, 23 Nov 2026 10:15:00 +0100\nMIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=utf-8\n")


def fill(reply: Reply, rcpt: str) -> str:
    return reply.line.replace("{rcpt}", rcpt).replace("{domain}", rcpt.split("@")[1])


def wrap(text: str, indent: str = "    ") -> str:
    return text.replace("\n", "\n" + indent)


def head(frm: str, subject: str, ctype: str, extra: str = "") -> str:
    encoded = subject if subject.isascii() else Header(subject, "utf-8").encode()
    return (f"Return-Path: <>\nDate: Mon, 23 Nov 2026 10:15:02 +0100\nFrom: {frm}\nTo: {SENDER}\n"
            f"Subject: {encoded}\nMIME-Version: 1.0\n{extra}Content-Type: {ctype}\n")


def report(frm: str, subject: str, human: str, dsn: str, returned: str, *, extra: str = "",
           returned_type: str = "text/rfc822-headers", human_type: str = "text/plain; charset=utf-8",
           html: str | None = None) -> str:
    b = "=_report_boundary_" + hashlib.md5((human + dsn).encode()).hexdigest()[:10]
    parts = []
    if html is not None:
        # Exchange: the human part is multipart/alternative (plain + HTML).
        a = b + "_alt"
        parts.append(f"Content-Type: multipart/alternative; boundary=\"{a}\"\n\n--{a}\n"
                     f"Content-Type: {human_type}\nContent-Transfer-Encoding: 8bit\n\n{human}\n--{a}\n"
                     f"Content-Type: text/html; charset=utf-8\n\n{html}\n--{a}--\n")
    else:
        parts.append(f"Content-Type: {human_type}\nContent-Transfer-Encoding: 8bit\n\n{human}\n")
    parts.append(f"Content-Type: message/delivery-status\n\n{dsn}\n")
    parts.append(f"Content-Type: {returned_type}\n\n{returned}\n")
    body = "".join(f"--{b}\n{p}" for p in parts) + f"--{b}--\n"
    return head(frm, subject, f"multipart/report; report-type=delivery-status;\n\tboundary=\"{b}\"",
                extra) + "\nThis is a MIME-encapsulated message.\n\n" + body


def dsn_block(mta: str, rows: list[tuple[str, str, str, str | None]], *, remote: str | None = None,
              diag_type: str = "smtp") -> str:
    """rows: (recipient, action, status, diagnostic)."""
    out = [f"Reporting-MTA: dns; {mta}\nArrival-Date: Mon, 23 Nov 2026 10:15:01 +0100\n"]
    for rcpt, action, status, diag in rows:
        block = (f"Final-Recipient: rfc822; {rcpt}\nOriginal-Recipient: rfc822;{rcpt}\n"
                 f"Action: {action}\nStatus: {status}\n")
        if remote:
            block += f"Remote-MTA: dns; {remote}\n"
        if diag:
            block += f"Diagnostic-Code: {diag_type}; {wrap(diag.replace(chr(10), ' '), '    ')}\n"
        out.append(block)
    return "\n".join(out)


def plain(frm: str, subject: str, body: str, *, extra: str = "", charset: str = "utf-8") -> str:
    return head(frm, subject, f"text/plain; charset={charset}",
                extra + "Content-Transfer-Encoding: 8bit\n") + "\n" + body


# --- the sending systems' report formats ---------------------------------------------------------
# Each takes (recipient(s) with their replies, sample number) and returns the .eml text.

Failures = list[tuple[str, Reply]]


def postfix(f: Failures, n: int, host: str = "mail.shop.example", system: str = "Postfix") -> str:
    lines = "\n\n".join(
        f"<{r}>: host mx.{r.split('@')[1]}[192.0.2.25] said: {wrap(fill(p, r))} (in reply to RCPT TO command)"
        for r, p in f)
    human = (f"This is the mail system at host {host}.\n\nI'm sorry to have to inform you that your message "
             "could not\nbe delivered to one or more recipients. It's attached below.\n\nFor further "
             "assistance, please send mail to postmaster.\n\nIf you do so, please include this problem "
             "report. You can\ndelete your own text from the attached returned message.\n\n"
             f"                   The mail system\n\n{lines}\n")
    dsn = dsn_block(host, [(r, "failed", p.dsn_status or p.status, fill(p, r)) for r, p in f],
                    remote=f"mx.{f[0][0].split('@')[1]}")
    return report(f"MAILER-DAEMON@{host} (Mail Delivery System)", "Undelivered Mail Returned to Sender",
                  human, dsn, original(f[0][0], n), extra="Auto-Submitted: auto-replied\n")


def postfix_local(kind: str, rcpt: str, n: int) -> tuple[str, str, bool]:
    text, status, hard = LOCAL[kind]
    text = text.replace("{domain}", rcpt.split("@")[1])
    human = ("This is the mail system at host mail.shop.example.\n\nI'm sorry to have to inform you that your "
             "message could not\nbe delivered to one or more recipients. It's attached below.\n\n"
             f"                   The mail system\n\n<{rcpt}>: {text}\n")
    dsn = dsn_block("mail.shop.example", [(rcpt, "failed", status, None)]).replace(
        "Status:", f"Diagnostic-Code: X-Postfix; {text}\nStatus:")
    eml = report("MAILER-DAEMON@mail.shop.example (Mail Delivery System)", "Undelivered Mail Returned to Sender",
                 human, dsn, original(rcpt, n))
    return eml, status, hard


def exim_plain(f: Failures, n: int, host: str = "mx.exim.example", subject: str = "Mail delivery failed: "
               "returning message to sender") -> str:
    items = "\n".join(f"  {r}\n    host mx.{r.split('@')[1]} [192.0.2.30]\n    SMTP error from remote mail "
                      f"server after RCPT TO:<{r}>:\n    {wrap(fill(p, r))}" for r, p in f)
    body = ("This message was created automatically by mail delivery software.\n\nA message that you sent "
            "could not be delivered to one or more of its\nrecipients. This is a permanent error. The following "
            f"address(es) failed:\n\n{items}\n\n------ This is a copy of the message, including all the "
            f"headers. ------\n\n{original(f[0][0], n)}\nPlease find the invoice attached.\n")
    return plain(f"Mail Delivery System <Mailer-Daemon@{host}>", subject, body,
                 extra=f"X-Failed-Recipients: {', '.join(r for r, _ in f)}\nAuto-Submitted: auto-replied\n")


def exim_dsn(f: Failures, n: int) -> str:
    items = "\n".join(f"  {r}\n    host mx.{r.split('@')[1]} [192.0.2.30]\n    SMTP error from remote mail "
                      f"server after RCPT TO:<{r}>:\n    {wrap(fill(p, r))}" for r, p in f)
    human = ("This message was created automatically by mail delivery software.\n\nA message that you sent "
             "could not be delivered to one or more of its\nrecipients. This is a permanent error. The following "
             f"address(es) failed:\n\n{items}\n")
    dsn = dsn_block("mx.exim.example", [(r, "failed", p.dsn_status or p.status, fill(p, r)) for r, p in f],
                    remote=f"mx.{f[0][0].split('@')[1]}")
    return report("Mail Delivery System <Mailer-Daemon@mx.exim.example>",
                  "Mail delivery failed: returning message to sender", human, dsn, original(f[0][0], n),
                  extra=f"X-Failed-Recipients: {', '.join(r for r, _ in f)}\nAuto-Submitted: auto-replied\n")


def sendmail(f: Failures, n: int, host: str = "smtp.sendmail.example") -> str:
    addrs = "\n".join(f"<{r}>\n    (reason: {fill(p, r).splitlines()[-1]})" for r, p in f)
    transcript = "\n".join(f">>> RCPT To:<{r}>\n<<< {wrap(fill(p, r), '<<< ')}\n{fill(p, r).splitlines()[-1]}"
                           for r, p in f)
    human = (f"The original message was received at Mon, 23 Nov 2026 10:15:01 +0100\nfrom app.shop.example "
             f"[192.0.2.10]\n\n   ----- The following addresses had permanent fatal errors -----\n{addrs}\n\n"
             f"   ----- Transcript of session follows -----\n... while talking to mx.{f[0][0].split('@')[1]}.:\n"
             f"{transcript}\n")
    dsn = dsn_block(host, [(r, "failed", p.dsn_status or p.status, fill(p, r)) for r, p in f],
                    remote=f"mx.{f[0][0].split('@')[1]}")
    return report(f"Mail Delivery Subsystem <MAILER-DAEMON@{host}>", "Returned mail: see transcript for details",
                  human, dsn, original(f[0][0], n), returned_type="message/rfc822")


def sendmail_plain(f: Failures, n: int) -> str:
    addrs = "\n".join(f"<{r}>\n    (reason: {fill(p, r).splitlines()[-1]})" for r, p in f)
    body = ("The original message was received at Mon, 23 Nov 2026 10:15:01 +0100\nfrom app.shop.example\n\n"
            f"   ----- The following addresses had permanent fatal errors -----\n{addrs}\n\n"
            f"   ----- Original message follows -----\n\n{original(f[0][0], n)}\n")
    return plain("Mail Delivery Subsystem <MAILER-DAEMON@old.sendmail.example>", "Returned mail: User unknown"
                 if f[0][1].hard else "Returned mail: Service unavailable", body)


def qmail(f: Failures, n: int, host: str = "relay.qmailhost.example") -> str:
    items = "\n\n".join(f"<{r}>:\n192.0.2.40 does not like recipient.\nRemote host said: "
                        f"{fill(p, r).replace(chr(10), ' ')}\nGiving up on 192.0.2.40." for r, p in f)
    body = (f"Hi. This is the qmail-send program at {host}.\nI'm afraid I wasn't able to deliver your message to "
            "the following addresses.\nThis is a permanent error; I've given up. Sorry it didn't work out.\n\n"
            f"{items}\n\n--- Below this line is a copy of the message.\n\n{original(f[0][0], n)}\nInvoice.\n")
    return plain(f"MAILER-DAEMON@{host}", "failure notice", body)


def qmail_local(rcpt: str, n: int, full: bool) -> tuple[str, str, bool]:
    reason = ("The users mailfolder is over the allowed quota (size). (#5.2.2)" if full
              else "Sorry, no mailbox here by that name. (#5.1.1)")
    body = ("Hi. This is the qmail-send program at mail.qmailhost.example.\nI'm afraid I wasn't able to deliver "
            "your message to the following addresses.\nThis is a permanent error; I've given up. Sorry it didn't "
            f"work out.\n\n<{rcpt}>:\n{reason}\n\n--- Below this line is a copy of the message.\n\n"
            f"{original(rcpt, n)}\nInvoice.\n")
    return plain("MAILER-DAEMON@mail.qmailhost.example", "failure notice", body), \
        ("5.2.2" if full else "5.1.1"), not full


def courier(f: Failures, n: int) -> str:
    items = "\n\n".join(f"<{r}>:\n    mx.{r.split('@')[1]} [192.0.2.50]:\n>>> RCPT TO:<{r}>\n<<< "
                        f"{wrap(fill(p, r), '<<< ')}" for r, p in f)
    human = ("This is a delivery status notification from mail.courier.example,\nrunning the Courier mail server, "
             "version 1.1.8.\n\nThe original message was received on Mon, 23 Nov 2026 10:15:01 +0100\nfrom "
             "app.shop.example [192.0.2.10]\n\n" + "-" * 75 + "\n\n                           UNDELIVERABLE "
             f"MAIL\n\nYour message to the following recipients cannot be delivered:\n\n{items}\n\n" + "-" * 75
             + "\n\nIf your message was also sent to additional recipients, their delivery\nstatus is not "
             "included in this report.\n")
    dsn = dsn_block("mail.courier.example", [(r, "failed", p.dsn_status or p.status, fill(p, r)) for r, p in f],
                    remote=f"mx.{f[0][0].split('@')[1]}")
    return report("Courier mail server at mail.courier.example <@>", "NOTICE: mail delivery status.", human, dsn,
                  original(f[0][0], n), extra="Auto-Submitted: auto-replied\n")


def opensmtpd(f: Failures, n: int) -> str:
    items = "\n".join(f"{r}: {fill(p, r).replace(chr(10), ' ')}" for r, p in f)
    body = ("Hi!\n\nThis is the MAILER-DAEMON, please DO NOT REPLY to this email.\n\nAn error has occurred while "
            "attempting to deliver a message for\nthe following list of recipients:\n\n"
            f"{items}\n\nBelow is a copy of the original message:\n\n{original(f[0][0], n)}\nInvoice.\n")
    return plain("Mailer Daemon <MAILER-DAEMON@smtpd.openbsd.example>", "Delivery status notification: error",
                 body)


def opensmtpd_dsn(f: Failures, n: int) -> str:
    items = "\n".join(f"{r}: {fill(p, r).replace(chr(10), ' ')}" for r, p in f)
    human = ("Hi!\n\nThis is the MAILER-DAEMON, please DO NOT REPLY to this email.\n\nAn error has occurred while "
             f"attempting to deliver a message for\nthe following list of recipients:\n\n{items}\n")
    dsn = dsn_block("smtpd.openbsd.example", [(r, "failed", p.dsn_status or p.status, fill(p, r)) for r, p in f])
    return report("Mailer Daemon <MAILER-DAEMON@smtpd.openbsd.example>", "Delivery status notification: error",
                  human, dsn, original(f[0][0], n))


EXCHANGE_LANG = {
    "en": ("Undeliverable: ", "Delivery has failed to these recipients or groups:",
           ("The email address you entered couldn't be found. Please check the recipient's email address and "
           "try to resend the message."), "Diagnostic information for administrators:", "Remote Server returned"),
    "de": ("Unzustellbar: ", "Die Nachricht konnte nicht an folgende Empfänger oder Gruppen zugestellt werden:",
           ("Die eingegebene E-Mail-Adresse wurde nicht gefunden. Überprüfen Sie die E-Mail-Adresse des "
           "Empfängers, und versuchen Sie, die Nachricht erneut zu senden."),
           "Diagnoseinformationen für Administratoren:", "Vom Remoteserver zurückgegeben"),
    "nl": ("Onbestelbaar: ", "Kan niet bezorgen bij deze geadresseerden of groepen:",
           ("Het door u ingevoerde e-mailadres is niet gevonden. Controleer het e-mailadres van de ontvanger en "
           "probeer het bericht opnieuw te verzenden."), "Diagnostische gegevens voor beheerders:",
           "Externe server retourneerde"),
    "fr": ("Non remis : ", "La remise a échoué pour ces destinataires ou groupes :",
           ("L'adresse de messagerie que vous avez entrée est introuvable. Vérifiez l'adresse de messagerie du "
           "destinataire et renvoyez le message."), "Informations de diagnostic pour les administrateurs :",
           "Le serveur distant a retourné"),
    "it": ("Non recapitabile: ", "Recapito non riuscito per i seguenti destinatari o gruppi:",
           ("Impossibile trovare l'indirizzo di posta elettronica immesso. Controllare l'indirizzo di posta "
           "elettronica del destinatario e provare a inviare di nuovo il messaggio."),
           "Informazioni diagnostiche per gli amministratori:", "Risposta del server remoto"),
}


def exchange(f: Failures, n: int, lang: str = "en", *, dsn: bool = True, frm: str =
             "Microsoft Outlook <postmaster@shop.example>") -> str:
    subj, intro, notfound, diag, returned = EXCHANGE_LANG[lang]
    who = "\n\n".join(f"{r} ({r})\n{notfound if p.hard else ''}" for r, p in f)
    admin = "\n\n".join(f"{r}\n{returned} '{fill(p, r).splitlines()[-1]}'" for r, p in f)
    human = (f"{intro}\n\n{who}\n\n\n\n\n\n{diag}\n\nGenerating server: AM6PR01MB5555.eurprd01.prod.outlook.com"
             f"\n\n{admin}\n\nOriginal message headers:\n\nReceived: from app.shop.example\nMessage-ID: {msgid(n)}\n")
    if not dsn:
        return plain(frm, subj + f"Invoice 2026-{n:04d}", human, extra="Auto-Submitted: auto-replied\n")
    block = dsn_block("AM6PR01MB5555.eurprd01.prod.outlook.com",
                      [(r, "failed", p.dsn_status or p.status, fill(p, r).splitlines()[-1]) for r, p in f],
                      remote=f"mx.{f[0][0].split('@')[1]}")
    html = "<html><body><p>" + human.replace("\n", "<br>") + "</p></body></html>"
    return report(frm, subj + f"Invoice 2026-{n:04d}", human, block, original(f[0][0], n),
                  returned_type="message/rfc822", html=html,
                  extra="X-MS-Exchange-Message-Is-Ndr: \nAuto-Submitted: auto-replied\n")


def m365_modern(f: Failures, n: int) -> str:
    r, p = f[0]
    human = (f"Your message to {r} couldn't be delivered.\n\n{r.split('@')[0]} wasn't found at "
             f"{r.split('@')[1]}.\n\nbilling    Office 365    {r.split('@')[0]}\nAction Required    "
             "Recipient\n\nUnknown To address\n\nHow to Fix It\nThe address may be misspelled or may not "
             "exist. Try one or more of the following:\n\n" if p.hard else
             f"Your message to {r} couldn't be delivered.\n\nThe message couldn't be delivered.\n\n"
             "More Info for Email Admins\n\n")
    human += f"Remote server returned '{fill(p, r).splitlines()[-1]}'\n"
    block = dsn_block("DB8PR01MB1234.eurprd01.prod.outlook.com",
                      [(x, "failed", q.dsn_status or q.status, fill(q, x).splitlines()[-1]) for x, q in f])
    return report("Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@shop.example>",
                  f"Undeliverable: Invoice 2026-{n:04d}", human, block, original(r, n),
                  returned_type="message/rfc822", html="<html><body>" + human + "</body></html>")


def gmail(f: Failures, n: int) -> str:
    r, p = f[0]
    title = ("** Address not found **" if p.hard else "** Message blocked **" if p.status.startswith("5.7")
             else "** Message not delivered **")
    first = (f"Your message wasn't delivered to {r} because the address couldn't be found, or is unable to "
             "receive mail." if p.hard else f"Your message couldn't be delivered to {r}.")
    human = f"\n{title}\n\n{first}\n\nThe response from the remote server was:\n{fill(p, r)}\n"
    block = dsn_block("mx.google.com", [(r, "failed", p.dsn_status or p.status, fill(p, r))],
                      remote=f"mx.{r.split('@')[1]}").replace("Reporting-MTA: dns; mx.google.com\n",
                                                            "Reporting-MTA: dns; googlemail.com\n")
    return report("Mail Delivery Subsystem <mailer-daemon@googlemail.com>", "Delivery Status Notification (Failure)",
                  human, block, original(r, n), returned_type="message/rfc822",
                  html="<html><body><h2>" + title + "</h2><p>" + first + "</p></body></html>")


def yahoo(f: Failures, n: int) -> str:
    items = "\n\n".join(f"<{r}>:\n{fill(p, r).replace(chr(10), ' ')}" for r, p in f)
    body = ("Sorry, we were unable to deliver your message to the following address.\n\n"
            f"{items}\n\n--- Below this line is a copy of the message.\n\n{original(f[0][0], n)}\nInvoice\n")
    return plain("MAILER-DAEMON@yahoo.com", "Failure Notice", body)


def gmx(f: Failures, n: int, lang: str = "en", domain: str = "gmx.net") -> str:
    if lang == "de":
        items = "\n".join(f"{r}:\nSMTP-Fehler vom Server für RCPT TO, Host: mx.{r.split('@')[1]} (192.0.2.60), "
                          f"Grund: {fill(p, r).replace(chr(10), ' ')}" for r, p in f)
        body = ("Diese Nachricht wurde automatisch vom Mail-System erzeugt.\n\nEine Nachricht, die Sie gesendet "
                "haben, konnte nicht an alle Empfänger zugestellt werden.\nDies ist ein permanenter Fehler. "
                f"Folgende Adresse(n) ist/sind nicht erreichbar:\n\n{items}\n\n--- Die ursprüngliche Nachricht "
                f"folgt ---\n\n{original(f[0][0], n)}\n")
        subject = "Mail delivery failed: returning message to sender"
    else:
        items = "\n".join(f"{r}:\nSMTP error from remote server for RCPT TO command, host: mx.{r.split('@')[1]} "
                          f"(192.0.2.60) reason: {fill(p, r).replace(chr(10), ' ')}" for r, p in f)
        body = ("This message was created automatically by mail delivery software.\n\nA message that you sent "
                "could not be delivered to one or more of\nits recipients. This is a permanent error. The "
                f"following address(es)\nfailed:\n\n{items}\n\n--- The header of the original message is "
                f"following. ---\n\n{original(f[0][0], n)}\n")
        subject = "Mail delivery failed: returning message to sender"
    return plain(f"Mail Delivery System <mailer-daemon@{domain}>", subject, body)


def ses(f: Failures, n: int) -> str:
    human = ("An error occurred while trying to deliver the mail to the following recipients:\n"
             + "\n".join(r for r, _ in f) + "\n")
    block = dsn_block("a8-12.smtp-out.amazonses.com", [(r, "failed", p.dsn_status or p.status, fill(p, r))
                                                      for r, p in f], remote=f"mx.{f[0][0].split('@')[1]}")
    return report("MAILER-DAEMON@amazonses.com", "Delivery Status Notification (Failure)", human, block,
                  original(f[0][0], n), returned_type="message/rfc822")


def esp(f: Failures, n: int, name: str) -> str:
    """SendGrid, Mailgun, Postmark: RFC 3464 reports from their bounce hosts."""
    host = {"sendgrid": "o1.ptr4242.sendgrid.net", "mailgun": "m123.mailgun.net",
            "postmark": "pm-bounces.shop.example"}[name]
    intro = {"sendgrid": "This is an automatically generated message from SendGrid.\n\nI'm sorry to have to "
                         "tell you that your message was not able to be\ndelivered to one of its intended "
                         "recipients.\n\nIf you require assistance with this, please contact SendGrid support.",
             "mailgun": "Delivery to the following recipient failed permanently:",
             "postmark": "This is an automatically generated Delivery Status Notification.\n\nDelivery to the "
                         "following recipients failed."}[name]
    human = intro + "\n\n" + "\n".join(f"    {r}\n\n{fill(p, r).replace(chr(10), ' ')}" for r, p in f) + "\n"
    block = dsn_block(host, [(r, "failed", p.dsn_status or p.status, fill(p, r)) for r, p in f],
                      remote=f"mx.{f[0][0].split('@')[1]}")
    return report(f"Mail Delivery System <MAILER-DAEMON@{host}>", "Undelivered Mail Returned to Sender", human,
                  block, original(f[0][0], n))


def domino(f: Failures, n: int) -> str:
    r, p = f[0]
    reason = (f"User {r.split('@')[0]} ({r}) not listed in Domino Directory" if p.hard
              else fill(p, r).replace("\n", " "))
    body = (f"Your message\n\n  Subject: Invoice 2026-{n:04d}\n\nwas not delivered to:\n\n  {r}\n\nbecause:\n\n"
            f"  {reason}\n\n")
    return plain("Mail Router <postmaster@notes.domino.example>", f"DELIVERY FAILURE: {reason[:60]}", body,
                 extra=f"In-Reply-To: {msgid(n)}\nReferences: {msgid(n)}\n")


def mdaemon(f: Failures, n: int) -> str:
    transcript = "\n".join(f" Attempting to send message to <{r}>\n RCPT TO:<{r}>\n "
                           f"{fill(p, r).replace(chr(10), chr(10) + ' ')}" for r, p in f)
    body = ("The attached message had PERMANENT fatal delivery errors!\n\nAfter one or more unsuccessful delivery "
            "attempts the attached message has been removed from the mail queue on this server.  The number and "
            "frequency of delivery attempts are determined by local configuration parameters.\n\nYOU DO NOT NEED "
            "TO RESEND YOUR MESSAGE.\n\n--- Session Transcript ---\n Mon 2026-11-23 10:15:02: Parsing message "
            f"<pd1234.msg>\n{transcript}\n--- End Transcript ---\n\n: Message contains [1] file attachments\n")
    return plain("MDaemon@mail.mdaemon.example", "Permanent Delivery Failure", body,
                 extra=f"In-Reply-To: {msgid(n)}\n")


def mailru(f: Failures, n: int) -> str:
    items = "\n".join(f"  {r}\n    SMTP error from remote mail server after RCPT TO:<{r}>:\n    host "
                      f"mx.{r.split('@')[1]} [192.0.2.70]: {wrap(fill(p, r))}" for r, p in f)
    body = ("This message was created automatically by mail delivery software.\n\nA message that you sent could "
            "not be delivered to one or more of its\nrecipients. This is a permanent error. The following "
            f"address(es) failed:\n\n{items}\n\n------ This is a copy of the message, including all the "
            f"headers. ------\n\n{original(f[0][0], n)}\n")
    return plain("Mail Delivery System <MAILER-DAEMON@corp.mail.ru>", "Mail delivery failed: returning message "
                 "to sender", body, extra=f"X-Failed-Recipients: {', '.join(r for r, _ in f)}\n")


def yandex(f: Failures, n: int) -> str:
    items = "\n".join(f"<{r}>: host mx.{r.split('@')[1]}[192.0.2.80] said: {fill(p, r).replace(chr(10), ' ')}"
                      for r, p in f)
    human = ("Здравствуйте!\n\nВаше сообщение не удалось доставить по одному или нескольким адресам.\n\n"
             f"{items}\n\nThis is the mail system at host forward100.mail.yandex.net.\n\nI'm sorry to have to "
             "inform you that your message could not\nbe delivered to one or more recipients.\n")
    block = dsn_block("forward100.mail.yandex.net", [(r, "failed", p.dsn_status or p.status, fill(p, r))
                                                     for r, p in f])
    return report("mailer-daemon@yandex.ru", "Недоставленное сообщение", human, block, original(f[0][0], n))


def japanese(rcpt: str, n: int, carrier: str, case: str) -> tuple[str, str, bool]:
    """docomo (sendmail-like), au (own text), SoftBank (own text); some without any code."""
    if carrier == "docomo":
        reason = "550 Unknown user " + rcpt if case == "unknown" else "552 Mailbox full"
        body = ("The original message was received at Mon, 23 Nov 2026 18:15:01 +0900\nfrom mfsmax.docomo.ne.jp\n\n"
                f"   ----- The following addresses had permanent fatal errors -----\n<{rcpt}>\n    (reason: "
                f"{reason})\n\n   ----- Original message follows -----\n\n{original(rcpt, n)}\n")
        eml = plain("Mail Delivery Subsystem <MAILER-DAEMON@docomo.ne.jp>", "Returned mail: see transcript for "
                    "details", body)
    elif carrier == "au":
        reason = ("   user unknown" if case == "unknown" else "   mailbox is full")
        body = ("Your mail sent on: Mon, 23 Nov 2026 18:15:01 +0900\n   could not be delivered to the following "
                f"recipient(s):\n\n{rcpt}\n{reason}\n\n   Please check the recipient's address and send again.\n\n"
                f"--- Original message follows ---\n\n{original(rcpt, n)}\n")
        eml = plain("Mail Administrator <Postmaster@ezweb.ne.jp>", "Mail System Error - Returned Mail", body)
    else:
        reason = ("  Could not be delivered to:<" + rcpt + ">\n  As their mailbox is full." if case == "full"
                  else "  Could not be delivered to:<" + rcpt + ">\n  As the address does not exist (unknown user).")
        body = ("This message was created automatically by mail delivery software.\n\n"
                f"{reason}\n\n宛先のメールアドレスが見つかりませんでした。\n\n--- Original message follows ---\n\n"
                f"{original(rcpt, n)}\n")
        eml = plain("Mail Delivery System <MAILER-DAEMON@softbank.ne.jp>", "Undelivered Mail Returned to Sender",
                    body)
    status, hard = ("5.1.1", True) if case == "unknown" else ("5.2.2", False)
    return eml, status, hard


def nonstandard(rcpt: str, n: int, variant: int, reply: Reply) -> str:
    """Plain-text reports that follow no RFC, quoting the original below."""
    line = fill(reply, rcpt).replace("\n", " ")
    texts = [
        (f"Your message could not be delivered to {rcpt}.\n\nReason: {line}\n\n> From: {SENDER}\n> To: {rcpt}\n"
         f"> Subject: Invoice 2026-{n:04d}\n> Message-ID: {msgid(n)}\n>\n> Dear customer,\n"),
        (f"Message delivery to '{rcpt}' failed.\n{line}\n\n-----Original Message-----\nFrom: {SENDER}\n"
         f"Sent: Monday, November 23, 2026 10:15 AM\nTo: {rcpt}\nSubject: Invoice 2026-{n:04d}\n"),
        (f"Hello, this is the mail server on mail.hosting.example.\n\nI am sending you this message to inform you "
         f"on the delivery status of a message you previously sent.\nImmediately below you will find a list of "
         f"the affected recipients;\nalso attached is a Delivery Status Notification (DSN) report in standard "
         f"format.\n\n  Recipient: {rcpt}\n  Reason:    {line}\n\nThe original message follows.\n"
         f"Message-ID: {msgid(n)}\n"),
    ]
    subjects = ["Message could not be delivered", "Delivery failure", "Undeliverable mail"]
    return plain(f"postmaster@mail{variant}.hosting.example", subjects[variant % 3], texts[variant % 3])


# --- not bounces ---------------------------------------------------------------------------------

AUTO_REPLIES = [
    ("en", "Out of Office: Invoice", ("Thank you for your email. I am out of the office until 30 November with "
     "limited access to email. For urgent matters please contact office@customer.example."), "rfc3834"),
    ("en", "Automatic reply: Invoice", "I'm currently on vacation and will respond when I return.", "exchange"),
    ("en", "Auto: Invoice", "I am away from my desk and will reply on Monday.", "notes"),
    ("en", "Re: Invoice", ("This is an automated response: we received your message and will handle it shortly. "
     "Ticket #48213."), "rfc3834"),
    ("nl", "Automatisch antwoord: Factuur", ("Bedankt voor uw bericht. Ik ben afwezig tot en met 30 november en "
     "heb beperkt toegang tot mijn e-mail."), "exchange"),
    ("nl", "Afwezig: Factuur", ("Ik ben met vakantie tot 4 december. Voor dringende zaken kunt u bellen met "
     "het kantoor."), "rfc3834"),
    ("nl", "Re: Factuur", "Dit is een automatisch antwoord. Wij zijn gesloten wegens feestdagen.", "vacation"),
    ("de", "Automatische Antwort: Rechnung", ("Vielen Dank für Ihre Nachricht. Ich bin bis zum 30.11. nicht im "
     "Büro und habe keinen Zugriff auf meine E-Mails."), "exchange"),
    ("de", "Abwesenheitsnotiz: Rechnung", "Ich bin derzeit im Urlaub. Ihre E-Mail wird nicht weitergeleitet.",
     "subject"),
    ("de", "Abwesend", "Ich bin ab dem 7.12. wieder erreichbar.", "rfc3834"),
    ("it", "Risposta automatica: Fattura", "Grazie per il messaggio. Sono fuori ufficio fino al 30 novembre.",
     "exchange"),
    ("it", "Fuori sede: Fattura", "Sono in ferie fino al 4 dicembre, risponderò al mio rientro.", "subject"),
    ("it", "Assente", "Risponderò al più presto.", "rfc3834"),
    ("fr", "Réponse automatique : Facture", ("Merci pour votre message. Je suis absent du bureau jusqu'au "
     "30 novembre."), "exchange"),
    ("fr", "Absence du bureau", "Je suis en congé jusqu'au 4 décembre.", "subject"),
    ("fr", "Re: Facture", "Ceci est une réponse automatique. Votre message a bien été reçu.", "rfc3834"),
    ("en", "Autoreply: Invoice", "Our office is closed for the holidays.", "xautoreply"),
    ("en", "Vacation reply", "I'm out until Monday.", "precedence"),
    ("de", "Re: Rechnung", "Dies ist eine automatisch generierte Antwort. Wir melden uns bald.", "rfc3834"),
    ("nl", "Uw bericht is ontvangen", "Dank voor uw e-mail, wij reageren binnen twee werkdagen.", "rfc3834"),
]


def auto_reply(i: int, lang: str, subject: str, body: str, style: str) -> str:
    extra = {"rfc3834": "Auto-Submitted: auto-replied\n",
             "exchange": "Auto-Submitted: auto-generated\nX-Auto-Response-Suppress: All\n",
             "notes": "Auto-Submitted: auto-generated\nX-Notes-Item: \n",
             "vacation": "Auto-Submitted: auto-replied (vacation)\nX-Vacation: yes\n",
             "xautoreply": "X-Autoreply: yes\n", "precedence": "Precedence: auto_reply\n",
             "subject": ""}[style]
    return (f"Date: Mon, 23 Nov 2026 10:16:00 +0100\nFrom: Klant {i} <klant{i}@customer.example>\nTo: {SENDER}\n"
            f"Subject: {Header(subject, 'utf-8').encode() if not subject.isascii() else subject}\n"
            f"In-Reply-To: {msgid(900 + i)}\nMIME-Version: 1.0\n{extra}Content-Type: text/plain; charset=utf-8\n"
            f"Content-Transfer-Encoding: 8bit\n\n{body}\n")


def arf(i: int, source: str) -> str:
    b = f"arf_{i}"
    return (f"From: {source}\nTo: {SENDER}\nSubject: Complaint about message from 198.51.100.7\n"
            "MIME-Version: 1.0\nContent-Type: multipart/report; report-type=feedback-report;\n"
            f"\tboundary=\"{b}\"\n\n--{b}\nContent-Type: text/plain; charset=utf-8\n\nThis is an email abuse "
            f"report for an email message received from IP 198.51.100.7.\n\n--{b}\nContent-Type: "
            "message/feedback-report\n\nFeedback-Type: abuse\nUser-Agent: SomeGenerator/1.0\nVersion: 1\n"
            f"Original-Mail-From: <{SENDER}>\nOriginal-Rcpt-To: <user{i}@isp.example>\nArrival-Date: Mon, 23 Nov "
            f"2026 10:15:03 +0000\nSource-IP: 198.51.100.7\n\n--{b}\nContent-Type: message/rfc822\n\n"
            f"{original(f'user{i}@isp.example', 800 + i)}\nInvoice\n--{b}--\n")


def delay(rcpt: str, n: int) -> str:
    human = ("This is the mail system at host mail.shop.example.\n\n####################################"
             "################################\n# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #"
             "\n####################################################################\n\nYour message could not "
             "be delivered for more than 4 hour(s).\nIt will be retried until it is 5 day(s) old.\n\n"
             f"<{rcpt}>: connect to mx.{rcpt.split('@')[1]}[192.0.2.44]:25: Connection timed out\n")
    dsn = dsn_block("mail.shop.example", [(rcpt, "delayed", "4.4.1", None)])
    return report("MAILER-DAEMON@mail.shop.example (Mail Delivery System)", "Delayed Mail (still being retried)",
                  human, dsn, original(rcpt, n))


def success(rcpt: str, n: int) -> str:
    human = ("This is the mail system at host mail.shop.example.\n\nYour message was successfully delivered to the "
             f"destination(s)\nlisted below.\n\n<{rcpt}>: delivery via mx.{rcpt.split('@')[1]}[192.0.2.25]:25: "
             "250 2.0.0 Ok: queued as 4XbC1\n")
    dsn = dsn_block("mail.shop.example", [(rcpt, "relayed", "2.0.0", "250 2.0.0 Ok: queued as 4XbC1")])
    return report("MAILER-DAEMON@mail.shop.example (Mail Delivery System)", "Successful Mail Delivery Report",
                  human, dsn, original(rcpt, n))


CUSTOMER_REPLIES = [
    ("Re: Invoice 2026-0042", ("Thanks, paid today. Your earlier mail was undeliverable to our old address, "
     "please use this one.")),
    ("Re: Factuur", "Betaald. Groeten, Jan"),
    ("AW: Rechnung", "Die Rechnung konnte nicht zugestellt werden? Bei uns ist sie angekommen."),
    ("Re: Fattura", "Ricevuta, grazie."),
    ("RE: Facture", "Pouvez-vous renvoyer la facture ? Le premier message n'a pas pu être livré à mon collègue."),
    ("Question about delivery failure", ("Hi, our postmaster says your invoices bounce with 550 5.1.1, can you "
     "check the address billing@customer.example?")),
]


def customer(i: int, subject: str, body: str) -> str:
    return (f"From: Customer {i} <c{i}@customer.example>\nTo: {SENDER}\nSubject: {subject}\n"
            f"Date: Mon, 23 Nov 2026 11:00:00 +0100\nIn-Reply-To: {msgid(700 + i)}\nMIME-Version: 1.0\n"
            f"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{body}\n")


# --- assembling the corpus ------------------------------------------------------------------------

def build() -> dict[str, dict[str, object]]:
    rnd = random.Random(18)
    truth: dict[str, dict[str, object]] = {}
    SAMPLES.mkdir(exist_ok=True)
    for old in SAMPLES.glob("*.eml"):
        old.unlink()
    n = 0

    def add(name: str, system: str, eml: str, kind: str, recipients: list[tuple[str, str, bool]],
            original_id: str | None = None) -> None:
        name = f"{name}.eml"
        assert name not in truth, name
        (SAMPLES / name).write_text(eml, encoding="utf-8")
        truth[name] = {"system": system, "split": split_of(name), "kind": kind,
                       "recipients": [{"recipient": r, "status": s, "hard": h} for r, s, h in recipients],
                       "original_message_id": original_id}

    def rcpt(i: int) -> str:
        names = ["anna", "bert", "carla", "dirk", "eva", "frank", "greta", "hans", "ines", "joost"]
        domains = ["customer.example", "klant.example", "kunde.example", "cliente.example", "client.example"]
        return f"{names[i % 10]}.{i}@{domains[i % 5]}"

    formats: list[tuple[str, Callable[[Failures, int], str], bool]] = [
        ("postfix", postfix, True),
        ("zimbra", lambda f, k: postfix(f, k, host="zimbra.mail.example"), True),
        ("icloud", lambda f, k: postfix(f, k, host="mr85p00im-hyfv06011301.me.com"), True),
        ("exim_plain", exim_plain, True),
        ("exim_dsn", exim_dsn, True),
        ("sendmail", sendmail, True),
        ("sendmail_plain", sendmail_plain, False),
        ("qmail", qmail, True),
        ("courier", courier, True),
        ("opensmtpd", opensmtpd, True),
        ("opensmtpd_dsn", opensmtpd_dsn, True),
        ("exchange_en", exchange, True),
        ("exchange_de", lambda f, k: exchange(f, k, "de"), True),
        ("exchange_nl", lambda f, k: exchange(f, k, "nl"), True),
        ("exchange_fr", lambda f, k: exchange(f, k, "fr"), True),
        ("exchange_it", lambda f, k: exchange(f, k, "it"), True),
        ("exchange_plain_de", lambda f, k: exchange(f, k, "de", dsn=False), False),
        ("outlookcom", lambda f, k: exchange(f, k, "en", frm="postmaster@outlook.com"), True),
        ("m365", m365_modern, False),
        ("gmail", gmail, False),
        ("workspace", gmail, False),
        ("yahoo", yahoo, True),
        ("gmx", gmx, True),
        ("webde_de", lambda f, k: gmx(f, k, "de", "web.de"), True),
        ("ses", ses, True),
        ("sendgrid", lambda f, k: esp(f, k, "sendgrid"), False),
        ("mailgun", lambda f, k: esp(f, k, "mailgun"), False),
        ("postmark", lambda f, k: esp(f, k, "postmark"), False),
        ("domino", domino, False),  # hard replies become "not listed in Domino Directory" (5.1.1)
        ("mdaemon", mdaemon, True),
        ("mailru", mailru, True),
        ("yandex", yandex, True),
        ("zoho", lambda f, k: postfix(f, k, host="mx.zohomail.com"), True),
    ]
    # Which replies suit which sending system (a Gmail report carries a reply from elsewhere; the
    # ESPs and providers see every kind).
    for system, fmt, multi in formats:
        picks = rnd.sample(PERMANENT, 7) + [rnd.choice(UNKNOWN)]
        for j, reply in enumerate(picks):
            n += 1
            first = rcpt(n)
            failures: Failures = [(first, reply)]
            if multi and j == 0:
                second = rnd.choice(PERMANENT)
                failures.append((rcpt(n + 500), second))
            if system in ("domino", "m365", "gmail", "workspace"):
                failures = failures[:1]
            eml = fmt(failures, n)
            add(f"{system}_{j:02d}_{reply.key}", system, eml, "bounce",
                [(r, "5.1.1" if system == "domino" and p.hard else p.status, p.hard) for r, p in failures],
                None if system in ("exchange_plain_de",) else msgid(n))
        # a temporary reply given up after the retry period (soft, 4.x.x)
        if system in ("postfix", "exim_dsn", "sendmail", "exchange_en", "gmail", "ses"):
            n += 1
            reply = rnd.choice(TEMPORARY)
            add(f"{system}_expired_{reply.key}", system, fmt([(rcpt(n), reply)], n), "bounce",
                [(rcpt(n), reply.status, False)], msgid(n))
    for kind in LOCAL:
        for j in range(3):
            n += 1
            eml, status, hard = postfix_local(kind, rcpt(n), n)
            add(f"postfix_local_{kind}_{j}", "postfix", eml, "bounce", [(rcpt(n), status, hard)], msgid(n))
    for j, full in enumerate([False, True, False, True]):
        n += 1
        eml, status, hard = qmail_local(rcpt(n), n, full)
        add(f"qmail_local_{j}", "qmail", eml, "bounce", [(rcpt(n), status, hard)], msgid(n))
    for carrier in ("docomo", "au", "softbank"):
        for case in ("unknown", "full", "unknown"):
            n += 1
            r = f"user{n}@{ {'docomo': 'docomo.ne.jp', 'au': 'ezweb.ne.jp', 'softbank': 'softbank.ne.jp'}[carrier]}"
            eml, status, hard = japanese(r, n, carrier, case)
            add(f"japan_{carrier}_{n}_{case}", carrier, eml, "bounce", [(r, status, hard)], msgid(n))
    for variant in range(12):
        n += 1
        reply = rnd.choice(PERMANENT)
        r = rcpt(n)
        eml = nonstandard(r, n, variant, reply)
        add(f"plain_{variant:02d}_{reply.key}", "non_rfc", eml, "bounce", [(r, reply.status, reply.hard)],
            msgid(n) if variant % 3 != 1 else None)
    for i, (lang, subject, body, style) in enumerate(AUTO_REPLIES):
        add(f"autoreply_{i:02d}_{lang}_{style}", "auto_reply", auto_reply(i, lang, subject, body, style),
            "auto_reply", [], msgid(900 + i))
    sources = ["Yahoo! Mail AntiSpam Feedback <feedback@arf.mail.yahoo.com>", "staff@hotmail.com",
               "scomp@aol.net", "fbl@comcast.example", "abuse@gmx.net", "fbl@mail.ru", "complaints@isp.example",
               "feedbackloop@zoho.com"]
    for i, source in enumerate(sources):
        add(f"arf_{i:02d}", "arf", arf(i, source), "feedback", [], msgid(800 + i))
    for i in range(6):
        n += 1
        add(f"delay_{i}", "postfix", delay(rcpt(n), n), "delay", [], msgid(n))
        n += 1
        add(f"success_{i}", "postfix", success(rcpt(n), n), "delivery_success", [], msgid(n))
    for i, (subject, body) in enumerate(CUSTOMER_REPLIES):
        add(f"customer_{i}", "human", customer(i, subject, body), "not_a_bounce", [], None)
    lab = json.loads((HERE / "lab" / "truth.json").read_text())
    for name, entry in sorted(lab.items()):
        (SAMPLES / name).write_bytes((HERE / "lab" / name).read_bytes())
        truth[name] = {**entry, "split": split_of(name)}
    return truth


def main() -> None:
    truth = build()
    (HERE / "truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    kinds: dict[str, int] = {}
    for entry in truth.values():
        kinds[str(entry["kind"])] = kinds.get(str(entry["kind"]), 0) + 1
    held = sum(1 for e in truth.values() if e["split"] == "holdout")
    print(f"{len(truth)} samples ({held} held out): {kinds}")


if __name__ == "__main__":
    main()
