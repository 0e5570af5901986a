"""The asynchronous client — the source the synchronous one is generated from.

Edit this file, then run ``python scripts/unasync_client.py`` to regenerate ``_sync_client.py``
(a test fails when the two drift apart).
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import quote

import httpx

from mailport import errors
from mailport.client import _base
from mailport.client._base import AddressLike, ClientConfig, params, parse, parse_list
from mailport.client.errors import error_from_response, transport_error
from mailport.client.models import (
    Account,
    ApiKey,
    ApiKeyCreated,
    Attachment,
    Batch,
    CapturedMail,
    Contact,
    ContactInput,
    ContactsUpserted,
    Delivery,
    Diagnosis,
    DnsRecord,
    Domain,
    DomainCheck,
    EndpointSettings,
    InboxMessage,
    Message,
    OAuthStart,
    OutgoingMessage,
    SenderSettings,
    Suppression,
    SyncState,
    Tenant,
    TenantCreated,
    UiSession,
    Webhook,
    WebhookCreated,
)

__all__ = ["AsyncClient"]

Endpoint = EndpointSettings | Mapping[str, Any]


class AsyncClient:
    """mailport's HTTP API, one method per endpoint, grouped by resource::

        async with AsyncClient("https://mail.example.net", api_key="mpk_…") as mp:
            msg = await mp.messages.send(account=acc_id, to=["klant@example.nl"], subject="Factuur",
                                         text="…", attachments=[Attachment(filename=…, content=pdf)])

    Errors are :mod:`mailport.errors` classes (``NotFound``, ``ValidationError``,
    ``RemoteAuthError`` …) carrying the answer's ``code`` and localized ``diagnosis``. Requests
    that cannot act twice (reads, PUT/DELETE, sends with an idempotency key) are retried on
    connection failures and gateway errors, ``max_retries`` times with exponential backoff.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
        language: str | None = None,
        max_retries: int = 2,
        retry_backoff: float = 0.5,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        """``http_client``: your own configured httpx client (proxies, TLS, a test transport); its
        timeouts then apply and closing it stays yours."""
        self._config = ClientConfig(base_url=base_url.rstrip("/"), api_key=api_key, timeout=timeout,
                                    language=language, max_retries=max_retries, retry_backoff=retry_backoff)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=timeout)
        self.tenants = AsyncTenants(self)
        self.accounts = AsyncAccounts(self)
        self.messages = AsyncMessages(self)
        self.webhooks = AsyncWebhooks(self)
        self.inbox = AsyncInbox(self)
        self.contacts = AsyncContacts(self)
        self.suppressions = AsyncSuppressions(self)
        self.domains = AsyncDomains(self)
        self.platform = AsyncPlatform(self)
        self.ui_sessions = AsyncUiSessions(self)

    @property
    def base_url(self) -> str:
        return self._config.base_url

    def __repr__(self) -> str:  # never shows the key
        return f"{type(self).__name__}({self._config.base_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        json: Any = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = False,
    ) -> httpx.Response:
        """One API call; raises the matching :mod:`mailport.errors` class for an error answer."""
        merged = {**self._config.headers(), **(headers or {})}
        url = self._config.base_url + path
        attempt = 0
        while True:
            try:
                response = await self._http.request(method, url, params=query, json=json, files=files,
                                                    headers=merged)
            except httpx.TransportError as exc:
                if attempt < self._config.max_retries and _base.retryable(
                        method=method, idempotent=idempotent, status=None):
                    await asyncio.sleep(self._config.delay(attempt))
                    attempt += 1
                    continue
                raise transport_error(exc, base_url=self._config.base_url) from exc
            if response.status_code < 400:
                return response
            if (attempt < self._config.max_retries and _base.is_gateway_error(response)
                    and _base.retryable(method=method, idempotent=idempotent, status=response.status_code)):
                await asyncio.sleep(self._config.delay(attempt))
                attempt += 1
                continue
            raise error_from_response(response)

    # ---- endpoints without a resource ----

    async def health(self) -> dict[str, str]:
        """``GET /healthz``: the process answers."""
        data: dict[str, str] = (await self.request("GET", "/healthz")).json()
        return data

    async def ready(self) -> bool:
        """``GET /readyz``: whether the database is reachable (False on 503)."""
        try:
            await self.request("GET", "/readyz")
        except errors.StorageError:
            return False
        return True

    async def metrics(self) -> str:
        """``GET /metrics``: Prometheus text format."""
        return (await self.request("GET", "/metrics")).text

    async def discover(self, email: str, *, probe: bool = True) -> dict[str, Any]:
        """``GET /v1/discover``: ranked server settings for an address."""
        data: dict[str, Any] = (await self.request(
            "GET", "/v1/discover", query={"email": email, "probe": str(probe).lower()})).json()
        return data

    async def explain(self, text: str, *, email: str | None = None, provider: str | None = None,
                      host: str | None = None, language: str | None = None) -> Diagnosis:
        """``POST /v1/diagnostics/explain``: a server reply explained in the user's language; the
        account's address, provider id or server host select its provider's documented meaning."""
        body = {k: v for k, v in {"text": text, "email": email, "provider": provider, "host": host}.items()
                if v is not None}
        response = await self.request("POST", "/v1/diagnostics/explain", json=body,
                                      query=params(lang=language))
        return parse(Diagnosis, response)


