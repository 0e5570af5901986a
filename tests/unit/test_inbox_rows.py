"""The inbox repository writes the JSON columns of listed messages from their known shapes; the
text must be what ``json.dumps`` (SQLAlchemy's JSON type) writes for the same values. Also the
ids a batch of listed messages gets."""

from __future__ import annotations

import json
import random
import re

from mailport.adapters.storage.inbox_repository import _json_flags, _json_people, _json_strings
from mailport.services.inbox_store import new_inbox_ids


def _text(rng: random.Random) -> str:
    alphabet = 'abcXYZ019 "\\/\t\n\x00\x1féü€😀<>@,'
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))


def test_json_columns_as_json_dumps_writes_them() -> None:
    rng = random.Random(19)
    for _ in range(500):
        strings = tuple(_text(rng) for _ in range(rng.randint(0, 4)))
        pairs = tuple((_text(rng), _text(rng)) for _ in range(rng.randint(0, 4)))
        assert _json_strings(strings) == json.dumps(list(strings))
        assert _json_flags(strings) == json.dumps(list(strings))
        assert _json_flags(strings) == json.dumps(list(strings))  # the remembered text
        assert _json_people(pairs) == json.dumps([{"name": n or None, "email": a} for n, a in pairs])


def test_listed_ids_ascend_and_look_like_ids() -> None:
    ids = new_inbox_ids(2000)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"imsg_[2-7a-z]{20}", i) for i in ids)
    assert len({i[-11:][k] for i in ids for k in range(11)}) == 32  # every base-32 digit turns up
    assert new_inbox_ids(0) == []
    assert new_inbox_ids(3)[0][:14] >= ids[-1][:14]  # time first: later batches sort after
