"""What a remote server said, as text that every store, log line and page can hold.

aiosmtplib keeps a reply's bytes that are not UTF-8 as lone surrogates (``surrogateescape``): an
older European server that answers in Latin-1 or Windows-1252 ("Empfänger unbekannt") gives
``'Empf\\udce4nger'``, which neither SQLite nor PostgreSQL can store — the outcome of a message
the server had already accepted could not be written, and the message stayed ``sending`` until
its lease ran out and it was sent again. A NUL or another control character in a reply (a
hostile or broken server) is no better: PostgreSQL's text refuses NUL.

:func:`readable` gives back the bytes as the server meant them — UTF-8 when they are, else
Windows-1252 (the superset of Latin-1 those servers use) — with control characters other than
tab and line feed dropped.
"""

from __future__ import annotations

import re

__all__ = ["readable"]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def readable(text: str) -> str:
    """``text`` as storable, printable Unicode (see the module's docstring)."""
    if text.isascii() and text.isprintable():
        return text  # the common case: a plain ASCII reply on one line
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that is not an escaped byte
        decoded = text.encode("utf-8", "replace").decode("utf-8")
    else:
        try:
            decoded = raw.decode("utf-8")
        except UnicodeDecodeError:
            decoded = raw.decode("cp1252", "replace")
    return _CONTROL.sub("", decoded)
