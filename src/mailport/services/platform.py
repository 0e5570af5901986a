"""Sending from the platform: the tenant's platform sender, its confirmed reply address, and the
send path shared by the ``platform`` and ``domain`` methods.

Platform method: ``From: "<display name>" <alias@platform domain>``, ``Reply-To:`` the tenant's
reply address — only once confirmed through the link mailed to it, so nobody can make the
platform send mail that invites replies to a stranger's mailbox — DKIM-signed ``d=<platform
domain>``, envelope sender a VERP address at the bounce host.

Domain method: ``From:`` the tenant's address at its own domain, DKIM ``d=<that domain>``,
envelope sender ``bounces+<token>@<return-path prefix>.<domain>`` (the CNAME points to the
bounce host, so SPF aligns and bounces come back naming the message). While the domain is not
sendable the message is refused (:class:`~mailport.services.domains.DomainNotSendable`) — or,
if the tenant chose so, goes out by the platform method with the own address as Reply-To.

Either way the bytes are signed at transmit time, right before they leave: the signature then
covers exactly what is sent, and a domain that was suspended meanwhile is caught.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import re
import secrets as random
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from mailport.adapters.dkim import DkimSigner, public_key_b64
from mailport.adapters.platform import CaptureTransport, PlatformTransport, load_platform_dkim_key
from mailport.adapters.smtp import SendResult
from mailport.adapters.storage.database import Database
from mailport.adapters.storage.domain_repository import PlatformSenderRepository
from mailport.adapters.storage.tables import Tenant
from mailport.adapters.storage.tables_domains import PlatformSender
from mailport.clock import Clock
from mailport.core.addresses import parse_address
from mailport.core.displaynames import check_platform_display_name
from mailport.core.dnsauth import RecordKind, RequiredRecord, dkim_record_value, normalize_domain
from mailport.core.message import Attachment, Mailbox, MessageDraft, build_message
from mailport.core.returnpath import verp_address
from mailport.errors import ConfigurationError, Conflict, NotFound, TryLater, ValidationError
from mailport.i18n import gettext
from mailport.ids import new_id
from mailport.services.domains import DomainNotSendable, DomainSending, DomainService
from mailport.settings import Settings

__all__ = [
    "PLATFORM_SENDER",
    "REPLY_TO_TTL",
    "Method",
    "PlatformSenderView",
    "PlatformService",
    "ReplyToRateLimited",
    "SendPlan",
    "SentView",
    "is_platform_sender",
]

Method = Literal["platform", "domain"]
PLATFORM_SENDER = "platform"
REPLY_TO_TTL = timedelta(hours=24)
REPLY_TO_INTERVAL = timedelta(seconds=60)


class ReplyToRateLimited(TryLater):
    """A confirmation mail was sent a moment ago."""

    code = "platform.reply_to_rate_limited"
_ALIAS = re.compile(r"^[a-z0-9](?:[a-z0-9.-]{0,62}[a-z0-9])?$")
_RESERVED_ALIASES = frozenset({"postmaster", "abuse", "hostmaster", "webmaster", "admin", "root",
                               "no-reply", "noreply", "bounces", "mailer-daemon", "security"})


def _(msgid: str) -> str:  # marks texts for extraction; translated with the user's language at use
    return msgid


CONFIRM_SUBJECT = _("Confirm {address} as the reply address")
CONFIRM_BODY = _(
    "Hello,\n\n"
    "{tenant} wants replies to the mail it sends to go to {address}.\n"
    "If that is right, open this link to confirm:\n\n{link}\n\n"
    "The link is valid for 24 hours. If you did not ask for this, ignore this message; nothing "
    "changes without your confirmation."
)


@dataclass(frozen=True, slots=True)
class PlatformSenderView:
    alias: str
    address: str
    display_name: str
    reply_to: str | None
    reply_to_pending: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"alias": self.alias, "address": self.address, "display_name": self.display_name,
                "reply_to": self.reply_to, "reply_to_pending": self.reply_to_pending}


@dataclass(frozen=True, slots=True)
class SendPlan:
    """Who a platform/domain message is from and how it is signed and returned."""

    method: Method
    from_: Mailbox
    reply_to: tuple[Mailbox, ...]
    signer: DkimSigner
    return_path_host: str
    domain_id: str | None = None
    fell_back: bool = False

    def envelope_from(self, token: str) -> str:
        return verp_address(token=token, host=self.return_path_host)

    @property
    def sender_key(self) -> str:
        """What the outbox stores in place of an account id: ``platform`` or the domain's id."""
        return self.domain_id if self.method == "domain" and self.domain_id else PLATFORM_SENDER


