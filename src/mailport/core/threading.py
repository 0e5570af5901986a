"""Conversation threads from Message-ID / In-Reply-To / References (RFC 5322 §3.6.4).

Pure. A thread is named by its root: the first Message-ID of ``References`` (the oldest ancestor
the sender knew), else ``In-Reply-To``, else the message's own Message-ID. That is the usual
reduction of JWZ threading that needs no second pass over the store, and it puts a reply to an
invoice in the invoice's thread even when the invoice itself is not in the synced window.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Protocol

__all__ = ["message_ids", "normalize_message_id", "summary_thread_key", "thread_key"]

_MSGID = re.compile(r"<([^<>\s]+)>")
_SPACE = re.compile(r"\s")


def normalize_message_id(value: str | None) -> str | None:
    """``<Abc@Host>`` → ``<Abc@host>``: the domain part compares case-insensitively, the local part not."""
    if not value:
        return None
    match = _MSGID.search(value)
    if match:
        return _normal(match.group(1))  # no whitespace inside: the pattern excludes it
    inner = value.strip().strip("<>")
    if not inner or _SPACE.search(inner):
        return None
    return _normal(inner)


def _normal(inner: str) -> str:
    left, sep, right = inner.rpartition("@")
    return f"<{left}@{right.lower()}>" if sep else f"<{inner}>"


def message_ids(header: str | None) -> list[str]:
    """Every Message-ID in a References / In-Reply-To header, in order, normalized, without repeats."""
    if not header:
        return []
    # What the pattern finds is non-empty and without whitespace: normalized as is (an initial
    # sync reads these for every message; searching each id again cost as much as the header).
    found: list[str] = []
    for raw in _MSGID.findall(header):
        normal = _normal(raw)
        if normal not in found:
            found.append(normal)
    return found


def thread_key(*, message_id: str | None, in_reply_to: str | None, references: str | None,
               fallback: str) -> str:
    """A stable short id for the thread the message belongs to (``fallback`` when it has no ids)."""
    root = next(iter(message_ids(references)), None) or next(iter(message_ids(in_reply_to)), None) \
        or normalize_message_id(message_id) or fallback
    return _key(root)


class _Summary(Protocol):
    @property
    def header_message_id(self) -> str | None: ...
    @property
    def in_reply_to(self) -> str | None: ...
    @property
    def references(self) -> Sequence[str]: ...


def summary_thread_key(summary: _Summary, *, fallback: str) -> str:
    """:func:`thread_key` of a message summary, whose ids are already normalized (as
    :func:`message_ids` and :func:`normalize_message_id` return them): the same key without
    parsing them again."""
    root = (summary.references[0] if summary.references else None) or summary.in_reply_to \
        or summary.header_message_id or fallback
    return _key(root)


def _key(root: str) -> str:
    return "thr_" + hashlib.sha256(root.encode("utf-8", "surrogatepass")).hexdigest()[:20]
