"""The one error hierarchy of mailport.

Every error mailport raises on purpose derives from :class:`MailportError`. Adapters translate
their libraries' exceptions into these at the edge (``raise … from exc``), so services, the API
and the CLI only ever see this tree. Errors carry a stable ``code`` (what the API puts in its
problem+json ``code`` field) and structured fields; they never carry HTTP status codes — the API
layer maps classes to statuses.

::

    MailportError
    ├── ConfigurationError                 settings missing or insecure
    ├── ValidationError (ValueError)       bad input from a caller
    │   ├── AddressError                   malformed email address
    │   └── HeaderInjectionError           CR/LF or control characters in a header field
    ├── AuthError                          API caller not authenticated / not allowed
    │   ├── Unauthenticated
    │   └── Forbidden
    ├── NotFound                           no such resource (or not the caller's tenant's)
    ├── Conflict                           state conflict (duplicate, idempotency mismatch)
    ├── StorageError                       database unreachable or failed
    ├── SecretError                        secret cannot be decrypted (wrong/missing key)
    └── RemoteError                        a remote server failed; carries a diagnosis code
        ├── NetworkError (ConnectionError) DNS, refused, unreachable
        │   └── HostNotAllowed             host resolves to a private/loopback range (SSRF guard)
        ├── RemoteTimeout (TimeoutError)   no answer in time
        ├── TLSError                       handshake or certificate failure
        ├── ProtocolError                  unexpected greeting / reply
        ├── RemoteAuthError                server refused our credentials
        ├── RemoteThrottled                slow down: try again after ``retry_after`` seconds
        └── RemoteRejected                 the provider refused the request for good
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AddressError",
    "AuthError",
    "ConfigurationError",
    "Conflict",
    "Forbidden",
    "HeaderInjectionError",
    "HostNotAllowed",
    "MailportError",
    "NetworkError",
    "NotFound",
    "ProtocolError",
    "RemoteAuthError",
    "RemoteError",
    "RemoteRejected",
    "RemoteThrottled",
    "RemoteTimeout",
    "SecretError",
    "StorageError",
    "TLSError",
    "Unauthenticated",
    "ValidationError",
]


class MailportError(Exception):
    """Root of every error mailport raises on purpose."""

    code: str = "error"

    def __init__(self, message: str = "", *, code: str | None = None, **fields: Any) -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or self.code).strip()
        if code is not None:
            self.code = code
        self.fields: dict[str, Any] = fields

    def __str__(self) -> str:
        return self.message


class ConfigurationError(MailportError):
    """The configuration is missing a value or is insecure."""

    code = "config.invalid"


class ValidationError(MailportError, ValueError):
    """The input is not valid."""

    code = "request.invalid"


class AddressError(ValidationError):
    """The email address is not valid."""

    code = "request.invalid_address"


class HeaderInjectionError(ValidationError):
    """A header field contains a line break or control character."""

    code = "request.header_injection"


class AuthError(MailportError):
    """The caller is not allowed to do this."""

    code = "auth.denied"


class Unauthenticated(AuthError):
    """A valid API key is required."""

    code = "auth.missing_key"


class Forbidden(AuthError):
    """This key may not do that."""

    code = "auth.forbidden"


class NotFound(MailportError):
    """No such resource."""

    code = "not_found"


class Conflict(MailportError):
    """The request conflicts with the current state."""

    code = "conflict"


class StorageError(MailportError):
    """The database failed."""

    code = "storage.unavailable"


class SecretError(MailportError):
    """A stored secret cannot be decrypted with the configured keys."""

    code = "secret.undecryptable"


class RemoteError(MailportError):
    """A remote server failed.

    ``code`` is a diagnosis code from :mod:`mailport.core.diagnostics`; ``server_text`` is what the
    server said (never containing our secrets), ``stage`` where it happened (``smtp.auth`` …).
    """

    code = "unknown"

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        server_text: str | None = None,
        smtp_code: int | None = None,
        stage: str | None = None,
        **fields: Any,
    ) -> None:
        super().__init__(message, code=code, **fields)
        self.server_text = server_text
        self.smtp_code = smtp_code
        self.stage = stage


class NetworkError(RemoteError, ConnectionError):
    """The server could not be reached."""

    code = "net.connection_refused"


class HostNotAllowed(NetworkError):
    """The host name points into a private or loopback network, which is not allowed."""

    code = "net.host_not_allowed"


class RemoteTimeout(RemoteError, TimeoutError):
    """The server did not answer in time."""

    code = "net.timeout"


class TLSError(RemoteError):
    """The secure connection could not be set up."""

    code = "tls.certificate_invalid"


class ProtocolError(RemoteError):
    """The server answered something unexpected."""

    code = "net.wrong_service"


class RemoteAuthError(RemoteError):
    """The server refused the credentials."""

    code = "auth.invalid_credentials"


class RemoteThrottled(RemoteError):
    """The provider asks us to slow down (rate limit, overload); a deferral, never a failure.

    ``retry_after`` is the wait in seconds the provider named (``None``: it named none)."""

    code = "api.rate_limited"

    def __init__(self, message: str = "", *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class RemoteRejected(RemoteError):
    """The provider refused the request, and repeating it unchanged will not help."""

    code = "unknown"