class _Resource:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client


class AsyncTenants(_Resource):
    async def create(self, *, name: str, display_name: str | None = None) -> TenantCreated:
        """``POST /v1/tenants`` (operator key): the answer holds the tenant's API key, once."""
        body = {"name": name, "display_name": display_name}
        return parse(TenantCreated, await self._client.request("POST", "/v1/tenants", json=body))

    async def list(self) -> builtins.list[Tenant]:
        """``GET /v1/tenants`` (operator key)."""
        return parse_list(Tenant, await self._client.request("GET", "/v1/tenants"))

    async def me(self) -> Tenant:
        """``GET /v1/tenant``: the tenant of this client's API key."""
        return parse(Tenant, await self._client.request("GET", "/v1/tenant"))

    async def update_settings(self, **changes: str | None) -> Tenant:
        """``PATCH /v1/tenant``: ``default_method`` (``account`` with ``default_account``,
        ``platform``, or ``domain`` with ``default_from``) and ``time_zone`` (IANA name). Only the given keys change."""
        return parse(Tenant, await self._client.request("PATCH", "/v1/tenant", json=changes))

    async def create_key(self, tenant_id: str, *, label: str | None = None) -> ApiKeyCreated:
        """``POST /v1/tenants/{id}/keys`` (operator key): another API key, shown once (rotation)."""
        return parse(ApiKeyCreated, await self._client.request(
            "POST", f"/v1/tenants/{_seg(tenant_id)}/keys", json={"label": label}))

    async def keys(self, tenant_id: str) -> builtins.list[ApiKey]:
        """``GET /v1/tenants/{id}/keys`` (operator key): the keys with their last use, never the keys."""
        return parse_list(ApiKey, await self._client.request("GET", f"/v1/tenants/{_seg(tenant_id)}/keys"))

    async def revoke_key(self, tenant_id: str, key_id: str) -> ApiKey:
        """``DELETE /v1/tenants/{id}/keys/{key_id}`` (operator key): refused from the next request on."""
        return parse(ApiKey, await self._client.request(
            "DELETE", f"/v1/tenants/{_seg(tenant_id)}/keys/{_seg(key_id)}"))


