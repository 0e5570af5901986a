"""Terms and tone the seeds use, in every language (issue 16 item 10): the Dutch pages say
"je" throughout (the seed's tone), never "U"/"uw" on one page; a bounce is a plain word."""

from __future__ import annotations

import re
from importlib import resources
from io import BytesIO

from babel.messages.pofile import read_po

from mailport.i18n import gettext

LOCALE = resources.files("mailport").joinpath("locale")


def _strings(lang: str) -> list[str]:
    catalog = read_po(BytesIO(LOCALE.joinpath(lang, "LC_MESSAGES", "mailport.po").read_bytes()))
    return [m.string for m in catalog if m.id and isinstance(m.string, str) and m.string]


def test_dutch_says_je_everywhere() -> None:
    formal = [s for s in _strings("nl") if re.search(r"\b(?:U (?:kunt|bent|hebt|heeft|moet)|[Uu]w)\b", s)]
    assert not formal, formal


def test_status_and_tab_names_read_naturally() -> None:
    assert gettext("de", "Bounced") == "Unzustellbar"
    assert gettext("nl", "Outbox") == "Postvak UIT"  # it lists queued and scheduled mail, not only sent
    assert gettext("nl", "Platform address") == "Doorzendadres"  # the Dutch seed's name for this method
