"""The ``mailport`` gettext domain (UI texts) is complete in every language of ``COMPLETE``.

Three checks: every text the web pages use is in ``mailport.pot`` (so a new text cannot ship
untranslated by being forgotten in the template), every msgid of the template is translated in
each complete language (no fuzzy entries), and the placeholders of each translation match its
msgid's — a missing ``{name}`` or ``%(email)s`` would raise or mislead at render time.
"""

from __future__ import annotations

import re
from importlib import resources
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from mailport.i18n import COMPLETE, UI_DOMAIN, gettext

LOCALE = resources.files("mailport").joinpath("locale")
WEB = Path(str(resources.files("mailport").joinpath("web")))
PLACEHOLDER = re.compile(r"\{[a-z_]+\}|%\([a-z_]+\)s")
FIX = ("update the catalogs: see the commands in the docstring of src/mailport/i18n.py "
       "(pybabel extract … -o src/mailport/locale/mailport.pot; pybabel update -D mailport …)")


def _catalog(path: object) -> Catalog:
    return read_po(BytesIO(path.read_bytes()))  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def template() -> Catalog:
    return _catalog(LOCALE.joinpath("mailport.pot"))


def test_every_text_of_the_web_pages_is_in_the_template(template: Catalog) -> None:
    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    keywords = {"_": None, "N_": None, "gettext": None}
    used = {msg[2] for msg in extract_from_dir(str(WEB), method_map, keywords=keywords)
            if isinstance(msg[2], str)}
    assert len(used) > 100, "extraction found too few texts: is the template extractor working?"
    missing = sorted(used - {m.id for m in template if m.id})
    assert not missing, f"not in mailport.pot ({FIX}): {missing[:10]}"


@pytest.mark.parametrize("lang", [lang for lang in COMPLETE if lang != "en"])
def test_every_ui_text_is_translated(template: Catalog, lang: str) -> None:
    catalog = _catalog(LOCALE.joinpath(lang, "LC_MESSAGES", f"{UI_DOMAIN}.po"))
    ids = [m.id for m in template if m.id]
    untranslated = [mid for mid in ids if not (catalog.get(mid) and catalog.get(mid).string)]
    assert not untranslated, f"{lang}: {len(untranslated)} untranslated ({FIX}): {untranslated[:5]}"
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not fuzzy, f"{lang}: fuzzy (unreviewed) entries do not ship: {fuzzy[:5]}"


@pytest.mark.parametrize("lang", [lang for lang in COMPLETE if lang != "en"])
def test_translations_keep_their_placeholders(lang: str) -> None:
    catalog = _catalog(LOCALE.joinpath(lang, "LC_MESSAGES", f"{UI_DOMAIN}.po"))
    wrong = [
        (m.id, m.string) for m in catalog
        if m.id and m.string and sorted(PLACEHOLDER.findall(m.id)) != sorted(PLACEHOLDER.findall(m.string))
    ]
    assert not wrong, f"{lang}: placeholders differ: {wrong[:3]}"


def test_catalogs_are_loaded_at_runtime() -> None:
    assert gettext("nl", "Save") == "Opslaan"
    assert gettext("de", "Connect a mailbox") == "Postfach verbinden"
    assert gettext("fr", "Remove %(email)s?") % {"email": "a@b.c"} == "Supprimer a@b.c ?"
    assert gettext("it", "Save") == "Salva"
    assert gettext("en", "Save") == "Save"