@dataclass(frozen=True, slots=True)
class SentView:
    id: str
    method: Method
    mail_from: str
    from_header: str
    rcpt_to: tuple[str, ...]
    header_message_id: str
    fell_back: bool
    result: SendResult = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "method": self.method, "envelope_from": self.mail_from, "from": self.from_header,
            "rcpt_to": list(self.rcpt_to), "header_message_id": self.header_message_id,
            "fell_back_to_platform": self.fell_back,
            "accepted": list(self.result.accepted), "server_text": self.result.server_text,
        }


def is_platform_sender(sender_key: str) -> bool:
    """Whether an outbox message's ``account_id`` names the platform or an own domain (``dom_…``)
    rather than a connected mailbox."""
    return sender_key == PLATFORM_SENDER or sender_key.startswith("dom_")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _default_alias(name: str) -> str:
    """``Bakkerij Jansen B.V.`` → ``bakkerij-jansen-b-v``: ASCII, dashes, at most 40 chars."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:40].strip("-")
    return slug or "tenant"


class PlatformService:
    def __init__(
        self,
        *,
        db: Database,
        domains: DomainService,
        transport: PlatformTransport | None,
        settings: Settings,
        clock: Clock,
        dkim_key: Callable[[], str] | None = None,
        make_token: Callable[[], str] = lambda: new_id("msg"),
    ) -> None:
        self.db = db
        self.domains = domains
        self.transport = transport
        self.settings = settings
        self.clock = clock
        self._dkim_key_loader = dkim_key or (lambda: load_platform_dkim_key(settings))
        self._dkim_key: str | None = None
        self.make_token = make_token

    # -- configuration ---------------------------------------------------------------------

    @property
    def platform_domain(self) -> str:
        if not self.settings.platform_domain:
            raise ConfigurationError("platform sending needs MAILPORT_PLATFORM_DOMAIN", code="config.platform_missing")
        return normalize_domain(self.settings.platform_domain, field_name="MAILPORT_PLATFORM_DOMAIN")

    def _transport(self) -> PlatformTransport:
        if self.transport is None:
            raise ConfigurationError("platform sending is off: set MAILPORT_PLATFORM_SMTP_URL",
                                     code="config.platform_missing")
        return self.transport

    def _platform_signer(self) -> DkimSigner:
        if self._dkim_key is None:
            self._dkim_key = self._dkim_key_loader()
        return DkimSigner(domain=self.platform_domain, selector=self.settings.platform_dkim_selector,
                          private_pem=self._dkim_key)

    def platform_dkim_record(self) -> RequiredRecord:
        """The TXT record the operator publishes for the platform domain's key."""
        signer = self._platform_signer()
        return RequiredRecord(kind=RecordKind.DKIM, type="TXT",
                              name=f"{signer.selector}._domainkey.{signer.domain}",
                              value=dkim_record_value(public_key_b64(signer.private_pem)))

    # -- the tenant's platform sender ------------------------------------------------------

    def sender(self, tenant_id: str) -> PlatformSenderView:
        with self.db.session() as s:
            return self._sender_view(s, tenant_id)

    def _sender_view(self, s: Any, tenant_id: str) -> PlatformSenderView:
        tenant = s.get(Tenant, tenant_id)
        if tenant is None:
            raise NotFound("no such tenant")
        row = PlatformSenderRepository(s).get(tenant_id)
        if row is None:
            row = self._create_sender(s, tenant)
        display = row.display_name or tenant.display_name or tenant.name
        return PlatformSenderView(alias=row.alias, address=f"{row.alias}@{self.platform_domain}",
                                  display_name=display, reply_to=row.reply_to,
                                  reply_to_pending=row.reply_to_pending)

    def _check_name(self, s: Any, tenant_id: str, name: str, *, field: str) -> None:
        """:func:`check_platform_display_name` with the brand rule's inputs for ``tenant_id``: its own
        registered names are allowed, the host product's name is not (a tenant's "<product>
        Support" would pass for the platform itself)."""
        tenant = s.get(Tenant, tenant_id)  # loaded already by _sender_view: no second query
        own = (tenant.name, tenant.display_name or "") if tenant is not None else ()
        product = self.settings.product_name
        check_platform_display_name(name, field=field, own_names=own, more_brands=(product,) if product else ())

    def _create_sender(self, s: Any, tenant: Tenant) -> PlatformSender:
        base = _default_alias(tenant.display_name or tenant.name)
        alias = base
        senders = PlatformSenderRepository(s)
        while alias in _RESERVED_ALIASES or senders.alias_taken(alias):
            alias = f"{base[:33]}-{random.token_hex(3)}"
        now = self.clock.now()
        row = PlatformSender(tenant_id=tenant.id, alias=alias, display_name=None, reply_to=None,
                             reply_to_pending=None, reply_to_token_hash=None, reply_to_requested_at=None,
                             reply_to_confirmed_at=None, created_at=now, updated_at=now)
        return senders.add(row)

    def configure(self, tenant_id: str, *, alias: str | None = None,
                  display_name: str | None = None) -> PlatformSenderView:
        """Set the alias (local part at the platform domain) and/or the From display name."""
        with self.db.session() as s:
            self._sender_view(s, tenant_id)  # creates the row with defaults when missing
            row = PlatformSenderRepository(s).get(tenant_id)
            assert row is not None
            if alias is not None:
                wanted = alias.strip().lower()
                if not _ALIAS.fullmatch(wanted) or ".." in wanted or wanted in _RESERVED_ALIASES:
                    raise ValidationError(
                        "the alias must be 1-64 letters, digits, dots or dashes (not a reserved name)", field="alias"
                    )
                if PlatformSenderRepository(s).alias_taken(wanted, other_than=tenant_id):
                    raise Conflict("this alias is taken", code="platform.alias_taken", field="alias")
                row.alias = wanted
            if display_name is not None:
                self._check_name(s, tenant_id, display_name, field="display_name")
                Mailbox.parse(f"x@{self.platform_domain}", name=display_name, field="display_name")
                row.display_name = display_name.strip() or None
            row.updated_at = self.clock.now()
            s.flush()
            return self._sender_view(s, tenant_id)

    async def request_reply_to(self, tenant_id: str, email: str, *, lang: str = "en") -> PlatformSenderView:
        """Remember ``email`` as the pending reply address and mail it a confirmation link."""
        address = parse_address(email, field="reply_to")
        token = f"{tenant_id}.{random.token_urlsafe(24)}"
        now = self.clock.now()
        with self.db.session() as s:
            view = self._sender_view(s, tenant_id)
            row = PlatformSenderRepository(s).get(tenant_id)
            assert row is not None
            # Each request mails a stranger's address from the platform: keep that rare.
            if row.reply_to_requested_at is not None and now - row.reply_to_requested_at < REPLY_TO_INTERVAL:
                wait = math.ceil((row.reply_to_requested_at + REPLY_TO_INTERVAL - now).total_seconds())
                raise ReplyToRateLimited(f"a confirmation mail was sent a moment ago; try again in {wait} s",
                                         retry_after=wait)
            row.reply_to_pending = address.email
            row.reply_to_token_hash = _token_hash(token)
            row.reply_to_requested_at = now
            row.updated_at = now
            tenant_name = view.display_name
        link = f"{self.settings.effective_public_url}/v1/platform/reply-to/confirm?token={token}"
        subject = gettext(lang, CONFIRM_SUBJECT).format(address=address.email)
        body = gettext(lang, CONFIRM_BODY).format(tenant=tenant_name, address=address.email, link=link)
        system = self._system_plan(sender_name=self.settings.product_name or tenant_name)
        await self._send_draft(
            tenant_id, plan=system,
            draft=MessageDraft.create(from_=system.from_, to=[address.email], subject=subject, text=body),
        )
        return self.sender(tenant_id)

    def pending_reply_to(self, token: str) -> PlatformSenderView:
        """What ``token`` would confirm, changing nothing — the page a GET of the link shows (mail
        scanners follow links; only the reader's POST from that page confirms)."""
        return self.confirm_reply_to(token, dry_run=True)

    def confirm_reply_to(self, token: str, *, dry_run: bool = False) -> PlatformSenderView:
        """Confirm the pending reply address with the token from the link (no API key needed)."""
        tenant_id, dot, _secret = token.partition(".")
        invalid = ValidationError("this confirmation link is not valid (any more)",
                                  code="platform.reply_to_link_invalid")
        if not dot or not tenant_id:
            raise invalid
        now = self.clock.now()
        with self.db.session() as s:
            row = PlatformSenderRepository(s).get(tenant_id)
            if row is None or not row.reply_to_token_hash or not row.reply_to_pending:
                raise invalid
            if not hmac.compare_digest(row.reply_to_token_hash, _token_hash(token)):
                raise invalid
            if row.reply_to_requested_at is None or now - row.reply_to_requested_at > REPLY_TO_TTL:
                raise ValidationError("this confirmation link has expired; ask for a new one",
                                      code="platform.reply_to_link_expired")
            if dry_run:
                return self._sender_view(s, tenant_id)
            row.reply_to = row.reply_to_pending
            row.reply_to_pending = None
            row.reply_to_token_hash = None
            row.reply_to_confirmed_at = now
            row.updated_at = now
            s.flush()
            return self._sender_view(s, tenant_id)

    # -- sending ---------------------------------------------------------------------------

    @property
    def bounce_host(self) -> str:
        return self.domains.bounce_host

    def _system_plan(self, *, sender_name: str) -> SendPlan:
        # The name the recipient knows (the host product's, or the business's), not ours.
        return SendPlan(method="platform", from_=Mailbox.parse(f"no-reply@{self.platform_domain}", name=sender_name),
                        reply_to=(), signer=self._platform_signer(), return_path_host=self.bounce_host)

    def _platform_plan(self, tenant_id: str, *, from_name: str | None, reply_to: Sequence[Mailbox] = (),
                       fell_back: bool = False) -> SendPlan:
        with self.db.session() as s:
            sender = self._sender_view(s, tenant_id)
            if from_name:  # the caller's name for this message; the stored one was checked when set
                self._check_name(s, tenant_id, from_name, field="from")
        confirmed = (Mailbox.parse(sender.reply_to, field="reply_to"),) if sender.reply_to else ()
        return SendPlan(
            method="platform",
            from_=Mailbox.parse(sender.address, name=from_name if from_name is not None else sender.display_name),
            reply_to=confirmed or tuple(reply_to), signer=self._platform_signer(),
            return_path_host=self.bounce_host, fell_back=fell_back,
        )

    def plan(self, tenant_id: str, *, method: Method, from_email: str | None = None,
             from_name: str | None = None) -> SendPlan:
        """Decide From, Reply-To, signer and return path for a message of ``method``.

        ``platform``: caller-given Reply-To is not allowed (only the confirmed one is used).
        ``domain``: ``from_email`` must be at one of the tenant's own domains.
        """
        if method == "platform":
            return self._platform_plan(tenant_id, from_name=from_name)
        if method != "domain":
            raise ValidationError("method must be 'platform' or 'domain'", field="method")
        if not from_email:
            raise ValidationError("the domain method needs a from address at the tenant's domain", field="from")
        sender = Mailbox.parse(from_email, name=from_name or "", field="from")
        if not from_name:
            with self.db.session() as s:
                tenant = s.get(Tenant, tenant_id)
                display = (tenant.display_name or tenant.name) if tenant else ""
            sender = Mailbox.parse(from_email, name=display, field="from")
        sending = self.domains.sending_for(tenant_id, sender.address.ascii_domain)
        if sending == "platform":
            # The own address cannot be signed for now: send as the platform, replies still reach it.
            return self._platform_plan(tenant_id, from_name=sender.name, reply_to=(sender,), fell_back=True)
        assert isinstance(sending, DomainSending)
        return SendPlan(method="domain", from_=sender, reply_to=(), signer=sending.signer,
                        return_path_host=sending.return_path_host, domain_id=sending.domain_id)

    async def transmit(self, plan: SendPlan, *, tenant_id: str | None, token: str, raw: bytes,
                       rcpt_to: Sequence[str]) -> SendResult:
        """Sign ``raw`` with the plan's key and hand it to the platform transport."""
        signed = await asyncio.to_thread(plan.signer.sign, raw)
        result = await self._transport().send(tenant_id=tenant_id, mail_from=plan.envelope_from(token),
                                              rcpt_to=rcpt_to, raw=signed)
        if result.refusal is not None:  # a single notice: nobody got it is an error here
            raise result.refusal
        return result

    async def transmit_stored(self, tenant_id: str, *, sender_key: str, mail_from: str, rcpt_to: Sequence[str],
                              raw: bytes) -> SendResult:
        """Send bytes the outbox accepted earlier with ``plan.sender_key``: sign and hand over.

        Refusals are not raised: the result carries every recipient's reply
        (:meth:`~mailport.adapters.smtp.SendResult.verdicts`).

        The domain's state is checked again now: a domain suspended since the message was
        accepted raises :class:`~mailport.services.domains.DomainNotSendable` (its bytes carry
        the domain's From, so even a tenant who chose the platform fallback gets a clear failure
        here rather than a message re-addressed behind their back).
        """
        if sender_key == PLATFORM_SENDER:
            signer = self._platform_signer()
        else:
            signer = await self.domain_signer(tenant_id, sender_key)
        return await self.relay(tenant_id, mail_from=mail_from, rcpt_to=rcpt_to,
                                raw=await asyncio.to_thread(signer.sign, raw))

    def platform_signer(self) -> DkimSigner:
        """The platform domain's DKIM signer (``d=<platform domain>``)."""
        return self._platform_signer()

    async def domain_signer(self, tenant_id: str, domain_id: str) -> DkimSigner:
        """The own domain's signer, if the domain may send right now (else
        :class:`~mailport.services.domains.DomainNotSendable`)."""
        domain = await asyncio.to_thread(self.domains.get, tenant_id, domain_id)
        sending = await asyncio.to_thread(self.domains.sending_for, tenant_id, domain.name)
        if not isinstance(sending, DomainSending):
            raise DomainNotSendable(
                f"mail from {domain.unicode_name} is stopped: the domain is {domain.state}",
                domain=domain.name, state=domain.state,
            )
        return sending.signer

    async def relay(self, tenant_id: str | None, *, mail_from: str, rcpt_to: Sequence[str],
                    raw: bytes) -> SendResult:
        """Hand signed bytes to the platform's smarthost (or the development capture)."""
        return await self._transport().send(tenant_id=tenant_id, mail_from=mail_from, rcpt_to=rcpt_to,
                                            raw=raw)

    async def _send_draft(self, tenant_id: str, *, plan: SendPlan, draft: MessageDraft) -> SentView:
        token = self.make_token()
        built = build_message(draft, message_id_domain=plan.signer.domain, now=self.clock.now(),
                              make_id=lambda: token, max_bytes=self.settings.max_message_bytes)
        result = await self.transmit(plan, tenant_id=tenant_id, token=token, raw=built.raw,
                                     rcpt_to=built.envelope.rcpt_to)
        return SentView(id=token, method=plan.method, mail_from=plan.envelope_from(token),
                        from_header=str(plan.from_.header_address()), rcpt_to=built.envelope.rcpt_to,
                        header_message_id=built.message_id, fell_back=plan.fell_back, result=result)

    async def send(
        self,
        tenant_id: str,
        *,
        method: Method,
        to: Sequence[str | Mailbox],
        subject: str,
        text: str | None = None,
        html: str | None = None,
        cc: Sequence[str | Mailbox] = (),
        bcc: Sequence[str | Mailbox] = (),
        reply_to: Sequence[str | Mailbox] = (),
        attachments: Sequence[Attachment] = (),
        headers: dict[str, str] | None = None,
        from_email: str | None = None,
        from_name: str | None = None,
    ) -> SentView:
        """Send one message now by the platform or domain method (the direct path, no outbox)."""
        if method == "platform" and reply_to:
            raise ValidationError("platform mail replies go to the confirmed reply address; "
                                  "set it with the platform settings", field="reply_to")
        plan = await asyncio.to_thread(self.plan, tenant_id, method=method, from_email=from_email,
                                       from_name=from_name)
        draft = MessageDraft.create(
            from_=plan.from_, to=to, cc=cc, bcc=bcc, reply_to=list(plan.reply_to) or list(reply_to),
            subject=subject, text=text, html=html, attachments=attachments, headers=headers,
        )
        return await self._send_draft(tenant_id, plan=plan, draft=draft)

    # -- development capture ---------------------------------------------------------------

    def capture(self) -> CaptureTransport:
        if not isinstance(self.transport, CaptureTransport):
            raise NotFound("captured mail exists only with MAILPORT_PLATFORM_SMTP_URL=capture",
                           code="platform.capture_off")
        return self.transport
