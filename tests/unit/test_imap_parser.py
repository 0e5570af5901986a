"""The IMAP response parser, on literal server answers (RFC 3501 examples and real Dovecot lines)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from mailport.adapters.imap.parser import (
    Deferred,
    FetchShape,
    ParseError,
    _fast_fetch,
    parse_fetch,
    parse_internaldate,
    parse_list,
    parse_search,
    parse_values,
    utf7_decode,
    utf7_encode,
)


def test_values_atoms_strings_nil_and_nesting() -> None:
    assert parse_values([b'A "b c" NIL (d (e "f\\"g")) {nope']) == [
        b"A", b"b c", None, [b"d", [b"e", b'f"g']], b"{nope"]


def test_fetch_with_literals_sections_and_partials() -> None:
    header = b"From: a@b.example\r\nSubject: hi\r\n\r\n"
    record = [
        ((b'12 FETCH (UID 345 FLAGS (\\Seen $Forwarded) RFC822.SIZE 1399 MODSEQ (77) '
         b'INTERNALDATE "06-Dec-2026 12:00:01 +0100" BODY[HEADER.FIELDS (FROM SUBJECT)] {34}'), header),
        (b" BODY[TEXT]<0> {5}", b"Hello"),
        b' BODYSTRUCTURE ("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 5 1 NIL NIL NIL NIL))',
    ]
    seq, data = parse_fetch(record)
    assert seq == 12
    assert data[b"UID"] == b"345"
    assert data[b"FLAGS"] == [b"\\Seen", b"$Forwarded"]
    assert data[b"MODSEQ"] == [b"77"]
    assert data[b"BODY[HEADER.FIELDS (FROM SUBJECT)]"] == header
    assert data[b"BODY[TEXT]<0>"] == b"Hello"
    structure = data[b"BODYSTRUCTURE"]
    assert isinstance(structure, list) and structure[:2] == [b"text", b"plain"]


def test_fetch_literal_may_contain_parens_and_quotes() -> None:
    body = b'(unbalanced " quote\r\n'
    seq, data = parse_fetch([(b"1 FETCH (UID 9 BODY[] {22}", body), b")"])
    assert (seq, data[b"BODY[]"]) == (1, body)


@pytest.mark.parametrize("bad", [
    [b"1 FETCH (UID 1"],            # unbalanced
    [b"1 FETCH (UID)"],             # name without value
    [b"1 EXISTS"],                  # not FETCH
    [(b"1 FETCH (BODY[] ", b"x")],  # a literal without {n}
])
def test_malformed_fetch_raises(bad: list[bytes | tuple[bytes, bytes]]) -> None:
    with pytest.raises(ParseError):
        parse_fetch(bad)


def _general(record: list[bytes | tuple[bytes, bytes]]) -> tuple[int, dict[bytes, object]]:
    values = parse_values(record)
    assert isinstance(values[0], bytes) and isinstance(values[2], list)
    items = values[2]
    return int(values[0]), {bytes(items[i]).upper(): items[i + 1] for i in range(0, len(items), 2)}  # type: ignore[arg-type]


_STRUCTURE = (b'(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 5 1 NIL NIL NIL NIL)'
              b'("application" "pdf" ("name" "in (1).pdf") NIL NIL "base64" 9 NIL '
              b'("attachment" ("filename" "a\\"b.pdf")) NIL) '
              b'"mixed" ("boundary" "b1") NIL NIL NIL)')
# Records the fast path reads, each compared with the general parser's reading.
_FAST_RECORDS: list[list[bytes | tuple[bytes, bytes]]] = [
    [((b'1 FETCH (UID 1 FLAGS (\\Recent) RFC822.SIZE 1063 INTERNALDATE "06-Dec-2026 15:52:42 +0000" MODSEQ (2) '
       b'BODYSTRUCTURE ("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 671 7 NIL NIL NIL NIL) '
       b'BODY[HEADER.FIELDS (FROM TO)] {9}'), b"From: a\r\n"), (b" BODY[TEXT]<0> {3}", b"(x\""), b")"],
    [b"7 FETCH (UID 12 FLAGS () MODSEQ (5))"],
    [b'7 FETCH (uid 12 flags (\\Seen NIL $Label) X-GM-MSGID 99 internaldate "a \\"q\\" \\\\ b")'],
    [b"7 FETCH (UID 12 BODYSTRUCTURE " + _STRUCTURE + b" RFC822.SIZE nil)"],
    [(b"3 FETCH (BODY[] {0}", b""), b")"],
    [(b"3 FETCH (BODY[]<0.100> {2}", b"ab"), (b" BODY[HEADER] {1}", b"x"), b" UID 4)"],
    [b'7 FETCH (X ("a" (b)) Y ("c"))'],
    [b'7 FETCH (BODYSTRUCTURE ("a" "b[c]" "{3}") UID 1)'],  # brackets and braces inside quotes are text
    [b'7 FETCH (X ' + b"(" * 10 + b'"deep" NIL' + b")" * 10 + b" UID 1)"],  # deeper than the one-pass pattern
]
# Records the fast path leaves to the general parser (odd spacing, atoms, literals inside lists …).
_GENERAL_RECORDS: list[list[bytes | tuple[bytes, bytes]]] = [
    [b"7 FETCH  (UID 12)"],
    [b"7 FETCH (UID  12)"],
    [b"7 fetch (UID 12)"],
    [b"7 FETCH (FLAGS \\Seen)"],
    [b"7 FETCH (UID 12x)"],
    [(b'7 FETCH (BODYSTRUCTURE ("text" "plain" ("name" {3}', b"a.b"), b') "x"))'],
    [b'7 FETCH (BODYSTRUCTURE ("a" b[c]) UID 1)'],
    [b"7 FETCH (UID 1) "],
    [b'7 FETCH (X ("a" (b) UID 1)'],  # unbalanced
    [b"7 FETCH (X " + b"(" * 60 + b'"a" b ' * 300 + b")"],  # unbalanced and long: no backtracking blow-up
]


@pytest.mark.parametrize("record", _FAST_RECORDS)
def test_fetch_fast_path_reads_as_the_general_parser(record: list[bytes | tuple[bytes, bytes]]) -> None:
    fast = _fast_fetch(record, frozenset())
    assert fast is not None
    assert fast == _general(record) == parse_fetch(record)


@pytest.mark.parametrize("record", _GENERAL_RECORDS)
def test_fetch_fast_path_leaves_the_unusual_to_the_general_parser(record: list[bytes | tuple[bytes, bytes]]) -> None:
    assert _fast_fetch(record, frozenset()) is None
    try:
        expected = _general(record)
    except (ParseError, AssertionError, IndexError, TypeError):
        with pytest.raises(ParseError):
            parse_fetch(record)
    else:
        assert parse_fetch(record) == expected


def test_fetch_defers_a_bodystructure_until_asked() -> None:
    record: list[bytes | tuple[bytes, bytes]] = [b"7 FETCH (UID 12 BODYSTRUCTURE " + _STRUCTURE + b")"]
    _, data = parse_fetch(record, defer=frozenset((b"BODYSTRUCTURE",)))
    structure = data[b"BODYSTRUCTURE"]
    assert isinstance(structure, Deferred) and bytes(structure) == _STRUCTURE
    assert structure.parse() == _general(record)[1][b"BODYSTRUCTURE"]
    with pytest.raises(ParseError):
        Deferred(b'("a" "b"').parse()


_HEADER_ITEM = b"BODY[HEADER.FIELDS (FROM SUBJECT)]"
_DEFER = frozenset((b"BODYSTRUCTURE",))


def _summary_record(uid: int, *, flags: bytes = b"\\Seen", preview: bytes = b"NIL",
                    structure: bytes = _STRUCTURE) -> list[bytes | tuple[bytes, bytes]]:
    header = b"From: a@x.example\r\nSubject: (hi) \"q\" {3}\r\n\r\n"
    line = (b"%d FETCH (UID %d FLAGS (%s) RFC822.SIZE 1063 INTERNALDATE \"07-Dec-2026 04:09:09 +0000\" PREVIEW %s "
            b"MODSEQ (2) BODYSTRUCTURE %s %s {%d}") % (uid, uid, flags, preview, structure, _HEADER_ITEM, len(header))
    return [(line, header), b")"]


def test_fetch_shape_reads_as_parse_fetch() -> None:
    """A shape learnt from one record reads the records of that shape as parse_fetch does (flags,
    previews with escapes, NIL, a BODYSTRUCTURE deferred or not), and leaves the others."""
    first = _summary_record(1)
    for defer in (_DEFER, frozenset()):
        shape = FetchShape.learn(first, parse_fetch(first, defer=defer)[1], defer=defer)
        assert shape is not None
        same = [_summary_record(2, flags=b""), _summary_record(3, flags=b"\\Seen $Label NIL"),
                _summary_record(4, preview=b'"a \\"quoted\\" \\\\ preview"'), _summary_record(5, preview=b'""'),
                _summary_record(6, structure=b'("text" "plain" NIL NIL NIL "7bit" 5 1 NIL NIL NIL NIL)')]
        for record in [first, *same]:
            data = shape.read(record)
            assert data is not None and data == parse_fetch(record, defer=defer)[1]
            assert type(data[b"BODYSTRUCTURE"]) is type(parse_fetch(record, defer=defer)[1][b"BODYSTRUCTURE"])
        other = [_summary_record(7, preview=b"{3}"), _summary_record(8, flags=b'"quoted"'),
                 [(b"9 FETCH (UID 9 FLAGS (\\Seen) " + _HEADER_ITEM + b" {2}", b"\r\n"), b" MODSEQ (3))"],
                 [b"10 FETCH (UID 10 FLAGS (\\Seen))"], [b"11 EXPUNGE"],
                 [(first[0][0].replace(b"UID 1 ", b"uid 1 "), first[0][1]), b")"]]  # type: ignore[index]
        for record in other:
            assert shape.read(record) is None
    one_line: list[bytes | tuple[bytes, bytes]] = [b"1 FETCH (UID 1 FLAGS (\\Seen))"]
    assert FetchShape.learn(one_line, parse_fetch(one_line)[1]) is None  # no literal ending the line
    odd = [(b"1 FETCH (UID 1 X-GM-MSGID 99 " + _HEADER_ITEM + b" {2}", b"\r\n"), b")"]
    assert FetchShape.learn(odd, parse_fetch(odd)[1]) is None  # an item it has no pattern for


def test_search_and_condstore_modseq() -> None:
    assert parse_search(b"2 84 882") == [2, 84, 882]
    assert parse_search(b"") == []
    assert parse_search(b"3 5 (MODSEQ 917162500)") == [3, 5]
    with pytest.raises(ParseError):
        parse_search(b"3 x")


def test_list_answer() -> None:
    assert parse_list([b'(\\HasNoChildren \\Sent) "/" "Sent Items"']) == (
        [b"\\HasNoChildren", b"\\Sent"], b"/", b"Sent Items")
    assert parse_list([b'(\\Noselect) NIL ""']) == ([b"\\Noselect"], None, b"")
    assert parse_list([(b'() "." {5}', b"A(b)c")]) == ([], b".", b"A(b)c")


def test_internaldate() -> None:
    assert parse_internaldate(b"17-Jul-1996 02:44:25 -0700") == datetime(
        1996, 7, 17, 2, 44, 25, tzinfo=timezone(-timedelta(hours=7)))
    assert parse_internaldate(b" 6-Dec-2026 12:00:00 +0000") == datetime(2026, 12, 6, 12, tzinfo=UTC)
    assert parse_internaldate(b"32-Foo-2026 12:00:00 +0000") is None
    assert parse_internaldate(None) is None
    assert parse_internaldate(b"31-Feb-2026 12:00:00 +0000") is None
    assert parse_internaldate(b"06-Dec-2026 24:00:00 +0000") is None
    assert parse_internaldate(b"06-Dec-2026 12:00:00 +2500") is None  # not a UTC offset (no exception)
    late = parse_internaldate(b"06-Dec-2026 12:00:00 -0075")  # minutes past 59: as the offset's value
    assert late is not None and late.utcoffset() == -timedelta(hours=1, minutes=15)
    assert parse_internaldate(b"06-dec-2026 23:59:59 +0530") == datetime(2026, 12, 6, 18, 29, 59, tzinfo=UTC)


@pytest.mark.parametrize(("name", "wire"), [
    ("INBOX", b"INBOX"),
    ("Tom & Jerry", b"Tom &- Jerry"),
    ("Éléments envoyés", b"&AMk-l&AOk-ments envoy&AOk-s"),
    ("~peter/mail/台北/日本語", b"~peter/mail/&U,BTFw-/&ZeVnLIqe-"),  # RFC 3501's example
])
def test_modified_utf7_round_trip(name: str, wire: bytes) -> None:
    assert utf7_encode(name) == wire
    assert utf7_decode(wire) == name


def test_modified_utf7_rejects_garbage() -> None:
    with pytest.raises(ParseError):
        utf7_decode(b"&AMk")
    with pytest.raises(ParseError):
        utf7_decode(b"&*!-")


def test_unterminated_quoted_string_is_an_error() -> None:
    with pytest.raises(ParseError):
        parse_values([b'A "unterminated'])
    assert parse_values([b'"a \\"q\\" b" x']) == [b'a "q" b', b"x"]
