"""IMAP response data → Python values (RFC 3501 §9 / RFC 9051 formal syntax), pure functions.

Input is the framing :mod:`.wire` produces: a record is a list whose items are either a line
(``bytes``) or a pair ``(line ending in "{n}", literal)``. Values come out as

- ``bytes`` for atoms, numbers, quoted strings and literals (quoted strings unescaped),
- ``None`` for ``NIL``,
- ``list`` for parenthesised lists (nested as on the wire).

A fetch item name with a section keeps its brackets and partial suffix as one token
(``BODY[HEADER.FIELDS (FROM TO)]<0>``), as servers echo it. Anything malformed raises
:class:`ParseError` (a :class:`ValueError`), which the adapter turns into a diagnosed
:class:`~mailport.errors.ProtocolError`.

Also here: modified UTF-7 for mailbox names (RFC 3501 §5.1.3), and the SEARCH and LIST answers.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import TypeAlias
from urllib.parse import unquote

from mailport.core.summary import AttachmentInfo, decode_words

__all__ = [
    "Deferred",
    "FetchShape",
    "ParseError",
    "Value",
    "attachments_from_bodystructure",
    "parse_fetch",
    "parse_internaldate",
    "parse_list",
    "parse_search",
    "parse_values",
    "utf7_decode",
    "utf7_encode",
]

Value: TypeAlias = bytes | None | list["Value"]

Item: TypeAlias = bytes | tuple[bytes, bytes]

# One token: a paren, a quoted string, or an atom-ish run (a section "[...]" and a partial
# "<n>" belong to the atom before them: BODY[HEADER.FIELDS (A B)]<0>). Tokens are cut by one
# C-level findall per line; only the nesting is done in Python. Quoted strings are matched
# "unrolled" (runs of plain characters, then an escape): an alternation per character cost
# 10 us for a 200-character PREVIEW.
_TOKENS = re.compile(
    rb'[()]|"[^"\\]*(?:\\.[^"\\]*)*"|[^\s()"\[\]]*\[[^\]]*\](?:<[0-9.]+>)?|[^\s()"]+'
)
_LITERAL_MARK = re.compile(rb"\{(\d+)\+?\}$")
_UNESCAPE = re.compile(rb"\\(.)")
_NIL = b"NIL"


class ParseError(ValueError):
    """Response data that does not follow the IMAP grammar."""


def parse_values(record: Sequence[Item]) -> list[Value]:
    """All values of one response record, in order, nested lists as lists."""
    stack: list[list[Value]] = [[]]
    for item in record:
        if isinstance(item, tuple):
            text, literal = item
            mark = _LITERAL_MARK.search(text)
            if mark is None:
                raise ParseError("a literal without its {n} announcement")
            _tokens(text[: mark.start()], stack)
            stack[-1].append(literal)
        else:
            _tokens(item, stack)
    if len(stack) != 1:
        raise ParseError("unbalanced parentheses")
    return stack[0]


def _tokens(text: bytes, stack: list[list[Value]]) -> None:
    current = stack[-1]
    quotes = 0  # an unmatched '"' is the one character no token takes: count them to notice
    for token in _TOKENS.findall(text):
        first = token[0]
        if first == 40:  # (
            child: list[Value] = []
            current.append(child)
            stack.append(child)
            current = child
        elif first == 41:  # )
            if len(stack) == 1:
                raise ParseError("unbalanced parentheses")
            stack.pop()
            current = stack[-1]
        elif first == 34:  # "
            if len(token) < 2 or token[-1] != 34:
                raise ParseError("an unterminated quoted string")
            quotes += token.count(b'"')
            inner = token[1:-1]
            current.append(_UNESCAPE.sub(rb"\1", inner) if b"\\" in inner else inner)
        elif token == _NIL or (len(token) == 3 and token.upper() == _NIL):
            current.append(None)
        else:
            if 34 in token:  # a quoted field name inside a section: BODY[HEADER.FIELDS ("X")]
                quotes += token.count(b'"')
            current.append(token)
    if quotes != text.count(b'"'):
        raise ParseError("an unterminated quoted string")


def parse_fetch(record: Sequence[Item], *, defer: frozenset[bytes] = frozenset()) -> tuple[int, dict[bytes, Value]]:
    """One ``FETCH`` record (``* `` stripped): ``n FETCH (NAME value …)`` → (n, {NAME: value}).

    Item names are upper-cased (``BODY[TEXT]<0>``; section text as sent by the server). Items
    named in ``defer`` (upper case) may come back as :class:`Deferred` (their bytes, a ``bytes``
    subclass) instead of lists: check for it before treating a value as an atom.
    """
    fast = _fast_fetch(record, defer)
    if fast is not None:
        return fast
    values = parse_values(record)
    if len(values) != 3 or not isinstance(values[0], bytes) or not isinstance(values[2], list):
        raise ParseError("not a FETCH response")
    if not isinstance(values[1], bytes) or values[1].upper() != b"FETCH" or not values[0].isdigit():
        raise ParseError("not a FETCH response")
    items = values[2]
    if len(items) % 2:
        raise ParseError("a FETCH item without its value")
    data: dict[bytes, Value] = {}
    for i in range(0, len(items), 2):
        name = items[i]
        if not isinstance(name, bytes):
            raise ParseError("a FETCH item name must be an atom")
        data[name.upper()] = items[i + 1]
    return int(values[0]), data


class Deferred(bytes):
    """A parenthesised FETCH value kept as its bytes (``(…)``), parsed on demand with :meth:`parse`.

    :func:`parse_fetch` returns one for the items named in its ``defer`` argument when the fast
    path read the record: a BODYSTRUCTURE nobody needs is not built into nested lists.
    """

    def parse(self) -> Value:
        values = parse_values([bytes(self)])
        if len(values) != 1:
            raise ParseError("not one parenthesised value")
        return values[0]


# The fast path of parse_fetch: the shape servers send (``n FETCH (NAME value NAME value …)``, single
# spaces; values that are numbers, quoted strings, NIL, flat lists, a literal ending the line, or
# parenthesised lists) read with one or two C-level matches per item instead of a Python step per
# token. Anything else goes through the general parser, which gives the same result for everything
# the fast path accepts (tests/unit/test_imap_parser.py checks both on the same records).
_FAST_HEAD = re.compile(rb"(\d+) FETCH \(")
_QUOTED = rb'"[^"\\]*(?:\\.[^"\\]*)*"'


def _balanced(depth: int) -> bytes:
    """A parenthesised list nested up to ``depth`` deep, matched in one C-level pass (possessive:
    no backtracking); literals and sections inside are left to the slower paths."""
    pattern = rb'\((?:[^()"{}\[\]]++|' + _QUOTED + rb')*+\)'
    for _ in range(depth - 1):
        pattern = rb'\((?:[^()"{}\[\]]++|' + _QUOTED + rb'|' + pattern + rb')*+\)'
    return pattern


_FAST_ITEM = re.compile(
    rb' ?([A-Za-z0-9.-]+(?:\[[^\]\r\n"]*\](?:<[0-9.]+>)?)?) '  # the name, a section and partial with it
    rb'(?:(\d+)(?=[ )])|"([^"\\]*(?:\\.[^"\\]*)*)"(?=[ )])|\(([^()"{}\[\]]*)\)(?=[ )])|(NIL)(?=[ )])'
    rb'|(\{\d+\+?\}$)|(' + _balanced(8) + rb')(?=[ )])|(?=\())',
    re.IGNORECASE)
_FAST_NESTED = re.compile(rb'[()]|' + _QUOTED)


def _fast_fetch(record: Sequence[Item], defer: frozenset[bytes]) -> tuple[int, dict[bytes, Value]] | None:
    first = record[0]
    text = first[0] if isinstance(first, tuple) else first
    head = _FAST_HEAD.match(text)
    if head is None:
        return None
    data: dict[bytes, Value] = {}
    index, pos, last = 0, head.end(), len(record) - 1
    size = len(text)
    match = _FAST_ITEM.match
    while True:
        if pos == size - 1 and text[pos] == 41 and index == last and not isinstance(record[index], tuple):
            return int(head.group(1)), data  # the closing ")"
        item = match(text, pos)
        if item is None:
            return None
        name, number, quoted, flat, nil, literal, nested = item.groups()
        name = name.upper()
        pos = item.end()
        if number is not None:
            data[name] = number
        elif quoted is not None:
            data[name] = _UNESCAPE.sub(rb"\1", quoted) if b"\\" in quoted else quoted
        elif flat is not None:
            atoms: list[Value] = [*flat.split()]
            if b"NIL" in flat.upper():
                atoms = [None if t.upper() == _NIL else t for t in flat.split()]
            data[name] = atoms
        elif nil is not None:
            data[name] = None
        elif literal is not None:
            line = record[index]
            if not isinstance(line, tuple) or index == last:
                return None
            data[name] = line[1]  # the literal ends this line: the next item goes on after it
            index += 1
            following = record[index]
            text = following[0] if isinstance(following, tuple) else following
            pos, size = 0, len(text)
        elif nested is not None:  # a nested list (BODYSTRUCTURE): matched whole by the pattern
            data[name] = Deferred(nested) if name in defer else parse_values([nested])[0]
        else:  # a nested list deeper than the pattern's, or with a literal or section inside
            depth, end, quotes = 0, -1, 0
            for token in _FAST_NESTED.finditer(text, pos):
                part = token.group()
                if part == b"(":
                    depth += 1
                elif part == b")":
                    depth -= 1
                    if not depth:
                        end = token.end()
                        break
                else:
                    quotes += part.count(b'"')
            if end < 0 or (end < size and text[end] not in b" )"):
                return None
            raw = text[pos:end]
            if quotes != raw.count(b'"') or b"{" in raw or b"[" in raw:
                return None  # a stray quote, a literal or a section inside: the general parser decides
            data[name] = Deferred(raw) if name in defer else parse_values([raw])[0]
            pos = end


class FetchShape:
    """A reader of FETCH records of one shape, learnt from a record :func:`parse_fetch` read: the
    same items in the same order on one line, the last a literal (a header section) ending it.

    A long ``UID FETCH`` of the same items is answered in one shape, so each record is read by one
    C-level match of a pattern built for it (instead of one per item): :meth:`read` gives what
    :func:`parse_fetch` gives for the record, or None when the record has another shape (read it
    with :func:`parse_fetch`). Items shapes are learnt for: UID, RFC822.SIZE, FLAGS, INTERNALDATE,
    MODSEQ, PREVIEW, BODYSTRUCTURE, and a ``BODY[…]`` literal last.
    """

    __slots__ = ("_convert", "_keys", "_pattern")

    def __init__(self, pattern: re.Pattern[bytes], keys: tuple[bytes, ...],
                 convert: tuple[tuple[int, Callable[[bytes | None], Value]], ...]) -> None:
        self._pattern = pattern
        self._keys = keys
        self._convert = convert

    @classmethod
    def learn(cls, record: Sequence[Item], data: dict[bytes, Value], *,
              defer: frozenset[bytes] = frozenset()) -> FetchShape | None:
        """The shape of ``record`` (``data``: what :func:`parse_fetch` read from it), or None when
        it is not one this class reads."""
        if len(record) != 2 or not isinstance(record[0], tuple) or record[1] != b")" or not data:
            return None
        keys = tuple(data)
        parts: list[bytes] = []
        convert: list[tuple[int, Callable[[bytes | None], Value]]] = []
        for i, key in enumerate(keys[:-1]):
            item = _SHAPE_ITEMS.get(key)
            if item is None:
                return None
            value, converter = item
            if key == b"BODYSTRUCTURE":
                converter = _deferred if key in defer else _parse_one
            parts.append(re.escape(key) + b" " + value)
            if converter is not None:
                convert.append((i, converter))
        last = keys[-1]
        if not last.startswith(b"BODY[") or not isinstance(data[last], bytes):
            return None
        pattern = re.compile(rb"\d+ FETCH \(" + b" ".join([*parts, re.escape(last) + rb" \{\d+\+?\}"]))
        shape = cls(pattern, keys, tuple(convert))
        return shape if shape.read(record) == data else None

    def read(self, record: Sequence[Item]) -> dict[bytes, Value] | None:
        first = record[0]
        if len(record) != 2 or not isinstance(first, tuple) or record[1] != b")":
            return None
        match = self._pattern.fullmatch(first[0])
        if match is None:
            return None
        values: list[Value] = [*match.groups(), first[1]]
        for i, converter in self._convert:
            values[i] = converter(values[i])  # type: ignore[arg-type]
        return dict(zip(self._keys, values, strict=True))


def _flat(flat: bytes | None) -> Value:
    assert flat is not None
    if b"NIL" in flat.upper():
        return [None if t.upper() == _NIL else t for t in flat.split()]
    return [*flat.split()]


def _listed(number: bytes | None) -> Value:
    return [number]


def _quoted_or_nil(quoted: bytes | None) -> Value:
    if quoted is None:
        return None
    return _UNESCAPE.sub(rb"\1", quoted) if b"\\" in quoted else quoted


def _deferred(nested: bytes | None) -> Value:
    return Deferred(nested or b"")


def _parse_one(nested: bytes | None) -> Value:
    return parse_values([nested or b""])[0]


# What a learnt shape matches for each item (one group each) and how the group becomes the value
# parse_fetch gives (None: the group's bytes as they are).
_SHAPE_ITEMS: dict[bytes, tuple[bytes, Callable[[bytes | None], Value] | None]] = {
    b"UID": (rb"(\d+)", None),
    b"RFC822.SIZE": (rb"(\d+)", None),
    b"FLAGS": (rb'\(([^()"{}\[\]]*)\)', _flat),
    b"INTERNALDATE": (rb'"([^"\\]*)"', None),
    b"MODSEQ": (rb"\((\d+)\)", _listed),
    b"PREVIEW": (rb'(?:NIL|"([^"\\]*(?:\\.[^"\\]*)*)")', _quoted_or_nil),
    b"BODYSTRUCTURE": (b"(" + _balanced(8) + b")", None),
}


def parse_search(line: bytes) -> list[int]:
    """A ``SEARCH`` answer's numbers (keyword stripped); a CONDSTORE ``(MODSEQ n)`` is ignored."""
    numbers = line.split(b"(", 1)[0].split()
    try:
        return [int(n) for n in numbers]
    except ValueError as exc:
        raise ParseError(f"not a SEARCH answer: {line[:40]!r}") from exc


