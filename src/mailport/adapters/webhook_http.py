"""POSTing webhook deliveries to tenant-supplied URLs, behind the SSRF guard.

A webhook URL is typed in by a tenant, so it must not become a way into the operator's network:
the request goes through :func:`mailport.adapters.http.new_client` with a guard — the host is
resolved through :class:`mailport.adapters.dns.DnsResolver`, every address is checked by
:mod:`mailport.core.netpolicy` (a private one only as the operator allows:
``Settings.private_hosts``), and the connection goes to the checked IP while TLS still verifies
the certificate against the name (so a name that resolved to a public address when it was
registered and to 127.0.0.1 now — DNS rebinding — is refused now). Before that, the URL must
still meet the registration's rule (:func:`mailport.core.webhooks.check_webhook_url`: https, port,
no credentials, host spelling).
Redirects are not followed:
a receiver that moved must be edited by its owner, not silently chased to a new host.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpcore
import httpx

from mailport.adapters.http import Guard, new_client, translate_http_error
from mailport.core.netpolicy import AllowPrivate
from mailport.core.webhooks import check_webhook_url, webhook_host_not_allowed
from mailport.errors import HostNotAllowed, ProtocolError, RemoteTimeout, ValidationError

if TYPE_CHECKING:
    from mailport.adapters.dns import Resolver

__all__ = ["WebhookPoster", "WebhookResponse"]

USER_AGENT = "mailport-webhooks/0.1"
_MAX_HEAD = 16 * 1024
_MAX_BODY_READ = 4 * 1024  # the receiver's answer is logged in part, never processed


@dataclass(frozen=True, slots=True)
class WebhookResponse:
    status: int
    excerpt: str  # the start of the receiver's body, for the delivery log


def check_url(url: str) -> None:
    """Refuse a URL httpx, which delivers, cannot parse (``https://0177.0.0.1/`` looks like an IPv4
    address and is not one; an invalid IDNA name): a :class:`ValidationError` when it is given,
    not an unexpected exception at every delivery."""
    try:
        httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ValidationError(f"the webhook URL is not valid: {exc}", field="url",
                              code="webhook.url_invalid") from exc


class WebhookPoster:
    def __init__(self, *, resolver: Resolver, allow_private: AllowPrivate, ca_file: str = "",
                 backend: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._guard = Guard.of(resolver, allow_private=allow_private)
        self._allow_private = allow_private
        self._ca_file = ca_file
        self._backend = backend

    async def post(
        self, url: str, *, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> WebhookResponse:
        """POST ``body``; any HTTP status is returned, transport failures raise
        :class:`~mailport.errors.RemoteError` subclasses (``HostNotAllowed`` for the guard)."""
        # The registration's rule once more: a row saved under an older rule (any port, a
        # private host's IP literal) fails its delivery, recorded, instead of being posted to.
        check_url(url)
        try:
            check_webhook_url(url, allow_private=self._allow_private)
        except HostNotAllowed as exc:
            # Refused for its spelling (``localhost``, ``127.1``): as permanent as a bad port, so a
            # ValidationError that no retry makes valid, not the network error a name resolving
            # into a private network is (that name may resolve elsewhere later).
            raise ValidationError(exc.message, field="url", code=exc.code) from exc
        try:
            return await asyncio.wait_for(self._post(url, body, headers, timeout), timeout)
        except TimeoutError as exc:
            raise RemoteTimeout("The webhook receiver did not answer in time", url=url) from exc

    async def _post(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> WebhookResponse:
        try:
            async with new_client(timeout=timeout, ca_file=self._ca_file, guard=self._guard, keepalive=False,
                                  backend=self._backend, headers={"User-Agent": USER_AGENT}) as client, \
                    client.stream("POST", url, content=body, headers=dict(headers)) as response:
                if sum(len(k) + len(v) + 4 for k, v in response.headers.raw) > _MAX_HEAD:
                    raise ProtocolError("The webhook receiver's answer is too large", url=url)
                excerpt = bytearray()
                with contextlib.suppress(TimeoutError, httpx.HTTPError):
                    async with asyncio.timeout(1.0):
                        async for chunk in response.aiter_raw():
                            excerpt += chunk
                            if len(excerpt) >= _MAX_BODY_READ:
                                break
                return WebhookResponse(status=response.status_code,
                                       excerpt=bytes(excerpt[:_MAX_BODY_READ]).decode("utf-8", "replace")[:500])
        except HostNotAllowed as exc:
            if exc.code != "net.host_not_allowed":
                raise
            # A name that resolved into a private network: the webhook's words; still a network
            # error, retried (the name may point elsewhere later).
            raise webhook_host_not_allowed(exc) from exc
        except httpx.HTTPError as exc:
            raise translate_http_error(exc, url=url, what="the webhook receiver") from exc
