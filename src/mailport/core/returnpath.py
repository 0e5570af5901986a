"""VERP return paths: an envelope sender per message, so a bounce names the message it is about.

``bounces+<token>@<host>``: the token (the message id) rides in the local part, and whatever
server bounces the mail sends the DSN to exactly that address. The inbox side reads it back
with :func:`parse_verp`. Pure string logic.
"""

from __future__ import annotations

import re
from typing import Final

from mailport.errors import ValidationError

__all__ = ["VERP_LOCAL", "parse_verp", "verp_address"]

VERP_LOCAL: Final = "bounces"
_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.=-]{0,63}$")
_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


def verp_address(*, token: str, host: str) -> str:
    """``bounces+<token>@<host>`` (``host``: the return-path host, e.g. ``mp-bounces.example.com``)."""
    if not _TOKEN.fullmatch(token):
        raise ValidationError("a VERP token must be 1-64 letters, digits or _.=-", field="token")
    host = host.strip().rstrip(".").lower()
    if not _HOST.fullmatch(host):
        raise ValidationError("the return-path host is not a domain name", field="host")
    return f"{VERP_LOCAL}+{token}@{host}"


def parse_verp(address: str) -> str | None:
    """The token of a VERP address (``bounces+msg_123@…`` → ``msg_123``), or ``None``.

    Accepts what a DSN may carry: angle brackets, surrounding space, any case of ``bounces``.
    """
    text = address.strip().strip("<>").strip()
    local, at, host = text.rpartition("@")
    if not at or not host:
        return None
    prefix, plus, token = local.partition("+")
    if not plus or prefix.lower() != VERP_LOCAL or not _TOKEN.fullmatch(token):
        return None
    return token
