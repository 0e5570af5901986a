"""aiosmtplib's two passes over a message's bytes before DATA, without the regular expressions.

Before writing a message aiosmtplib turns lone CR and LF into CRLF and doubles a dot that starts
a line, each with a regular expression (``LINE_ENDINGS_REGEX``, ``PERIOD_REGEX`` in
``aiosmtplib.protocol``). Python's ``re`` tries the pattern at every byte: on a 20 KB invoice
the two passes cost ~0.3 ms, a tenth of a worker's CPU per sent message (bench/bench_send.py).
Every message mailport stores is CRLF already, and ``bytes`` methods scan in C:

* line endings: three byte counts tell that every CR and LF is part of a CRLF pair, and then the
  library's substitution would give back the same bytes; anything else still goes through it;
* dot-stuffing: ``(?m)^\\.`` matches at the start and after each LF — a ``replace``.

:func:`install` swaps in these stand-ins only when the library's expressions are exactly the ones
reproduced here, so the bytes on the wire are the library's own (``tests/unit/test_smtp_wire.py``
holds them to it); with another aiosmtplib nothing is changed.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["CrlfLineEndings", "DotStuffing", "install"]

LINE_ENDINGS = rb"(?:\r\n|\n|\r(?!\n))"
PERIOD = rb"(?m)^\."


class CrlfLineEndings:
    """``LINE_ENDINGS_REGEX``: its ``sub`` returns a CRLF-only message as it is."""

    def __init__(self, pattern: re.Pattern[bytes]) -> None:
        self.pattern = pattern

    def sub(self, repl: bytes, string: bytes, *args: Any, **kwargs: Any) -> bytes:
        if (repl == b"\r\n" and not args and not kwargs
                and string.count(b"\r") == string.count(b"\n") == string.count(b"\r\n")):
            return string  # every CR and LF is in a CRLF pair: the substitution is the identity
        return self.pattern.sub(repl, string, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:  # search, match, pattern …: the library's own
        return getattr(self.pattern, name)


class DotStuffing:
    """``PERIOD_REGEX``: its ``sub`` doubles each line-leading dot with ``bytes.replace``."""

    def __init__(self, pattern: re.Pattern[bytes]) -> None:
        self.pattern = pattern

    def sub(self, repl: bytes, string: bytes, *args: Any, **kwargs: Any) -> bytes:
        if repl != b".." or args or kwargs:
            return self.pattern.sub(repl, string, *args, **kwargs)
        stuffed = string.replace(b"\n.", b"\n..")  # "\n." cannot overlap itself
        return b"." + stuffed if string.startswith(b".") else stuffed

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pattern, name)


def install(module: Any) -> bool:
    """Swap the stand-ins into ``aiosmtplib.protocol`` (``module``) when its expressions are the
    ones reproduced here; True when both were swapped (or already are)."""
    swapped = 0
    for name, source, stand_in in (("LINE_ENDINGS_REGEX", LINE_ENDINGS, CrlfLineEndings),
                                   ("PERIOD_REGEX", PERIOD, DotStuffing)):
        current = getattr(module, name, None)
        if isinstance(current, stand_in):
            swapped += 1
        elif (isinstance(current, re.Pattern) and current.pattern == source
              and current.flags == re.compile(source).flags):
            setattr(module, name, stand_in(current))
            swapped += 1
    return swapped == 2