def parse_list(record: Sequence[Item]) -> tuple[list[bytes], bytes | None, bytes]:
    """A ``LIST`` answer (keyword stripped) → (flags, delimiter, raw name)."""
    values = parse_values(record)
    if len(values) != 3 or not isinstance(values[0], list) or not isinstance(values[2], bytes):
        raise ParseError("not a LIST answer")
    flags = [f for f in values[0] if isinstance(f, bytes)]
    delimiter = values[1]
    if delimiter is not None and not isinstance(delimiter, bytes):
        raise ParseError("not a LIST answer")
    return flags, delimiter, values[2]


_MONTHS = {m: i for i, m in enumerate(
    (b"JAN", b"FEB", b"MAR", b"APR", b"MAY", b"JUN", b"JUL", b"AUG", b"SEP", b"OCT", b"NOV", b"DEC"), 1)}
_MONTH_DIGITS = {name: f"{number:02d}" for name, number in _MONTHS.items()}
_ZONES: dict[bytes, timezone] = {}
_INTERNALDATE = re.compile(rb"^\s?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)$")
_FROM_ISO = datetime.fromisoformat


def parse_internaldate(value: Value) -> datetime | None:
    """``"17-Jul-1996 02:44:25 -0700"`` → an aware datetime; None when absent or malformed."""
    if not isinstance(value, bytes):
        return None
    m = _INTERNALDATE.match(value)
    if m is None:
        return None
    day, month_name, year, hour, minute, second, sign, zone_hours, zone_minutes = m.groups()
    month = _MONTH_DIGITS.get(month_name.upper())
    if month is None:
        return None
    # The fields in one ISO string for C's reader (an initial sync reads one per message).
    try:
        return _FROM_ISO(f"{year.decode()}-{month}-{day.decode():0>2}T{hour.decode()}:{minute.decode()}:"
                         f"{second.decode()}{sign.decode()}{zone_hours.decode()}:{zone_minutes.decode()}")
    except ValueError:
        pass  # a day or time out of range, or an offset ISO 8601 does not write (minutes past 59)
    zone = _ZONES.get(value[-5:])
    try:
        if zone is None:
            offset = timedelta(hours=int(zone_hours), minutes=int(zone_minutes))
            zone = _ZONES.setdefault(value[-5:], timezone(-offset if sign == b"-" else offset))
        return datetime(int(year), _MONTHS[month_name.upper()], int(day), int(hour), int(minute), int(second),
                        tzinfo=zone)
    except ValueError:
        return None


