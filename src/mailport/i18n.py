"""Languages: choosing the user's language and translating texts through gettext catalogs.

The committed ``.po`` files are the source of truth:
``src/mailport/locale/<lang>/LC_MESSAGES/<domain>.po``. They are compiled in memory on first use
(Babel's ``read_po`` + ``write_mo``), so a fresh clone works without a build step.

Two gettext domains keep engineers from editing the same file:

- ``diagnostics``: titles and steps of :mod:`mailport.core.diagnostics` (marked with ``N_``).
- ``mailport``: every other user-facing text (UI, emails), marked with ``_``/``N_``/``gettext``.

Extracting and updating (``babel.cfg`` at the repository root)::

    pybabel extract -F babel.cfg -k N_ --no-location --omit-header \\
        -o src/mailport/locale/diagnostics.pot src/mailport/core/diagnostics
    pybabel update -D diagnostics -i src/mailport/locale/diagnostics.pot \\
        -d src/mailport/locale --no-fuzzy-matching

    pybabel extract -F babel.cfg -k N_ -k gettext:2 --no-location \\
        -o src/mailport/locale/mailport.pot src/mailport --ignore-dirs=diagnostics
    pybabel update -D mailport -i src/mailport/locale/mailport.pot -d src/mailport/locale

A new language: ``pybabel init -D <domain> -i … -d src/mailport/locale -l <lang>`` for both
domains, translate, and add it to :data:`SUPPORTED`. ``tests/unit/test_i18n.py`` and
``tests/unit/test_diagnostics_catalog.py`` check that nothing is left untranslated.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from io import BytesIO
from typing import Final

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

__all__ = [
    "COMPLETE",
    "DEFAULT",
    "DIAGNOSTICS_DOMAIN",
    "DOMAINS",
    "SUPPORTED",
    "UI_DOMAIN",
    "gettext",
    "negotiate",
    "normalize",
    "translations",
]

SUPPORTED: Final = ("en", "nl", "de", "it", "fr", "da", "nb", "sv")
"""Languages a user can choose. Texts without a translation show in English."""
COMPLETE: Final = ("en", "nl", "de", "it", "fr")
"""Languages every user-facing text must be translated into (the ``diagnostics`` domain is
complete in all of :data:`SUPPORTED`)."""
DEFAULT: Final = "en"
DIAGNOSTICS_DOMAIN: Final = "diagnostics"
UI_DOMAIN: Final = "mailport"
DOMAINS: Final = (DIAGNOSTICS_DOMAIN, UI_DOMAIN)

# "no" is the Norwegian macrolanguage and most of its readers read Bokmål; so do Nynorsk users.
_ALIASES: Final = {"no": "nb", "nn": "nb"}
_TAG: Final = re.compile(r"^[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*$|^\*$")


def normalize(tag: str | None) -> str | None:
    """The supported language for a tag such as ``nl-BE``, ``de_CH`` or ``FR``, else ``None``."""
    if not tag:
        return None
    tag = tag.strip()
    if not _TAG.match(tag) or tag == "*":
        return None
    primary = tag.replace("_", "-").split("-", 1)[0].lower()
    primary = _ALIASES.get(primary, primary)
    return primary if primary in SUPPORTED else None


def _parse_accept_language(header: str) -> list[tuple[str, float]]:
    """``(tag, q)`` pairs of an ``Accept-Language`` value (RFC 9110 §12.5.4), best first."""
    ranges: list[tuple[str, float, int]] = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip()
        if not tag or not _TAG.match(tag):
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = -1.0  # malformed weight: ignore this range
                if not 0.0 <= quality <= 1.0:
                    quality = -1.0
        if quality > 0.0:
            ranges.append((tag, quality, position))
    # Highest weight first; equal weights keep the order the client sent them in.
    ranges.sort(key=lambda r: (-r[1], r[2]))
    return [(tag, quality) for tag, quality, _ in ranges]


def negotiate(accept_language: str | None, query_lang: str | None = None) -> str:
    """The language to answer in: an explicit ``?lang=``/``--lang`` wins if supported, then the
    best supported range of ``Accept-Language`` (``nl-BE`` falls back to ``nl``), else ``en``."""
    explicit = normalize(query_lang)
    if explicit:
        return explicit
    if accept_language:
        for tag, _quality in _parse_accept_language(accept_language):
            if tag == "*":
                return DEFAULT
            lang = normalize(tag)
            if lang:
                return lang
    return DEFAULT


def _catalog_bytes(lang: str, domain: str) -> bytes | None:
    path = resources.files("mailport").joinpath("locale", lang, "LC_MESSAGES", f"{domain}.po")
    if not path.is_file():
        return None
    return path.read_bytes()


@cache
def translations(lang: str, domain: str = UI_DOMAIN) -> Translations:
    """Compiled translations of ``domain`` for ``lang`` (unsupported languages get English).

    Raises :class:`ValueError` for an unknown domain: a typo there would silently show English.
    """
    if domain not in DOMAINS:
        raise ValueError(f"unknown gettext domain {domain!r}; expected one of {DOMAINS}")
    lang = normalize(lang) or DEFAULT
    po = _catalog_bytes(lang, domain)
    if po is None:
        return Translations(domain=domain)  # no catalog: msgids (English) are returned as-is
    catalog = read_po(BytesIO(po), locale=lang, domain=domain)
    buffer = BytesIO()
    write_mo(buffer, catalog)  # fuzzy entries are left out: unreviewed text must not ship
    buffer.seek(0)
    return Translations(fp=buffer, domain=domain)


def gettext(lang: str, msgid: str, *, domain: str = UI_DOMAIN) -> str:
    """``msgid`` translated into ``lang`` (English if there is no translation)."""
    return translations(lang, domain).gettext(msgid)
