"""IMAP: the wire protocol (:mod:`.wire`), an authenticated session (:mod:`.client`) and the
commands inbox sync adds to it (:mod:`.sync`: CONDSTORE/QRESYNC, summaries, IDLE)."""

from mailport.adapters.imap.client import (
    ImapEndpoint,
    ImapSession,
    Mailbox,
    MailboxStatus,
    SpecialUse,
    find_special_use,
    parse_list_line,
)
from mailport.adapters.imap.sync import FETCH_BATCH, FolderOpened, IdleResult, SyncSession, Wakeup
from mailport.adapters.imap.wire import ImapReply, imap_quote

__all__ = [
    "FETCH_BATCH",
    "FolderOpened",
    "IdleResult",
    "ImapEndpoint",
    "ImapReply",
    "ImapSession",
    "Mailbox",
    "MailboxStatus",
    "SpecialUse",
    "SyncSession",
    "Wakeup",
    "find_special_use",
    "imap_quote",
    "parse_list_line",
]
