"""Identifiers: short, prefixed, unguessable (``acc_3k9x…``), so a leaked id names its kind."""

from __future__ import annotations

import secrets

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def new_id(prefix: str, *, length: int = 20) -> str:
    """``prefix_`` + ``length`` base-36 characters from one read of the OS random source.

    20 characters carry ~103 bits; drawing them from a single random integer (not one
    ``secrets.choice`` per character) keeps id creation off the hot path's profile.
    """
    # 6 random bits per character against log2(36) ≈ 5.17 needed: each digit is uniform to ~1e-5.
    value = secrets.randbits(length * 6)
    chars = []
    for _ in range(length):
        value, digit = divmod(value, 36)
        chars.append(_ALPHABET[digit])
    return prefix + "_" + "".join(chars)
