"""The one error hierarchy of mailport.

Every error mailport raises on purpose derives from :class:`MailportError`. Adapters translate
their libraries' exceptions into these at the edge (``raise … from exc``), so services, the API
and the CLI only ever see this tree. Errors carry a stable ``code`` (what the API puts in its
problem+json ``code`` field) and typed attributes, each declared by the class that carries it (as
httpx's and aiosmtplib's errors do: no ``**fields`` bag); they never carry HTTP status codes — the
API layer maps classes to statuses and renders the declared attributes into problem+json.

::

    MailportError
    ├── ConfigurationError                 settings missing or insecure
    ├── ValidationError (ValueError)       bad input from a caller
    │   ├── AddressError                   malformed email address
    │   ├── HeaderInjectionError           CR/LF or control characters in a header field
    │   └── SuppressedRecipientError            a recipient is on the tenant's suppression list
    ├── AuthError                          API caller not authenticated / not allowed
    │   ├── Unauthenticated
    │   └── Forbidden
    ├── NotFound                           no such resource (or not the caller's tenant's)
    ├── Conflict                           state conflict (duplicate, idempotency mismatch)
    │   └── TryLater                       asked again too soon: after ``retry_after`` seconds
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

What each carries (besides ``code`` and ``message``): every error ``field`` (the request field it is
about); ``ValidationError`` ``stage``, ``size``/``limit``, ``attempts_left``, ``discovery``;
``SuppressedRecipientError`` ``suppressed``, ``diagnosis_code``, ``server_text``; ``NotFound``
``resource``; ``Conflict`` ``current``/``target``; ``TryLater`` ``retry_after``; ``StorageError``
``transient``; ``SecretError`` ``key_id``; ``RemoteError`` ``stage``, ``server_text``, ``smtp_code``,
``retryable``, ``provider``, ``host``/``port``/``url``; ``HostNotAllowed`` ``address``; ``TLSError``
``reason``, ``certificate_sha256``; ``RemoteThrottled`` ``retry_after``.
"""

from __future__ import annotations

from typing import Any, TypedDict, Unpack

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
    "SuppressedRecipientError",
    "TLSError",
    "TryLater",
    "Unauthenticated",
    "ValidationError",
]


class RemoteFields(TypedDict, total=False):
    """What every :class:`RemoteError` may carry; its subclasses pass these on unchanged."""

    server_text: str | None
    smtp_code: int | None
    stage: str | None
    retryable: bool | None
    provider: str | None
    host: str | None
    port: int | None
    url: str | None


class MailportError(Exception):
    """Root of every error mailport raises on purpose."""

    code: str = "error"

    def __init__(self, message: str = "", *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or self.code).strip()
        if code is not None:
            self.code = code
        #: The request field the error is about (``"to[1]"``, ``"headers.Sender"``), if any.
        self.field = field

    def __str__(self) -> str:
        return self.message


class ConfigurationError(MailportError):
    """The configuration is missing a value or is insecure."""

    code = "config.invalid"


class ValidationError(MailportError, ValueError):
    """The input is not valid.

    ``stage`` names the connection step that refused the input (``smtp.auth``), ``size`` and
    ``limit`` (bytes) what was too large, ``attempts_left`` how many tries of a code remain, and
    ``discovery`` the discovery result that found no settings (so the caller can show it)."""

    code = "request.invalid"

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        field: str | None = None,
        stage: str | None = None,
        size: int | None = None,
        limit: int | None = None,
        attempts_left: int | None = None,
        discovery: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, code=code, field=field)
        self.stage = stage
        self.size = size
        self.limit = limit
        self.attempts_left = attempts_left
        self.discovery = discovery


class AddressError(ValidationError):
    """The email address is not valid."""

    code = "request.invalid_address"


class HeaderInjectionError(ValidationError):
    """A header field contains a line break or control character."""

    code = "request.header_injection"


