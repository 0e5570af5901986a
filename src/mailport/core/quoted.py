"""RFC 5322 quoted strings (``"Jansen, \\"de Bakker\\""``), as header parsers meet them: in a
display name, in a MIME parameter. One reader for every parser that walks a header by hand."""

from __future__ import annotations

__all__ = ["read_quoted"]


def read_quoted(text: str, start: int) -> tuple[str, int]:
    """The quoted string whose opening ``"`` is at ``start``: its content with each backslash
    pair (``\\x``) read as ``x``, and the index just past the closing quote — the end of ``text``
    when the quote is never closed (a broken header still gives what it holds)."""
    i, n = start + 1, len(text)
    chars: list[str] = []
    while i < n and text[i] != '"':
        if text[i] == "\\" and i + 1 < n:
            i += 1
        chars.append(text[i])
        i += 1
    return "".join(chars), min(i + 1, n)
