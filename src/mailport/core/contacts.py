"""Contact addresses: the one comparison key every match uses.

Pure. CRMs compare addresses case-insensitively as a whole (``Jane@Customer.example`` is
``jane@customer.example``); the domain is also IDNA-normalized so a Unicode and a punycode
spelling meet. Local parts are not otherwise rewritten (no dot or plus folding: that is a Gmail
rule, not a mail rule, and would merge different people at other providers).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from email.utils import getaddresses

from mailport.core.addresses import parse_address
from mailport.errors import AddressError

__all__ = ["address_key", "address_keys", "participants"]


# The common case — an ASCII address with a plain domain — needs no full validation: the key is
# just the lowercased text (the sync computes keys for every participant of every message).
_PLAIN = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def address_key(value: str) -> str | None:
    """The comparison key of one bare address, or ``None`` if it is not an address."""
    candidate = (value or "").strip().strip("<>").strip()
    if "@" not in candidate:
        return None
    if _PLAIN.fullmatch(candidate) and "xn--" not in candidate.lower():
        return candidate.lower()
    try:
        return parse_address(candidate).key
    except AddressError:
        # Received mail may carry addresses our strict parser refuses; still match them plainly.
        local, _, domain = candidate.rpartition("@")
        if not local or not domain or any(ch.isspace() for ch in candidate):
            return None
        return f"{local.lower()}@{domain.lower()}"


def address_keys(values: Iterable[str]) -> list[str]:
    """Keys of several addresses, invalid ones dropped, order kept, no repeats."""
    keys: list[str] = []
    for value in values:
        key = address_key(value)
        if key and key not in keys:
            keys.append(key)
    return keys


def participants(*headers: str | None) -> list[tuple[str, str]]:
    """``(display name, address)`` pairs from address headers (From, To, Cc …)."""
    pairs = getaddresses([h for h in headers if h])
    return [(name.strip(), addr.strip()) for name, addr in pairs if "@" in addr]
