"""Tenant API keys: ``mpk_<key id>_<secret>``.

Only a SHA-256 of the secret part is stored. The secret is 256 random bits, so a plain hash is
enough (no password-stretching needed) and lookups stay O(1) by the key id.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

PREFIX = "mpk"
_PATTERN = re.compile(r"^mpk_([0-9a-z]{12})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True, slots=True)
class ParsedKey:
    key_id: str
    secret: str


def format_key(*, key_id: str, secret: str) -> str:
    return f"{PREFIX}_{key_id}_{secret}"


def parse_key(value: str) -> ParsedKey | None:
    """The key's parts, or ``None`` if it is not shaped like one of our keys."""
    match = _PATTERN.match(value.strip())
    if match is None:
        return None
    return ParsedKey(key_id=match.group(1), secret=match.group(2))


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
