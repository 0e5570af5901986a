"""Texts the pages show for stable values (stages, outcomes, sending methods), as msgids.

``N_`` only marks a text for extraction; the templates translate it with ``_`` at render time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


def N_(message: str) -> str:
    return message


STAGES: Final = {
    "smtp.dns": N_("Outgoing server: looking up its address"),
    "smtp.tcp": N_("Outgoing server: connecting"),
    "smtp.tls": N_("Outgoing server: securing the connection"),
    "smtp.greeting": N_("Outgoing server: first answer"),
    "smtp.auth": N_("Outgoing server: signing in"),
    "imap.dns": N_("Incoming server: looking up its address"),
    "imap.tcp": N_("Incoming server: connecting"),
    "imap.tls": N_("Incoming server: securing the connection"),
    "imap.greeting": N_("Incoming server: first answer"),
    "imap.login": N_("Incoming server: signing in"),
    "roundtrip.send": N_("Sending the test mail to yourself"),
    "roundtrip.arrival": N_("Waiting for the test mail to arrive"),
}

STAGE_STATUS: Final = {
    "pending": N_("waiting"),
    "ok": N_("done"),
    "failed": N_("failed"),
    "skipped": N_("skipped"),
}

OUTCOMES: Final = {
    "verified": N_("It works: the test mail was sent and arrived in your inbox."),
    "delivered_to_junk": N_("It works, but the test mail landed in your junk folder. Mark it as \"not spam\" so your "
                            "own mails are not filtered."),
    "sent_unconfirmed": N_("The test mail was sent. Without an incoming server we cannot check that it arrived; look "
                           "in your inbox."),
    "not_arrived": N_("The test mail was sent but did not arrive in time."),
    "failed": N_("The test did not succeed."),
}

ACCOUNT_STATES: Final = {
    "working": N_("Working"),
    "needs_attention": N_("Needs attention"),
    "not_tested": N_("Not tested yet"),
}

OAUTH_PROVIDER_OF: Final = {"gmail": "google", "google_workspace": "google",
                            "outlook": "microsoft", "microsoft365": "microsoft"}

# What the provider's consent page will ask for under each scope profile (core.transports), in
# plain words, and why the program needs it: shown on the settings page before the user signs in.
_SEND = (N_("Send email as you"),
         N_("Invoices and other documents go out from your own address, so replies reach you."))
_DRAFTS = (N_("Read and write your email"),
           N_("Microsoft only accepts large attachments on a draft: we create drafts of the documents you send"
              " and send them. We do not read your other mail."))
_READ = (N_("Read your email"),
         N_("Replies and bounce messages are linked to your customers and to the invoices you sent. Nothing is"
            " changed or deleted in your mailbox."))
_FULL = (N_("Read, send and manage all your email"),
         N_("Sending through your mail server (SMTP) and reading it (IMAP) needs full access to the mailbox;"
            " we use it only to send and to read replies."))
_IDENTITY = (N_("See your email address"), N_("So exactly the mailbox you signed in to is connected."))
_OFFLINE = (N_("Keep this access"),
            N_("So invoices also go out when you are not signed in. You can withdraw the access at any time in"
               " your account's security settings."))
OAUTH_PERMISSIONS: Final[dict[tuple[str, str], tuple[tuple[str, str], ...]]] = {
    ("google", "send"): (_SEND, _IDENTITY, _OFFLINE),
    ("google", "send_and_inbox"): (_SEND, _READ, _IDENTITY, _OFFLINE),
    ("google", "imap_smtp"): (_FULL, _IDENTITY, _OFFLINE),
    ("microsoft", "send"): (_SEND, _DRAFTS, _IDENTITY, _OFFLINE),
    ("microsoft", "send_and_inbox"): (_SEND, _DRAFTS, _READ, _IDENTITY, _OFFLINE),
    ("microsoft", "imap_smtp"): (_FULL, _IDENTITY, _OFFLINE),
}

SECURITY: Final = {
    "tls": N_("SSL/TLS"),
    "starttls": N_("STARTTLS"),
    "none": N_("None (unencrypted)"),
}

AUTH_NOTES: Final = {
    "oauth2:google": N_("Google recommends signing in with your Google account instead of a password."),
    "oauth2:microsoft": N_("Microsoft requires signing in with your Microsoft account for this mailbox."),
    "app_password": N_("This provider only accepts an app password here, not your normal password."),
}


@dataclass(frozen=True, slots=True)
class Method:
    """One way of sending, as the seeds explain them to users."""

    id: str
    title: str
    summary: str
    details: str


METHODS: Final = (
    Method(
        "platform", N_("Platform address"),
        N_("The simplest option: nothing to set up."),
        N_("Mails are sent from our platform's address with your name as the sender name. When a customer replies, the "
           "reply goes to the address you choose."),
    ),
    Method(
        "domain", N_("Own domain"),
        N_("Send from your own address, e.g. invoice@yourcompany.com."),
        N_("You need your own domain name and must be able to change its DNS records. You add three records (your web "
           "or IT administrator can help), then press \"Check and activate\"."),
    ),
    Method(
        "smtp", N_("Own mailbox (SMTP)"),
        N_("Send through your own mailbox or mail server."),
        N_("Enter your e-mail address and password; we find the server settings for you. Sent mail goes out through "
           "your own mail server and a test mail shows that it works."),
    ),
    Method(
        "gmail", N_("Gmail"),
        N_("Send from your Gmail or Google Workspace account."),
        N_("A link between Google and this program is set up by signing in with Google. With Gmail this is better than "
           "SMTP."),
    ),
    Method(
        "outlook", N_("Outlook / Microsoft 365"),
        N_("Send from Outlook.com, Hotmail, Live or Microsoft 365."),
        N_("A link between Microsoft and this program is set up by signing in with Microsoft. With Outlook this is "
           "better than SMTP."),
    ),
)

MESSAGE_STATES: Final = {
    "queued": N_("Waiting to be sent"),
    "sending": N_("Sending"),
    "sent": N_("Sent"),
    "deferred": N_("Will be retried"),
    "failed": N_("Failed"),
    "cancelled": N_("Cancelled"),
    "bounced": N_("Bounced"),
}

# History lines of a message that are not one of its states (those come from MESSAGE_STATES).
MESSAGE_EVENTS: Final = {
    "recipient.suppressed": N_("%(address)s went on the list of addresses that no longer receive documents"),
}


def history_label(event_type: str) -> str:
    """The msgid of a history line: the event's own text, else the state it reports, else a
    neutral text (an event type is code, not something to show a business owner)."""
    if event_type in MESSAGE_EVENTS:
        return MESSAGE_EVENTS[event_type]
    return MESSAGE_STATES.get(event_type.rsplit(".", 1)[-1], N_("Other event"))


RECIPIENT_STATES: Final = {
    "pending": N_("Waiting"),
    "accepted": N_("Accepted by the server"),
    "deferred": N_("Will be retried"),
    "failed": N_("Not delivered"),
    "bounced": N_("Bounced"),
}

RECIPIENT_KINDS: Final = {"to": N_("To"), "cc": N_("Cc"), "bcc": N_("Bcc")}

DOMAIN_STATES: Final = {
    "pending": N_("Waiting for the records"),
    "active": N_("Active"),
    "degraded": N_("Records need attention"),
    "suspended": N_("Suspended"),
}

RECORD_KINDS: Final = {
    "dkim": N_("Signature (DKIM)"),
    "return_path": N_("Return path"),
    "dmarc": N_("Policy (DMARC)"),
    "spf": N_("Allowed senders (SPF)"),
}

VERDICT_STATUS: Final = {"pass": N_("OK"), "fail": N_("Not right yet"), "unknown": N_("Could not check")}

SYNC_STATES: Final = {
    "pending": N_("Waiting for the first sync"),
    "syncing": N_("Synchronizing"),
    "idle": N_("Up to date"),
    "error": N_("Sync failed"),
    "disabled": N_("Sync switched off"),
}
