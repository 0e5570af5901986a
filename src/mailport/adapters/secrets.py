"""Secrets at rest: AES-256-GCM with a keyring and owner-bound associated data.

The keyring comes from ``settings.secret_key``: ``id:base64url-32-bytes[,id:key…]``. The first key
encrypts; every key decrypts, so rotation is "prepend a new key, re-encrypt, drop the old one"
without downtime. A token looks like ``v1.<kid>.<base64url(nonce ‖ ciphertext ‖ tag)>`` — it names
the key that made it, so decryption never has to guess and :meth:`SecretBox.needs_rotation` is a
string check.

The associated data (``aad``) binds a ciphertext to its owner, e.g. ``"{tenant}:{account}:password"``:
a token copied into another row (or another tenant's row) fails authentication instead of
silently decrypting. Nothing here ever puts plaintext, key material or the token body into an
exception message or a log line.
"""

from __future__ import annotations

import binascii
import re
import secrets as _random
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from mailport.core.secret import Secret
from mailport.errors import ConfigurationError, SecretError

__all__ = ["Secret", "SecretBox", "derived_key", "generate_key"]

_VERSION: Final = "v1"
_NONCE_BYTES: Final = (
    12  # the GCM standard nonce; random per encryption (2^32 messages per key is far away)
)
_KEY_BYTES: Final = 32  # AES-256
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


def generate_key(key_id: str | None = None) -> str:
    """A fresh keyring entry ``id:base64url-key`` suitable for ``MAILPORT_SECRET_KEY``."""
    kid = key_id or "k" + _random.token_hex(4)
    _check_key_id(kid)
    return f"{kid}:{urlsafe_b64encode(_random.token_bytes(_KEY_BYTES)).decode()}"


def derived_key(keyring: str, purpose: bytes) -> bytes:
    """A 32-byte key for ``purpose`` (``b"mailport ui-sessions v1"``), derived with HKDF from the
    keyring's first entry: the same in every process of the installation, and never the cipher key
    itself (a MAC key must not double as one)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        keyring.split(",", 1)[0].encode())


@dataclass(frozen=True, slots=True)
class _Key:
    kid: str
    aead: AESGCM


class SecretBox:
    """Encrypts and decrypts secrets with the configured keyring."""

    def __init__(self, keyring: str) -> None:
        """Parse ``id:base64url-key[,id:key…]``; a malformed keyring is a ConfigurationError."""
        keys = _parse_keyring(keyring)
        self._primary = keys[0]
        self._keys = {key.kid: key for key in keys}

    @classmethod
    def from_settings(cls, settings: object) -> SecretBox:
        """Build from :class:`mailport.settings.Settings` (its ``secret_key`` field)."""
        return cls(str(getattr(settings, "secret_key", "")))

    @property
    def primary_key_id(self) -> str:
        """The id of the key new tokens are made with."""
        return self._primary.kid

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def encrypt(self, plaintext: str, *, aad: str) -> str:
        """Encrypt ``plaintext`` under the primary key, bound to ``aad``."""
        if not isinstance(plaintext, str):
            raise TypeError("plaintext must be a str")
        nonce = _random.token_bytes(_NONCE_BYTES)
        body = self._primary.aead.encrypt(nonce, plaintext.encode("utf-8"), aad.encode("utf-8"))
        encoded = urlsafe_b64encode(nonce + body).decode().rstrip("=")
        return f"{_VERSION}.{self._primary.kid}.{encoded}"

    def decrypt(self, token: str, *, aad: str) -> str:
        """The plaintext of ``token``; SecretError if the key is missing, or token/aad do not match."""
        kid, blob = _split(token)
        key = self._keys.get(kid)
        if key is None:
            raise SecretError(
                f"no configured key has id {kid!r}; add it to MAILPORT_SECRET_KEY", key_id=kid
            )
        nonce, body = blob[:_NONCE_BYTES], blob[_NONCE_BYTES:]
        try:
            plain = key.aead.decrypt(nonce, body, aad.encode("utf-8"))
        except InvalidTag:
            # Wrong key material under the right id, a tampered token, or a token moved to
            # another owner (aad mismatch): indistinguishable by design.
            raise SecretError(
                f"secret does not decrypt with key {kid!r} for this owner", key_id=kid
            ) from None
        return plain.decode("utf-8")

    def key_id_of(self, token: str) -> str:
        """The id of the key that made ``token`` (no decryption)."""
        return _split(token)[0]

    def needs_rotation(self, token: str) -> bool:
        """True when ``token`` was not made with the current primary key."""
        return self.key_id_of(token) != self._primary.kid

    def rotate(self, token: str, *, aad: str) -> str:
        """``token`` re-encrypted under the primary key (unchanged if it already is)."""
        if not self.needs_rotation(token):
            return token
        return self.encrypt(self.decrypt(token, aad=aad), aad=aad)


def _check_key_id(kid: str) -> None:
    if not _KEY_ID.fullmatch(kid):
        raise ConfigurationError(
            "secret key ids must be 1-32 characters of letters, digits, '_' or '-'"
        )


def _parse_keyring(keyring: str) -> list[_Key]:
    entries = [part.strip() for part in keyring.split(",") if part.strip()]
    if not entries:
        raise ConfigurationError(
            "MAILPORT_SECRET_KEY is empty; expected `id:base64key[,id:base64key…]`"
        )
    keys: list[_Key] = []
    seen: set[str] = set()
    for position, entry in enumerate(entries, start=1):
        kid, sep, material = entry.partition(":")
        if not sep:
            raise ConfigurationError(f"MAILPORT_SECRET_KEY entry {position} has no `id:` prefix")
        _check_key_id(kid)
        if kid in seen:
            raise ConfigurationError(f"MAILPORT_SECRET_KEY names key id {kid!r} twice")
        seen.add(kid)
        raw = _b64decode(material)
        if raw is None or len(raw) != _KEY_BYTES:
            # Never echo the material: it is the key.
            raise ConfigurationError(
                f"MAILPORT_SECRET_KEY entry {kid!r} must be {_KEY_BYTES} bytes, base64url-encoded"
            )
        keys.append(_Key(kid=kid, aead=AESGCM(raw)))
    return keys


def _b64decode(text: str) -> bytes | None:
    try:
        return urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def _split(token: str) -> tuple[str, bytes]:
    if not isinstance(token, str):
        raise SecretError("stored secret is not a token")
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != _VERSION:
        raise SecretError("stored secret is not a mailport v1 token")
    kid, encoded = parts[1], parts[2]
    blob = _b64decode(encoded)
    if not _KEY_ID.fullmatch(kid) or blob is None or len(blob) < _NONCE_BYTES + 16:
        raise SecretError("stored secret is malformed")
    return kid, blob
