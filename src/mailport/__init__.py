"""mailport: the email subsystem for business software.

The public surface for Python users is small on purpose: the error hierarchy (what the HTTP client
raises too) and the version. The HTTP client lives in :mod:`mailport.client`; the service itself is
run with the ``mailport`` command.
"""

from mailport.errors import (
    AddressError,
    AuthError,
    ConfigurationError,
    Conflict,
    Forbidden,
    HeaderInjectionError,
    HostNotAllowed,
    MailportError,
    NetworkError,
    NotFound,
    ProtocolError,
    RemoteAuthError,
    RemoteError,
    RemoteTimeout,
    SecretError,
    StorageError,
    TLSError,
    Unauthenticated,
    ValidationError,
)

__version__ = "0.1.0"

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
    "RemoteTimeout",
    "SecretError",
    "StorageError",
    "TLSError",
    "Unauthenticated",
    "ValidationError",
    "__version__",
]
