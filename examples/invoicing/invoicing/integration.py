"""Everything the invoicing program does with mailport, in one place — the part to copy.

- a tenant API key (created once with the operator key in development),
- a webhook registered once, its secret kept,
- customers pushed as contacts, so mailport links mail to them,
- invoices sent with an idempotency key stored *before* the call,
- delivery events turned into the invoice's status (never backwards, each event once).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from invoicing.config import Config
from invoicing.pdf import render_invoice
from invoicing.store import Customer, Invoice, Store
from mailport.client import Attachment, Client, ContactInput, diagnosis_of
from mailport.client.webhooks import (
    MessageBounced,
    MessageCancelled,
    MessageDeferred,
    MessageFailed,
    MessageQueued,
    MessageSending,
    MessageSent,
    WebhookEvent,
)
from mailport.errors import MailportError

log = logging.getLogger("invoicing")

EVENT_TYPES = ["message.queued", "message.sending", "message.sent", "message.deferred", "message.failed",
               "message.cancelled", "message.bounced"]


class NoMailbox(Exception):
    """No mailbox is connected yet: open the e-mail settings first."""


class Mailport:
    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store
        key = config.mailport_api_key or store.get("mailport_api_key") or self._create_tenant()
        self.client = Client(config.mailport_url, api_key=key, language=config.language)

    def _create_tenant(self) -> str:
        """Development only: make our own tenant with mailport's operator key (var/admin.key)."""
        admin_key = self.config.mailport_admin_key_file.read_text().strip()
        with Client(self.config.mailport_url, api_key=admin_key) as admin:
            tenant = admin.tenants.create(name=self.config.company)
        self.store.put("mailport_api_key", tenant.api_key)
        return tenant.api_key

    def close(self) -> None:
        self.client.close()

    # ---- webhooks -------------------------------------------------------------------------

    def ensure_webhook(self) -> str | None:
        """Register our receiver once; returns a problem to show, or None."""
        url = f"{self.config.public_url}/webhooks/mailport"
        if self.store.get("webhook_url") == url and self.store.get("webhook_secret"):
            return None
        try:
            created = self.client.webhooks.create(url=url, event_types=EVENT_TYPES,
                                                  description="example invoicing app")
        except MailportError as exc:
            log.warning("webhook not registered: %s (%s)", exc, exc.code)
            return f"Delivery updates by webhook are off: {exc}. Use “Refresh delivery status”."
        self.store.put("webhook_secret", created.secret)
        self.store.put("webhook_url", url)
        return None

    def webhook_secrets(self) -> list[str]:
        secret = self.store.get("webhook_secret")
        return [secret] if secret else []

    def apply_event(self, event: WebhookEvent) -> None:
        """Move the invoice the event is about to its new status (each event only once)."""
        if not self.store.first_time(event.id) or event.message_id is None:
            return
        invoice = self.store.invoice_by_message(event.message_id)
        if invoice is None:
            return  # not ours (another program of the same tenant)
        status, detail = self._status_of(event)
        if status is not None:
            self.store.set_status(invoice.id, status=status, detail=detail)

    def _status_of(self, event: WebhookEvent) -> tuple[str | None, str | None]:
        data = event.data
        if isinstance(data, (MessageQueued, MessageSending)):
            return "sending", None
        if isinstance(data, MessageDeferred):
            return "deferred", f"will retry: {self._explain(data.reason, data.recipients)}"
        if isinstance(data, MessageSent):
            return "sent", None
        if isinstance(data, MessageFailed):
            return "failed", self._explain(data.reason, data.recipients)
        if isinstance(data, MessageBounced):
            reason = data.diagnosis or data.server_text or "bounced"
            return "bounced", f"{reason} ({data.status})" if data.status else reason
        if isinstance(data, MessageCancelled):
            return "cancelled", None
        return None, None

    def _explain(self, reason: str | None, recipients: Sequence[object]) -> str:
        """The diagnosis in the user's language (mailport explains its own codes)."""
        server_text = next((getattr(r, "text", None) for r in recipients if getattr(r, "text", None)), None)
        text = server_text or reason
        if not text:
            return "unknown reason"
        try:
            return self.client.explain(text, language=self.config.language).title
        except MailportError:
            return text

    # ---- customers and invoices -----------------------------------------------------------

    def push_contacts(self, customers: list[Customer]) -> None:
        if customers:
            self.client.contacts.upsert([ContactInput(id=c.contact_id, name=c.name, addresses=(c.email,))
                                         for c in customers])

    def sending_account(self) -> str:
        accounts = self.client.accounts.list()
        if not accounts:
            raise NoMailbox()
        return accounts[0].id

    def send_invoice(self, invoice: Invoice) -> None:
        customer = self.store.customer(invoice.customer_id)
        account = self.sending_account()
        key = self.store.claim_idempotency_key(invoice.id, f"invoice-{invoice.id}-{uuid.uuid4()}")
        pdf = render_invoice(invoice, customer, seller=self.config.company)
        try:
            message = self.client.messages.send(
                account=account, to=[customer.email], subject=f"Invoice {invoice.number}",
                text=(f"Dear {customer.name},\n\nPlease find invoice {invoice.number} attached "
                      f"(EUR {invoice.amount}).\n\nKind regards,\n{self.config.company}\n"),
                attachments=[Attachment(filename=f"invoice-{invoice.number}.pdf", content=pdf,
                                        content_type="application/pdf")],
                metadata={"invoice_id": str(invoice.id), "invoice_number": invoice.number},
                idempotency_key=key)
        except MailportError as exc:
            explained = diagnosis_of(exc)
            self.store.set_status(invoice.id, status="failed",
                                  detail=explained.title if explained else str(exc))
            return
        self.store.set_message(invoice.id, message_id=message.id, status="queued")

    def refresh(self, *, poll: bool) -> None:
        """Sync the mailboxes now (bounces come back there; mailport turns them into
        ``message.bounced`` events). With ``poll`` — when webhooks are off — also ask for each
        unfinished invoice's state instead of waiting for events."""
        for account in self.client.accounts.list():
            if account.imap is not None:
                try:
                    self.client.inbox.sync(account.id)  # bounces arrive in the inbox
                except MailportError as exc:
                    log.warning("inbox sync of %s failed: %s", account.email, exc)
        if not poll:
            return
        for invoice in self.store.invoices():
            if invoice.message_id and invoice.status not in ("failed", "bounced", "cancelled"):
                message = self.client.messages.get(invoice.message_id)
                failed = [r for r in message.recipients if r.status == "failed"]
                detail = None
                if message.state == "failed":
                    detail = self._explain(message.reason, failed)
                elif message.state == "bounced" and failed:
                    code = failed[0].enhanced_code
                    detail = self._explain(failed[0].diagnosis, failed) + (f" ({code})" if code else "")
                self.store.set_status(invoice.id, status=message.state, detail=detail)

    def settings_link(self) -> str:
        """A signed link to mailport's Settings › E-mail for our user, coming back to us."""
        session = self.client.ui_sessions.create(user_name=self.config.user_name, language=self.config.language,
                                                 return_url=f"{self.config.public_url}/")
        return session.url
