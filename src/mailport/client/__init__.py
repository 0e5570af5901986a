"""A typed Python client for mailport's HTTP API (sync and async, over httpx).

::

    from mailport.client import Attachment, Client

    with Client("https://mail.example.net", api_key="mpk_…", language="nl") as mp:
        message = mp.messages.send(account="acc_…", to=["klant@example.nl"], subject="Factuur 42",
                                   text="…", attachments=[Attachment(filename="f42.pdf", content=pdf)],
                                   metadata={"invoice_id": "42"}, idempotency_key="invoice-42")

Every endpoint is a method on a resource (``tenants``, ``accounts``, ``messages``, ``webhooks``,
``inbox``, ``contacts``, ``domains``, ``platform``, ``ui_sessions``) or on the client itself
(``health``, ``ready``, ``metrics``, ``discover``, ``explain``). Failures raise
:mod:`mailport.errors` classes with the answer's ``code``; :func:`diagnosis_of` gives the
localized explanation. Receiving webhooks: :func:`mailport.client.webhooks.parse_event`.
"""

from mailport.client._async_client import AsyncClient
from mailport.client._sync_client import Client
from mailport.client.errors import Answered, RateLimited, diagnosis_of, problem_of
from mailport.client.models import (
    Account,
    Attachment,
    Batch,
    BatchResult,
    Contact,
    ContactInput,
    Diagnosis,
    Domain,
    EndpointSettings,
    InboxAttachment,
    InboxMessage,
    Mailbox,
    MailboxAttention,
    Message,
    OutgoingMessage,
    Problem,
    Tenant,
    TenantCreated,
    UiSession,
    Webhook,
    WebhookCreated,
)
from mailport.client.webhooks import WebhookEvent, parse_event

__all__ = [
    "Account",
    "Answered",
    "AsyncClient",
    "Attachment",
    "Batch",
    "BatchResult",
    "Client",
    "Contact",
    "ContactInput",
    "Diagnosis",
    "Domain",
    "EndpointSettings",
    "InboxAttachment",
    "InboxMessage",
    "Mailbox",
    "MailboxAttention",
    "Message",
    "OutgoingMessage",
    "Problem",
    "RateLimited",
    "Tenant",
    "TenantCreated",
    "UiSession",
    "Webhook",
    "WebhookCreated",
    "WebhookEvent",
    "diagnosis_of",
    "parse_event",
    "problem_of",
]
