"""Logging: JSON lines in production, readable lines in development — and never a secret.

Two layers keep secrets out: every record passes :class:`RedactingFilter`, which masks values that
look like credentials (``password=…``, bearer tokens, API keys, SASL blobs) and every literal
secret registered with :func:`register_secret` (decrypted passwords, tokens, configured keys).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from datetime import UTC, datetime
from typing import Any

MASK = "[redacted]"

_PATTERNS = [
    re.compile(r"(?i)\b(password|passwd|pwd|secret|token|api[_-]?key|client_secret|refresh_token|access_token)"
               r"(\"?\s*[=:]\s*\"?)([^\s\"',;&]+)"),
    re.compile(r"(?i)\b(bearer|basic)(\s+)([A-Za-z0-9._~+/=-]{8,})"),
    re.compile(r"(?i)\b(AUTH\s+(?:PLAIN|LOGIN|XOAUTH2|OAUTHBEARER))(\s+)(\S+)"),
    re.compile(r"()()\bmpk_[0-9a-z]{12}_[A-Za-z0-9_-]{43}\b"),
]

_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Mask this exact value wherever it would appear in a log line (values < 4 chars are ignored)."""
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) + m.group(2) + MASK) if m.lastindex else MASK, text)
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, MASK)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = redact(message), None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        for name, value in list(vars(record).items()):
            if name in _EXTRA_FIELDS_SKIP or name.startswith("_"):
                continue
            if isinstance(value, str):
                setattr(record, name, redact(value))
        return True


_EXTRA_FIELDS_SKIP = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _EXTRA_FIELDS_SKIP and not name.startswith("_"):
                payload[name] = value if isinstance(value, (int, float, bool, type(None))) else str(value)
        if record.exc_text:
            payload["exc"] = record.exc_text
        return json.dumps(payload, ensure_ascii=False)


def configure_logging(*, level: str = "INFO", json_lines: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(
        JsonFormatter() if json_lines else logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger("alembic").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers.clear()
        lg.propagate = True