class AsyncAccounts(_Resource):
    async def create(
        self,
        *,
        email: str,
        password: str | None = None,
        smtp: Endpoint | None = None,
        imap: Endpoint | None = None,
        display_name: str | None = None,
        auth_kind: Literal["password", "oauth2"] = "password",
        provider_id: str | None = None,
        daily_limit: int | None = None,
    ) -> Account:
        """``POST /v1/accounts``: connect a mailbox (settings discovered when ``smtp`` is omitted)."""
        body = {"email": email, "password": password, "smtp": _base.endpoint(smtp),
                "imap": _base.endpoint(imap), "display_name": display_name, "auth_kind": auth_kind,
                "provider_id": provider_id, "daily_limit": daily_limit}
        body = {k: v for k, v in body.items() if v is not None}
        return parse(Account, await self._client.request("POST", "/v1/accounts", json=body))

    async def list(self) -> builtins.list[Account]:
        return parse_list(Account, await self._client.request("GET", "/v1/accounts"))

    async def get(self, account_id: str) -> Account:
        return parse(Account, await self._client.request("GET", f"/v1/accounts/{_seg(account_id)}"))

    async def update(
        self,
        account_id: str,
        *,
        display_name: str | None = None,
        password: str | None = None,
        smtp: Endpoint | None = None,
        imap: Endpoint | None = None,
        daily_limit: int | None = None,
    ) -> Account:
        """``PATCH /v1/accounts/{id}``: only the given fields change."""
        body = {"display_name": display_name, "password": password, "smtp": _base.endpoint(smtp),
                "imap": _base.endpoint(imap), "daily_limit": daily_limit}
        body = {k: v for k, v in body.items() if v is not None}
        return parse(Account, await self._client.request("PATCH", f"/v1/accounts/{_seg(account_id)}", json=body))

    async def delete(self, account_id: str) -> None:
        await self._client.request("DELETE", f"/v1/accounts/{_seg(account_id)}")

    async def verify(self, account_id: str) -> dict[str, Any]:
        """``POST /v1/accounts/{id}/verify``: the round-trip check, stage by stage."""
        data: dict[str, Any] = (await self._client.request(
            "POST", f"/v1/accounts/{_seg(account_id)}/verify")).json()
        return data

    async def add_alias(self, account_id: str, *, email: str) -> Account:
        path = f"/v1/accounts/{_seg(account_id)}/aliases"
        return parse(Account, await self._client.request("POST", path, json={"email": email}))

    async def confirm_alias(self, account_id: str, *, email: str, code: str) -> Account:
        path = f"/v1/accounts/{_seg(account_id)}/aliases/confirm"
        return parse(Account, await self._client.request("POST", path, json={"email": email, "code": code}))

    async def remove_alias(self, account_id: str, *, email: str) -> Account:
        path = f"/v1/accounts/{_seg(account_id)}/aliases/{_seg(email)}"
        return parse(Account, await self._client.request("DELETE", path))

    async def start_oauth(
        self,
        provider: Literal["google", "microsoft"],
        *,
        login_hint: str | None = None,
        return_url: str | None = None,
        account_id: str | None = None,
        display_name: str | None = None,
        smtp: Endpoint | None = None,
        imap: Endpoint | None = None,
    ) -> OAuthStart:
        """``POST /v1/accounts/oauth/{provider}/start``: send the user to ``authorization_url``."""
        body = {"login_hint": login_hint, "return_url": return_url, "account_id": account_id,
                "display_name": display_name, "smtp": _base.endpoint(smtp), "imap": _base.endpoint(imap)}
        body = {k: v for k, v in body.items() if v is not None}
        path = f"/v1/accounts/oauth/{_seg(provider)}/start"
        return parse(OAuthStart, await self._client.request("POST", path, json=body))

    async def switch_transport(
        self, account_id: str, *, transport: Literal["graph", "gmail_api"] | None = None,
        return_url: str | None = None,
    ) -> OAuthStart:
        """``POST /v1/accounts/{id}/switch-transport``: move a signed-in mailbox from SMTP/IMAP to its
        provider's API (e.g. Microsoft 365 with SMTP AUTH off, diagnosis ``auth.use_graph``); send
        the user to ``authorization_url`` for the one new consent."""
        body = {k: v for k, v in {"transport": transport, "return_url": return_url}.items() if v is not None}
        path = f"/v1/accounts/{_seg(account_id)}/switch-transport"
        return parse(OAuthStart, await self._client.request("POST", path, json=body))


