"""The inbox as the host product reads it: messages, attachments, sync state, bounce intake.

:class:`InboxService` lists and shows synced mail (with linked contacts), reads a message's whole
bytes on demand — fetched from the server the first time a page or the API opens it, then cached —
and runs a one-off sync of an account (:meth:`~InboxService.sync_account`). The long-running sync
lives in :mod:`mailport.services.inbox_sync` (the engine) and :mod:`mailport.services.imap_sync`
(the folder sync over IMAP); storing synced mail in :mod:`mailport.services.inbox_store`.

Per folder pass (decided by :func:`mailport.core.syncplan.plan_folder`): a new or changed
UIDVALIDITY marks the stored rows stale and searches the window (default 90 days) again;
otherwise new UIDs are fetched, flags refreshed and expunged UIDs removed. Messages that look like
delivery reports are read whole and parsed with :mod:`mailport.core.bounces`; a bounce is linked
to the sent message (Message-ID, quoted headers, References, VERP token) which becomes
``bounced`` with a ``message.bounced`` event. Replies are linked to the sent message they answer.
New INBOX mail after the first pass fires ``message.received``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email.message import Message as EmailMessage
from email.policy import default as default_policy
from typing import Any

from mailport.adapters.storage.database import Database
from mailport.adapters.storage.inbox_repository import ContactRepository, InboxRepository
from mailport.adapters.storage.tables_inbox import InboxFolder, InboxMessage, InboxSync
from mailport.clock import Clock
from mailport.core.bounces import parse_bounce
from mailport.core.contacts import address_key
from mailport.core.summary import snippet_of_message
from mailport.errors import MailportError, NotFound, ValidationError
from mailport.services.accounts import AccountService
from mailport.services.inbox_store import InboxStore
from mailport.services.mailbox_sync import FolderReport, MailboxSyncs, RawLocation, SyncReport

__all__ = [
    "AttachmentData",
    "FolderReport",
    "InboxMessageView",
    "InboxService",
    "SyncReport",
    "SyncStateView",
]


@dataclass(frozen=True, slots=True)
class SyncStateView:
    account_id: str
    enabled: bool
    state: str
    last_sync_at: datetime | None
    error_code: str | None
    error: str | None
    worker: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id, "enabled": self.enabled, "state": self.state,
            "last_sync_at": self.last_sync_at.isoformat() if self.last_sync_at else None,
            "error": ({"code": self.error_code, "message": self.error} if self.error_code else None),
        }


@dataclass(frozen=True, slots=True)
class InboxMessageView:
    id: str
    account_id: str
    folder: str
    direction: str
    uid: int | None
    header_message_id: str | None
    in_reply_to: str | None
    references: list[str]
    thread_id: str
    subject: str
    from_: dict[str, str | None]
    to: list[dict[str, Any]]
    cc: list[dict[str, Any]]
    date: datetime | None
    received_at: datetime | None
    flags: list[str]
    size: int
    snippet: str
    sent_message_id: str | None
    bounce: dict[str, Any] | None
    contacts: list[str] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "account_id": self.account_id, "folder": self.folder, "direction": self.direction,
            "message_id_header": self.header_message_id, "in_reply_to": self.in_reply_to,
            "references": self.references, "thread_id": self.thread_id, "subject": self.subject,
            "from": self.from_, "to": self.to, "cc": self.cc,
            "date": self.date.isoformat() if self.date else None,
            "received_at": self.received_at.isoformat() if self.received_at else None,
            "flags": self.flags, "seen": "\\Seen" in self.flags, "size": self.size, "snippet": self.snippet,
            "sent_message_id": self.sent_message_id, "bounce": self.bounce, "contacts": self.contacts,
            "attachments": self.attachments, "has_attachments": bool(self.attachments),
        }


@dataclass(frozen=True, slots=True)
class AttachmentData:
    index: int
    filename: str | None
    content_type: str
    data: bytes



class InboxService:
    def __init__(self, *, db: Database, accounts: AccountService, clock: Clock, store: InboxStore,
                 syncs: MailboxSyncs) -> None:
        self.db = db
        self.accounts = accounts
        self.clock = clock
        self.store = store
        self.syncs = syncs

    async def sync_account(self, tenant_id: str, account_id: str, *, backfill: bool = True) -> SyncReport:
        """One complete pass (connect, sync every synced folder, disconnect), recording the state.

        ``backfill``: also fill what the pass listed without (snippets a lazy first sync left
        out), as the engine does right after; False stops once the messages are listed."""
        await asyncio.to_thread(self.store.set_state, tenant_id, account_id, state="syncing")
        try:
            mailbox, _ = await self.syncs.for_account(tenant_id, account_id)
            async with mailbox.connect(tenant_id, account_id) as conn:
                report = await conn.sync_pass()
                if backfill:
                    await conn.backfill()
        except MailportError as exc:
            await asyncio.to_thread(self.store.record_failure, tenant_id, account_id, exc)
            raise
        await asyncio.to_thread(self.store.record_success, tenant_id, account_id)
        return report

    # -- links -------------------------------------------------------------------------------------
    def ingest_bounce(self, tenant_id: str, raw: bytes) -> str | None:
        """A delivery report received outside a synced inbox (e.g. at the platform's return-path
        address): parse it and, if it is a bounce of something this tenant sent, mark that message
        bounced and fire ``message.bounced``. Returns the sent message's id, or None."""
        report = parse_bounce(raw)
        if not report.is_bounce:
            return None
        with self.db.session() as s:
            return self.store.apply_bounce(s, InboxRepository(s), tenant_id, None, report, now=self.clock.now())


    # -- sync state ----------------------------------------------------------------------------------
    def sync_state(self, tenant_id: str, account_id: str) -> SyncStateView:
        self.accounts.get(tenant_id, account_id)  # NotFound for another tenant's account
        with self.db.session() as s:
            row = InboxRepository(s).find_sync(tenant_id=tenant_id, account_id=account_id)
            if row is None:
                return SyncStateView(account_id=account_id, enabled=True, state="pending", last_sync_at=None,
                                     error_code=None, error=None, worker=None)
            return _state_view(row)

    def set_enabled(self, tenant_id: str, account_id: str, *, enabled: bool) -> SyncStateView:
        self.accounts.get(tenant_id, account_id)
        now = self.clock.now()
        with self.db.session() as s:
            repo = InboxRepository(s)
            repo.sync_row(tenant_id=tenant_id, account_id=account_id, now=now)
            values: dict[str, Any] = {"enabled": enabled, "updated_at": now}
            if not enabled:
                values["state"] = "disabled"
            repo.set_sync(account_id=account_id, values=values)
        return self.sync_state(tenant_id, account_id)

    # -- reading -------------------------------------------------------------------------------------
    def list_messages(
        self, tenant_id: str, *, account_id: str | None = None, contact_id: str | None = None,
        q: str | None = None, before: datetime | None = None, limit: int = 50,
    ) -> list[InboxMessageView]:
        if not 1 <= limit <= 200:
            raise ValidationError("limit must be between 1 and 200", field="limit")
        if q is not None and len(q) > 200:
            raise ValidationError("the search text is longer than 200 characters", field="q")
        if before is not None and before.tzinfo is None:
            raise ValidationError("before must carry a time zone", field="before")
        with self.db.session() as s:
            addresses: list[str] | None = None
            if contact_id is not None:
                contact = ContactRepository(s).get(tenant_id=tenant_id, contact_id=contact_id)
                addresses = [a for a in (address_key(x) for x in contact.addresses) if a]
            if account_id is not None:
                self.accounts.get(tenant_id, account_id)
            rows = InboxRepository(s).list_messages(tenant_id=tenant_id, account_id=account_id, addresses=addresses,
                                           q=q, before=before, limit=limit)
            return self._views(s, tenant_id, rows)

    def get_message(self, tenant_id: str, message_id: str) -> InboxMessageView:
        with self.db.session() as s:
            row = InboxRepository(s).get(tenant_id=tenant_id, message_id=message_id)
            return self._views(s, tenant_id, [row])[0]

    def sent_states(self, tenant_id: str, messages: Sequence[InboxMessageView]) -> dict[str, tuple[str, str]]:
        """For the Sent-folder copies among ``messages`` that went out through the outbox: inbox
        message id → (outbox message id, its state) — a copy of an invoice that bounced says so."""
        copies = {m.header_message_id: m.id for m in messages if m.direction == "out" and m.header_message_id}
        if not copies:
            return {}
        with self.db.session() as s:
            sent = InboxRepository(s).sent_by_header_ids(tenant_id=tenant_id, header_ids=list(copies))
        return {copies[header_id]: found for header_id, found in sent.items()}

    def linked_to(self, tenant_id: str, sent_message_id: str) -> list[InboxMessageView]:
        """Replies and bounce reports linked to a message sent through the outbox, oldest first."""
        with self.db.session() as s:
            rows = InboxRepository(s).linked_to(tenant_id=tenant_id, sent_message_id=sent_message_id)
            return self._views(s, tenant_id, rows)

    def _views(self, s: Any, tenant_id: str, rows: Sequence[InboxMessage]) -> list[InboxMessageView]:
        repo = InboxRepository(s)
        folders: dict[int, InboxFolder] = {}
        people = repo.participants_of([r.id for r in rows])
        all_addresses = sorted({a for pairs in people.values() for _, a in pairs})
        contacts = ContactRepository(s).contacts_for(tenant_id=tenant_id, addresses=all_addresses)
        views = []
        for row in rows:
            if row.folder_id not in folders:
                folders[row.folder_id] = repo.folder_of(row.folder_id)
            linked = sorted({c for _, a in people.get(row.id, []) for c in contacts.get(a, [])})
            views.append(InboxMessageView(
                id=row.id, account_id=row.account_id, folder=folders[row.folder_id].name, direction=row.direction,
                uid=row.uid, header_message_id=row.header_message_id, in_reply_to=row.in_reply_to,
                references=list(row.reference_ids or []), thread_id=row.thread_id, subject=row.subject,
                from_={"name": row.from_name, "email": row.from_email}, to=list(row.to or []),
                cc=list(row.cc or []), date=row.date, received_at=row.internal_date, flags=list(row.flags or []),
                size=row.size, snippet=row.snippet, sent_message_id=row.sent_message_id, bounce=row.bounce,
                contacts=linked, attachments=list(row.attachments or []),
            ))
        return views

    async def raw(self, tenant_id: str, message_id: str) -> bytes:
        """The message's RFC 5322 bytes: from the cache, else fetched from the server and cached."""
        def cached_or_location() -> tuple[str, bytes | None, RawLocation, bool]:
            with self.db.session() as s:
                repo = InboxRepository(s)
                row = repo.get(tenant_id=tenant_id, message_id=message_id)
                folder = repo.folder_of(row.folder_id)
                where = RawLocation(folder=folder.name, uidvalidity=row.uidvalidity, uid=row.uid)
                return row.account_id, repo.body(row.id), where, row.snippet_pending

        account_id, cached, where, snippet_pending = await asyncio.to_thread(cached_or_location)
        if cached is not None:
            return cached
        if where.uid is None:
            raise NotFound("the message is being re-synchronized; try again shortly", resource="inbox_message")
        mailbox, _ = await self.syncs.for_account(tenant_id, account_id)
        raw = await mailbox.fetch_raw(tenant_id, account_id, where)
        if raw is None:
            raise NotFound("the message was deleted on the server or its folder changed; it will reappear "
                           "after the next sync if it still exists", resource="inbox_message")
        def save(repo: InboxRepository) -> None:
            repo.save_body(message_id=message_id, raw=raw, now=self.clock.now())
            if snippet_pending:  # listed before its snippet was filled: the bytes are here now
                repo.update_message(message_id, snippet=snippet_of_message(raw), snippet_pending=False)

        await asyncio.to_thread(self.store.in_repo, save)
        return raw

    async def attachment(self, tenant_id: str, message_id: str, index: int) -> AttachmentData:
        """Attachment number ``index`` (0-based, in MIME order) of a message."""
        if index < 0:
            raise ValidationError("attachment numbers start at 0", field="n")
        raw = await self.raw(tenant_id, message_id)
        parts = _attachments(message_from_bytes(raw, policy=default_policy))
        if index >= len(parts):
            raise NotFound("no such attachment", resource="attachment")
        part = parts[index]
        payload = part.get_payload(decode=True)
        return AttachmentData(index=index, filename=part.get_filename(), content_type=part.get_content_type(),
                              data=payload if isinstance(payload, bytes) else b"")

    def attachment_list(self, raw: bytes) -> list[dict[str, Any]]:
        parts = _attachments(message_from_bytes(raw, policy=default_policy))
        return [{"index": i, "filename": p.get_filename(), "content_type": p.get_content_type()}
                for i, p in enumerate(parts)]


def _state_view(row: InboxSync) -> SyncStateView:
    return SyncStateView(account_id=row.account_id, enabled=row.enabled, state=row.state,
                         last_sync_at=row.last_sync_at, error_code=row.last_error_code, error=row.last_error,
                         worker=row.lease_owner)



def _attachments(msg: EmailMessage) -> list[EmailMessage]:
    found: list[EmailMessage] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        disposition = part.get_content_disposition()
        if disposition == "attachment" or (disposition == "inline" and part.get_filename()) or (
                disposition is None and part.get_filename()):
            found.append(part)
    return found

