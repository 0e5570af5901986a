"""A :class:`Diagnosis` as the matching :class:`mailport.errors.RemoteError`, for adapters that
translate a library failure at their edge::

    except aiosmtplib.SMTPException as exc:
        diagnosis = classify_exception(exc, protocol="smtp", stage="auth", email=account.email)
        raise remote_error(diagnosis, stage="smtp.auth") from exc
"""

from __future__ import annotations

from typing import Final

from mailport.core.diagnostics.catalog import CODES
from mailport.core.diagnostics.evidence import Diagnosis
from mailport.errors import (
    NetworkError,
    ProtocolError,
    RemoteAuthError,
    RemoteError,
    RemoteTimeout,
    TLSError,
)

__all__ = ["remote_error", "remote_error_class"]

_BY_CODE: Final[dict[str, type[RemoteError]]] = {
    "net.host_not_found": NetworkError,
    "net.connection_refused": NetworkError,
    "net.timeout": RemoteTimeout,
    "net.connection_failed": NetworkError,
    "net.wrong_service": ProtocolError,
}
_BY_PREFIX: Final[dict[str, type[RemoteError]]] = {"auth.": RemoteAuthError, "tls.": TLSError}


def remote_error_class(code: str) -> type[RemoteError]:
    """The error class callers can catch for ``code`` (``RemoteError`` for the rest)."""
    if code in _BY_CODE:
        return _BY_CODE[code]
    for prefix, cls in _BY_PREFIX.items():
        if code.startswith(prefix):
            return cls
    return RemoteError


def remote_error(
    diagnosis: Diagnosis,
    *,
    stage: str | None = None,
    smtp_code: int | None = None,
    message: str | None = None,
) -> RemoteError:
    """The error to raise for ``diagnosis``; its message is the English title unless given.

    The server text travels in ``server_text`` (already scrubbed), never in the message, so logs
    of ``str(error)`` stay short and free of whatever the server echoed.
    """
    info = CODES.get(diagnosis.code, CODES["unknown"])
    cls = remote_error_class(info.code)
    return cls(
        message or info.title,
        code=info.code,
        server_text=diagnosis.server_text,
        smtp_code=smtp_code,
        stage=stage,
        retryable=diagnosis.retryable,
        provider=diagnosis.provider,
    )