class AsyncMessages(_Resource):
    async def send(
        self,
        *,
        to: Sequence[AddressLike],
        subject: str = "",
        text: str | None = None,
        html: str | None = None,
        account: str | None = None,
        from_: AddressLike | None = None,
        cc: Sequence[AddressLike] = (),
        bcc: Sequence[AddressLike] = (),
        reply_to: Sequence[AddressLike] = (),
        attachments: Sequence[Attachment] = (),
        headers: Mapping[str, str] | None = None,
        metadata: Mapping[str, str] | None = None,
        send_at: datetime | None = None,
        idempotency_key: str | None = None,
        multipart_threshold: int = _base.MULTIPART_THRESHOLD,
        ignore_suppression: bool = False,
    ) -> Message:
        """``POST /v1/messages``: queue a message (202); ``Message.replayed`` when the key was seen.

        Pass your own ``idempotency_key`` (e.g. ``f"invoice-{id}-v{n}"``) so that a retry after a
        crash on your side cannot send twice; without one a fresh key still makes this call's own
        retries safe. Attachments larger than ``multipart_threshold`` in total go as
        multipart/form-data instead of base64 JSON. A recipient on the suppression list makes the
        call fail with ``send.recipient_suppressed`` unless ``ignore_suppression``.
        """
        request = _base.message_request(
            to=to, subject=subject, text=text, html=html, account=account, from_=from_, cc=cc, bcc=bcc,
            reply_to=reply_to, attachments=attachments, headers=headers, metadata=metadata,
            send_at=send_at, multipart_threshold=multipart_threshold, ignore_suppression=ignore_suppression)
        key = idempotency_key or _base.new_idempotency_key()
        response = await self._client.request("POST", "/v1/messages", headers={"Idempotency-Key": key},
                                              idempotent=True, **request)
        message = parse(Message, response)
        if response.headers.get("idempotent-replayed") == "true":
            message = message.model_copy(update={"replayed": True})
        return message

    async def send_batch(self, messages: Sequence[OutgoingMessage]) -> Batch:
        """``POST /v1/messages/batch``: up to 500 messages in one call, one result per message in
        order (``Batch.results[i].ok``); items fail alone. For more, call it per chunk — see
        ``mailport send --batch``."""
        response = await self._client.request("POST", "/v1/messages/batch", idempotent=True,
                                              json=_base.batch_request(messages))
        return parse(Batch, response)

    async def list(
        self,
        *,
        status: Sequence[str] | None = None,
        account: str | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> builtins.list[Message]:
        """``GET /v1/messages``: newest first; ``before`` is a message id (the page after it)."""
        query = params(status=",".join(status) if status else None, account=account, limit=limit, before=before)
        return parse_list(Message, await self._client.request("GET", "/v1/messages", query=query))

    async def iter(self, *, status: Sequence[str] | None = None, account: str | None = None,
                   page_size: int = 100) -> AsyncIterator[Message]:
        """Every message, newest first, fetched page by page."""
        before: str | None = None
        while True:
            page = await self.list(status=status, account=account, limit=page_size, before=before)
            for message in page:
                yield message
            if len(page) < page_size:
                return
            before = page[-1].id

    async def get(self, message_id: str) -> Message:
        """``GET /v1/messages/{id}``: with recipients and the event history."""
        return parse(Message, await self._client.request("GET", f"/v1/messages/{_seg(message_id)}"))

    async def cancel(self, message_id: str) -> Message:
        path = f"/v1/messages/{_seg(message_id)}/cancel"
        return parse(Message, await self._client.request("POST", path, idempotent=True))

    async def retry(self, message_id: str) -> Message:
        """Send a failed or deferred message again now (after the cause was fixed).
        Raises ``Conflict`` (``message.not_retryable``) for any other state."""
        path = f"/v1/messages/{_seg(message_id)}/retry"
        return parse(Message, await self._client.request("POST", path))


class AsyncWebhooks(_Resource):
    async def create(self, *, url: str, event_types: Sequence[str] = (),
                     description: str | None = None) -> WebhookCreated:
        """``POST /v1/webhooks``: keep ``.secret`` — it is shown only now."""
        body = {"url": url, "event_types": list(event_types), "description": description}
        return parse(WebhookCreated, await self._client.request("POST", "/v1/webhooks", json=body))

    async def list(self) -> builtins.list[Webhook]:
        return parse_list(Webhook, await self._client.request("GET", "/v1/webhooks"))

    async def get(self, webhook_id: str) -> Webhook:
        return parse(Webhook, await self._client.request("GET", f"/v1/webhooks/{_seg(webhook_id)}"))

    async def update(self, webhook_id: str, *, url: str | None = None, event_types: Sequence[str] | None = None,
                     description: str | None = None, enabled: bool | None = None) -> Webhook:
        body = {"url": url, "event_types": list(event_types) if event_types is not None else None,
                "description": description, "enabled": enabled}
        body = {k: v for k, v in body.items() if v is not None}
        return parse(Webhook, await self._client.request("PATCH", f"/v1/webhooks/{_seg(webhook_id)}", json=body))

    async def delete(self, webhook_id: str) -> None:
        await self._client.request("DELETE", f"/v1/webhooks/{_seg(webhook_id)}")

    async def rotate_secret(self, webhook_id: str) -> str:
        """``POST /v1/webhooks/{id}/rotate-secret``: the new secret (the old one stops at once)."""
        response = await self._client.request("POST", f"/v1/webhooks/{_seg(webhook_id)}/rotate-secret")
        return str(response.json()["secret"])

    async def deliveries(self, webhook_id: str, *, limit: int = 50) -> builtins.list[Delivery]:
        path = f"/v1/webhooks/{_seg(webhook_id)}/deliveries"
        return parse_list(Delivery, await self._client.request("GET", path, query={"limit": limit}))

    async def test(self, webhook_id: str) -> Delivery:
        """``POST /v1/webhooks/{id}/test``: queue a ``webhook.test`` event to this endpoint."""
        return parse(Delivery, await self._client.request("POST", f"/v1/webhooks/{_seg(webhook_id)}/test"))


class AsyncInbox(_Resource):
    async def list(self, *, account: str | None = None, contact: str | None = None, q: str | None = None,
                   before: datetime | None = None, limit: int = 50) -> builtins.list[InboxMessage]:
        """``GET /v1/inbox/messages``: newest first; ``before`` pages by time."""
        if before is not None and before.tzinfo is None:
            raise errors.ValidationError("before must carry a time zone", field="before")
        query = params(account=account, contact=contact, q=q, limit=limit,
                       before=before.isoformat() if before else None)
        return parse_list(InboxMessage, await self._client.request("GET", "/v1/inbox/messages", query=query))

    async def get(self, message_id: str) -> InboxMessage:
        return parse(InboxMessage, await self._client.request("GET", f"/v1/inbox/messages/{_seg(message_id)}"))

    async def raw(self, message_id: str) -> bytes:
        """The message as RFC 5322 bytes."""
        return (await self._client.request("GET", f"/v1/inbox/messages/{_seg(message_id)}/raw")).content

    async def attachment(self, message_id: str, index: int) -> tuple[str, bytes]:
        """Attachment ``index`` (0-based): its content type and bytes."""
        path = f"/v1/inbox/messages/{_seg(message_id)}/attachments/{int(index)}"
        response = await self._client.request("GET", path)
        return response.headers.get("content-type", "application/octet-stream"), response.content

    async def sync_state(self, account_id: str) -> SyncState:
        return parse(SyncState, await self._client.request("GET", f"/v1/inbox/accounts/{_seg(account_id)}/sync"))

    async def sync(self, account_id: str) -> SyncState:
        """``POST /v1/inbox/accounts/{id}/sync``: fetch new mail (and bounces) now."""
        path = f"/v1/inbox/accounts/{_seg(account_id)}/sync"
        return parse(SyncState, await self._client.request("POST", path, idempotent=True))


class AsyncContacts(_Resource):
    async def upsert(self, contacts: Sequence[ContactInput]) -> ContactsUpserted:
        """``PUT /v1/contacts``: create or replace up to 1,000 contacts by your own ids."""
        body = [c.to_json() for c in contacts]
        return parse(ContactsUpserted, await self._client.request("PUT", "/v1/contacts", json=body))

    async def list(self, *, limit: int = 200, offset: int = 0) -> builtins.list[Contact]:
        query = {"limit": limit, "offset": offset}
        return parse_list(Contact, await self._client.request("GET", "/v1/contacts", query=query))

    async def iter(self, *, page_size: int = 500) -> AsyncIterator[Contact]:
        """Every contact, by id, fetched page by page."""
        offset = 0
        while True:
            page = await self.list(limit=page_size, offset=offset)
            for contact in page:
                yield contact
            if len(page) < page_size:
                return
            offset += len(page)

    async def get(self, contact_id: str) -> Contact:
        return parse(Contact, await self._client.request("GET", f"/v1/contacts/{_seg(contact_id)}"))

    async def delete(self, contact_id: str) -> None:
        await self._client.request("DELETE", f"/v1/contacts/{_seg(contact_id)}")

    async def messages(self, contact_id: str, *, before: datetime | None = None,
                       limit: int = 50) -> builtins.list[InboxMessage]:
        """Mail to and from the contact's addresses, newest first."""
        query = params(limit=limit, before=before.isoformat() if before else None)
        path = f"/v1/contacts/{_seg(contact_id)}/messages"
        return parse_list(InboxMessage, await self._client.request("GET", path, query=query))


class AsyncSuppressions(_Resource):
    async def list(self, *, limit: int = 100, after: str | None = None) -> builtins.list[Suppression]:
        """``GET /v1/suppressions``: suppressed addresses in address order (``after``: the next page)."""
        return parse_list(Suppression, await self._client.request(
            "GET", "/v1/suppressions", query=params(limit=limit, after=after)))

    async def get(self, address: str) -> Suppression:
        return parse(Suppression, await self._client.request("GET", f"/v1/suppressions/{quote(address, safe='@')}"))

    async def add(self, address: str) -> Suppression:
        """``POST /v1/suppressions``: stop mailing ``address`` (fires ``recipient.suppressed``)."""
        return parse(Suppression, await self._client.request("POST", "/v1/suppressions", json={"address": address}))

    async def remove(self, address: str) -> None:
        """``DELETE /v1/suppressions/{address}``: mail to it is accepted again."""
        await self._client.request("DELETE", f"/v1/suppressions/{quote(address, safe='@')}")


class AsyncDomains(_Resource):
    async def add(self, *, name: str, fallback: Literal["refuse", "platform"] = "refuse") -> Domain:
        """``POST /v1/domains``: a DKIM key and the records to publish."""
        return parse(Domain, await self._client.request("POST", "/v1/domains",
                                                        json={"name": name, "fallback": fallback}))

    async def list(self) -> builtins.list[Domain]:
        return parse_list(Domain, await self._client.request("GET", "/v1/domains"))

    async def get(self, domain_id: str) -> Domain:
        return parse(Domain, await self._client.request("GET", f"/v1/domains/{_seg(domain_id)}"))

    async def update(self, domain_id: str, *, fallback: Literal["refuse", "platform"]) -> Domain:
        path = f"/v1/domains/{_seg(domain_id)}"
        return parse(Domain, await self._client.request("PATCH", path, json={"fallback": fallback}))

    async def delete(self, domain_id: str) -> None:
        await self._client.request("DELETE", f"/v1/domains/{_seg(domain_id)}")

    async def records(self, domain_id: str) -> builtins.list[DnsRecord]:
        return parse_list(DnsRecord, await self._client.request("GET", f"/v1/domains/{_seg(domain_id)}/records"))

    async def check(self, domain_id: str) -> DomainCheck:
        """``POST /v1/domains/{id}/check``: look the records up now (rate-limited: RateLimited)."""
        return parse(DomainCheck, await self._client.request("POST", f"/v1/domains/{_seg(domain_id)}/check"))


class AsyncPlatform(_Resource):
    async def sender(self) -> SenderSettings:
        return parse(SenderSettings, await self._client.request("GET", "/v1/platform/sender"))

    async def update_sender(self, *, alias: str | None = None, display_name: str | None = None) -> SenderSettings:
        body = {k: v for k, v in {"alias": alias, "display_name": display_name}.items() if v is not None}
        return parse(SenderSettings, await self._client.request("PATCH", "/v1/platform/sender", json=body))

    async def request_reply_to(self, *, email: str) -> SenderSettings:
        """``POST /v1/platform/reply-to``: mails a confirmation link to ``email``."""
        return parse(SenderSettings, await self._client.request("POST", "/v1/platform/reply-to",
                                                                json={"email": email}))

    async def confirm_reply_to(self, *, token: str) -> SenderSettings:
        """``POST /v1/platform/reply-to/confirm`` with the token of the confirmation link."""
        return parse(SenderSettings, await self._client.request("POST", "/v1/platform/reply-to/confirm",
                                                                json={"token": token}))

    async def captured(self, *, limit: int = 50) -> builtins.list[CapturedMail]:
        """Platform mail kept by the capture transport (development and tests)."""
        return parse_list(CapturedMail, await self._client.request("GET", "/v1/platform/captured",
                                                                   query={"limit": limit}))

    async def captured_raw(self, capture_id: str) -> bytes:
        return (await self._client.request("GET", f"/v1/platform/captured/{_seg(capture_id)}")).content


class AsyncUiSessions(_Resource):
    async def create(self, *, user_name: str, language: str | None = None,
                     return_url: str | None = None) -> UiSession:
        """``POST /v1/ui-sessions``: a short-lived link to Settings › E-mail for your user."""
        body = {k: v for k, v in {"user_name": user_name, "language": language,
                                  "return_url": return_url}.items() if v is not None}
        return parse(UiSession, await self._client.request("POST", "/v1/ui-sessions", json=body))

    async def revoke(self, *, user_name: str) -> int:
        """``DELETE /v1/ui-sessions?user=…``: end every page session of your user; how many."""
        answer = await self._client.request("DELETE", "/v1/ui-sessions", query={"user": user_name})
        return int(answer.json().get("revoked", 0))


def _seg(value: str) -> str:
    """One path segment: ids and addresses are quoted, so ``/`` or ``?`` cannot change the route."""
    if not isinstance(value, str) or not value:
        raise errors.ValidationError("an id must be a non-empty string", field="id")
    return quote(value, safe="@")