# -- modified UTF-7 (RFC 3501 §5.1.3) -------------------------------------------------------------

def utf7_encode(name: str) -> bytes:
    """A mailbox name in IMAP's modified UTF-7: printable ASCII as is ("&" as "&-"), the rest as
    ``&`` + modified base64 of UTF-16BE + ``-``."""
    out = bytearray()
    pending: list[str] = []

    def flush() -> None:
        if pending:
            raw = "".join(pending).encode("utf-16-be")
            out.extend(b"&" + base64.b64encode(raw).rstrip(b"=").replace(b"/", b",") + b"-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.extend(b"&-" if ch == "&" else ch.encode("ascii"))
        else:
            pending.append(ch)
    flush()
    return bytes(out)


def utf7_decode(raw: bytes) -> str:
    """The inverse of :func:`utf7_encode`; :class:`ParseError` for a malformed name."""
    out: list[str] = []
    pos = 0
    while pos < len(raw):
        amp = raw.find(b"&", pos)
        if amp < 0:
            out.append(raw[pos:].decode("ascii", "strict"))
            break
        out.append(raw[pos:amp].decode("ascii", "strict"))
        dash = raw.find(b"-", amp)
        if dash < 0:
            raise ParseError("unterminated modified UTF-7 sequence")
        chunk = raw[amp + 1:dash]
        if not chunk:
            out.append("&")
        else:
            padded = chunk.replace(b",", b"/") + b"=" * (-len(chunk) % 4)
            try:
                out.append(base64.b64decode(padded, validate=True).decode("utf-16-be"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise ParseError("malformed modified UTF-7 sequence") from exc
        pos = dash + 1
    return "".join(out)


# -- BODYSTRUCTURE (RFC 3501 §7.4.2) -----------------------------------------------------------------

def attachments_from_bodystructure(structure: list[Value]) -> tuple[AttachmentInfo, ...]:
    """The attachments a BODYSTRUCTURE describes, in MIME order: parts with an ``attachment``
    disposition, or with a file name (inline or without a disposition)."""
    found: list[AttachmentInfo] = []
    _walk(structure, found, depth=0)
    return tuple(found)


def _walk(part: list[Value], found: list[AttachmentInfo], *, depth: int) -> None:
    if depth > 20 or not part:
        return
    if isinstance(part[0], list):  # multipart: (part)(part)… "subtype" …
        for child in part:
            if isinstance(child, list):
                _walk(child, found, depth=depth + 1)
            else:
                break
        return
    if len(part) < 7:
        return
    mime_type = _text(part[0]).lower() + "/" + _text(part[1]).lower()
    params = _pairs(part[2])
    size = int(part[6]) if isinstance(part[6], bytes) and part[6].isdigit() else 0
    # Extension data follows the basic fields: text/* adds a line count, message/rfc822 adds an
    # envelope, a body and a line count; then MD5, then the disposition.
    if mime_type == "message/rfc822":
        disposition_at = 11
    elif mime_type.startswith("text/"):
        disposition_at = 9
    else:
        disposition_at = 8
    disposition = part[disposition_at] if len(part) > disposition_at else None
    kind = ""
    disposition_params: dict[str, str] = {}
    if isinstance(disposition, list) and disposition and isinstance(disposition[0], bytes):
        kind = disposition[0].decode("ascii", "replace").lower()
        disposition_params = _pairs(disposition[1]) if len(disposition) > 1 else {}
    filename = disposition_params.get("filename") or params.get("name")
    if kind == "attachment" or (filename and kind in ("", "inline")):
        found.append(AttachmentInfo(filename=decode_words(filename) if filename else None,
                                    content_type=mime_type, size=size))


def _text(value: Value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else ""


def _pairs(value: Value) -> dict[str, str]:
    if not isinstance(value, list):
        return {}
    pairs: dict[str, str] = {}
    for i in range(0, len(value) - 1, 2):
        key, item = value[i], value[i + 1]
        if isinstance(key, bytes) and isinstance(item, bytes):
            name = key.decode("ascii", "replace").lower()
            text = item.decode("utf-8", "replace")
            if name.endswith("*"):  # RFC 2231: charset'language'percent-encoded
                name = name[:-1]
                charset, _, rest = text.partition("'")
                _, _, encoded = rest.partition("'")
                try:
                    text = unquote(encoded, encoding=charset or "utf-8", errors="replace")
                except LookupError:
                    text = unquote(encoded, errors="replace")
            pairs.setdefault(name, text)
    return pairs
