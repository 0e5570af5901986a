"""DKIM keys and signatures: RSA-2048 keys made with ``cryptography``, signatures by dkimpy.

Signatures are ``rsa-sha256`` with ``relaxed/relaxed`` canonicalization (survives the header
re-folding and whitespace changes relays do). ``From`` is signed one more time than it occurs
("oversigned", RFC 6376 §5.4.2), so nobody can add a second From that a client would show while
the signature still verifies. Failures become :mod:`mailport.errors`; key material never
appears in an error text.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import dkim  # type: ignore[import-untyped]
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mailport.errors import ConfigurationError, ValidationError

__all__ = ["KEY_BITS", "SIGNED_HEADERS", "DkimKey", "DkimSigner", "generate_key", "public_key_b64"]

KEY_BITS = 2048
SIGNED_HEADERS: tuple[bytes, ...] = (
    b"from", b"from", b"to", b"cc", b"reply-to", b"subject", b"date", b"message-id",
    b"mime-version", b"content-type", b"content-transfer-encoding", b"in-reply-to", b"references",
    b"list-unsubscribe", b"list-unsubscribe-post",
)


@dataclass(frozen=True, slots=True, repr=False)
class DkimKey:
    """A private key (PKCS#1 PEM, what dkimpy reads) and its public half for the DNS record."""

    private_pem: str
    public_der_b64: str

    def __repr__(self) -> str:
        return f"DkimKey(public={self.public_der_b64[:16]}…)"


def generate_key(bits: int = KEY_BITS) -> DkimKey:
    """A fresh RSA key for one domain (2048 bits: the size every receiver accepts in DNS)."""
    pem = _pkcs1_pem(rsa.generate_private_key(public_exponent=65537, key_size=bits)).decode("ascii")
    return DkimKey(private_pem=pem, public_der_b64=public_key_b64(pem))


def public_key_b64(private_pem: str) -> str:
    """The SubjectPublicKeyInfo of ``private_pem`` in base64: the ``p=`` of the DKIM record."""
    der = _rsa_key(private_pem).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode("ascii")


def _traditional(private_pem: str) -> bytes:
    """dkimpy reads PKCS#1 only; an operator's key file may well be PKCS#8."""
    if "BEGIN RSA PRIVATE KEY" in private_pem:
        return private_pem.encode("ascii")
    return _pkcs1_pem(_rsa_key(private_pem))


def _rsa_key(private_pem: str) -> rsa.RSAPrivateKey:
    """The RSA key in ``private_pem`` (PKCS#1 or PKCS#8), or a :class:`ConfigurationError` that
    does not quote it."""
    try:
        key = serialization.load_pem_private_key(private_pem.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeError) as exc:
        raise ConfigurationError("the DKIM private key cannot be read") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigurationError("the DKIM private key must be an RSA key")
    return key


def _pkcs1_pem(key: rsa.RSAPrivateKey) -> bytes:
    """``key`` as an unencrypted PKCS#1 PEM (``BEGIN RSA PRIVATE KEY``), the form dkimpy reads."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


@dataclass(frozen=True, slots=True, repr=False)
class DkimSigner:
    """Signs messages as ``d=domain``, ``s=selector`` with one key."""

    domain: str
    selector: str
    private_pem: str

    def __repr__(self) -> str:
        return f"DkimSigner(d={self.domain}, s={self.selector})"

    def sign(self, message: bytes) -> bytes:
        """``message`` (CRLF line ends) with a ``DKIM-Signature`` header in front."""
        if not message or b"\r\n\r\n" not in message:
            raise ValidationError("a message with headers and a body is required", field="message")
        try:
            header = dkim.sign(
                message,
                self.selector.encode("ascii"),
                self.domain.encode("ascii"),
                _traditional(self.private_pem),
                canonicalize=(b"relaxed", b"relaxed"),
                signature_algorithm=b"rsa-sha256",
                include_headers=list(SIGNED_HEADERS),
                linesep=b"\r\n",
            )
        except dkim.DKIMException as exc:
            # dkimpy's messages describe the message or key structure, never the key bytes.
            raise ConfigurationError(f"the message could not be DKIM-signed: {exc}", code="dkim.sign_failed") from exc
        return bytes(header) + message
