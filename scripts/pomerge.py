"""Git merge driver for gettext catalogs: a three-way merge by message id, not by line.

Two branches that each add messages to the same ``.po`` file conflict as text (both append at the
end); by message id they rarely do. For each id: the side that changed it against the common
ancestor wins; when both changed it differently, ours wins and the driver reports it (exit 1 so git
marks the file as conflicted and a person looks). Enable in a clone with::

    git config merge.pomerge.driver ".venv/bin/python scripts/pomerge.py %O %A %B"
    printf '*.po merge=pomerge\\n*.pot merge=pomerge\\n' >> .git/info/attributes
"""

from __future__ import annotations

import sys

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po


def _load(path: str) -> Catalog:
    with open(path, "rb") as fh:
        return read_po(fh, abort_invalid=False)


def _key(message: Message) -> object:
    return (message.id, message.context)


def _value(message: Message | None) -> object:
    if message is None:
        return None
    return (message.string, tuple(sorted(message.flags)), tuple(message.auto_comments))


def merge(base_path: str, ours_path: str, theirs_path: str) -> int:
    base, ours, theirs = _load(base_path), _load(ours_path), _load(theirs_path)
    base_by = {_key(m): m for m in base if m.id}
    ours_by = {_key(m): m for m in ours if m.id}
    theirs_by = {_key(m): m for m in theirs if m.id}
    conflicts = 0
    result = Catalog(locale=ours.locale, domain=ours.domain, header_comment=ours.header_comment,
                     project=ours.project, version=ours.version, fuzzy=ours.fuzzy)
    result.mime_headers = ours.mime_headers
    order = list(ours_by) + [k for k in theirs_by if k not in ours_by]
    for key in order:
        b, o, t = base_by.get(key), ours_by.get(key), theirs_by.get(key)
        if _value(o) == _value(t) or _value(t) == _value(b):
            chosen = o
        elif _value(o) == _value(b):
            chosen = t
        else:
            conflicts += 1
            print(f"pomerge: both sides changed {key[0]!r}; kept ours", file=sys.stderr)
            chosen = o
        if chosen is None:
            continue  # deleted on the side that changed it
        result[chosen.id] = chosen  # type: ignore[index]
    with open(ours_path, "wb") as fh:
        write_po(fh, result, width=100, omit_header=False)
    return 1 if conflicts else 0


if __name__ == "__main__":
    sys.exit(merge(*sys.argv[1:4]))
