"""The quoted-string reader shared by the hand-written header parsers."""

from __future__ import annotations

import pytest

from mailport.core.quoted import read_quoted


@pytest.mark.parametrize(("text", "start", "value", "after"), [
    ('"Jansen" <a@b.nl>', 0, "Jansen", 8),
    ('x; filename="factuur \\"maart\\".pdf"; y=1', 12, 'factuur "maart".pdf', 35),
    ('"a\\\\b"', 0, "a\\b", 6),  # an escaped backslash is one backslash
    ('""rest', 0, "", 2),
    ('"never closed', 0, "never closed", 13),  # a broken header gives what it holds
    ('"ends in a backslash\\', 0, "ends in a backslash\\", 21),
])
def test_reads_a_quoted_string_and_says_where_it_ends(text: str, start: int, value: str, after: int) -> None:
    assert read_quoted(text, start) == (value, after)
