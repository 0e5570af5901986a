"""Identifiers: short, prefixed, unguessable (``acc_3k9x…``), so a leaked id names its kind."""

from __future__ import annotations

import secrets

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def new_id(prefix: str, *, length: int = 20) -> str:
    return prefix + "_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))