class SuppressedRecipientError(ValidationError):
    """A recipient is on the tenant's suppression list.

    ``suppressed`` lists the entries (address, reason, status, diagnosis…); ``diagnosis_code`` and
    ``server_text`` are those of the bounce or refusal that put the first one there."""

    code = "send.recipient_suppressed"

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        field: str | None = None,
        suppressed: list[dict[str, Any]],
        diagnosis_code: str | None = None,
        server_text: str | None = None,
    ) -> None:
        super().__init__(message, code=code, field=field)
        self.suppressed = suppressed
        self.diagnosis_code = diagnosis_code
        self.server_text = server_text


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
    """No such resource. ``resource`` names its kind (``"tenant"``, ``"webhook"``…)."""

    code = "not_found"

    def __init__(
        self, message: str = "", *, code: str | None = None, field: str | None = None, resource: str | None = None
    ) -> None:
        super().__init__(message, code=code, field=field)
        self.resource = resource


class Conflict(MailportError):
    """The request conflicts with the current state (``current``; ``target`` the state asked for)."""

    code = "conflict"

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        field: str | None = None,
        current: str | None = None,
        target: str | None = None,
    ) -> None:
        super().__init__(message, code=code, field=field)
        self.current = current
        self.target = target


class TryLater(Conflict):
    """The same request was made a moment ago; it may be repeated after ``retry_after`` seconds."""

    code = "rate_limited"

    def __init__(self, message: str = "", *, code: str | None = None, retry_after: int) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class StorageError(MailportError):
    """The database failed. ``transient``: it is away (an outage to wait out), not refusing."""

    code = "storage.unavailable"

    def __init__(self, message: str = "", *, code: str | None = None, transient: bool = False) -> None:
        super().__init__(message, code=code)
        self.transient = transient


class SecretError(MailportError):
    """A stored secret cannot be decrypted with the configured keys (``key_id`` the one named)."""

    code = "secret.undecryptable"

    def __init__(self, message: str = "", *, code: str | None = None, key_id: str | None = None) -> None:
        super().__init__(message, code=code)
        self.key_id = key_id


class RemoteError(MailportError):
    """A remote server failed.

    ``code`` is a diagnosis code from :mod:`mailport.core.diagnostics`; ``server_text`` is what the
    server said (never containing our secrets), ``stage`` where it happened (``smtp.auth`` …),
    ``smtp_code`` the SMTP reply code, ``retryable`` and ``provider`` the diagnosis's verdict and
    recognised provider, ``host``/``port``/``url`` the endpoint that failed.
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
        retryable: bool | None = None,
        provider: str | None = None,
        host: str | None = None,
        port: int | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.server_text = server_text
        self.smtp_code = smtp_code
        self.stage = stage
        self.retryable = retryable
        self.provider = provider
        self.host = host
        self.port = port
        self.url = url


class NetworkError(RemoteError, ConnectionError):
    """The server could not be reached."""

    code = "net.connection_refused"


class HostNotAllowed(NetworkError):
    """The host name points into a private or loopback network, which is not allowed.

    ``address`` is the refused address the name resolved to."""

    code = "net.host_not_allowed"

    def __init__(self, message: str = "", *, code: str | None = None, address: str | None = None,
                 **remote: Unpack[RemoteFields]) -> None:
        super().__init__(message, code=code, **remote)
        self.address = address


class RemoteTimeout(RemoteError, TimeoutError):
    """The server did not answer in time."""

    code = "net.timeout"


class TLSError(RemoteError):
    """The secure connection could not be set up.

    ``reason`` says why when it is ours (``"pin_mismatch"``); ``certificate_sha256`` is the
    fingerprint of the certificate the server presented (what the user would pin)."""

    code = "tls.certificate_invalid"

    def __init__(self, message: str = "", *, code: str | None = None, reason: str | None = None,
                 certificate_sha256: str | None = None, **remote: Unpack[RemoteFields]) -> None:
        super().__init__(message, code=code, **remote)
        self.reason = reason
        self.certificate_sha256 = certificate_sha256


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

    def __init__(self, message: str = "", *, code: str | None = None, retry_after: float | None = None,
                 **remote: Unpack[RemoteFields]) -> None:
        super().__init__(message, code=code, **remote)
        self.retry_after = retry_after


class RemoteRejected(RemoteError):
    """The provider refused the request, and repeating it unchanged will not help."""

    code = "unknown"
