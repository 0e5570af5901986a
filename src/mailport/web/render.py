"""Rendering the pages: one Jinja2 environment, texts and numbers in the session's language.

Every text goes through ``_`` (gettext domain ``mailport``), bound per request to the session's
language — never installed globally, because requests in different languages run at once.
Autoescaping is on for every template; translations are escaped like any other string.
Dates and numbers are formatted by Babel for the same language.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_time, get_datetime_format
from babel.numbers import format_decimal
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from mailport.i18n import SUPPORTED, UI_DOMAIN, translations

__all__ = ["Texts", "render", "texts_for"]

LANGUAGE_NAMES: Mapping[str, str] = {
    "en": "English", "nl": "Nederlands", "de": "Deutsch", "it": "Italiano", "fr": "Français",
}

# Explicit bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069). A mail from
# anyone may name its attachment "factuur<U+202E>fdp.exe", which a page would show as
# "factuurexe.pdf"; right-to-left text still reads right without them (the implicit algorithm).
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _without_bidi_controls(value: Any) -> Any:
    """Every ``{{ … }}`` output, before escaping: what the page shows is what the text is."""
    if isinstance(value, Markup):
        return Markup(_BIDI_CONTROLS.sub("", value))
    if isinstance(value, str):
        return _BIDI_CONTROLS.sub("", value)
    return value


_env = Environment(
    loader=PackageLoader("mailport.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,  # a typo in a template fails the test, not the user silently
    trim_blocks=True,
    lstrip_blocks=True,
    finalize=_without_bidi_controls,
)


class Texts:
    """The ``_``/``ngettext`` and formatting helpers of one language, handed to the templates."""

    def __init__(self, lang: str, time_zone: str = "UTC") -> None:
        self.lang = lang if lang in SUPPORTED else "en"
        self._catalog = translations(self.lang, UI_DOMAIN)
        try:
            self.zone = ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            self.zone = ZoneInfo("UTC")

    def gettext(self, msgid: str, /, **values: Any) -> str:
        text = self._catalog.gettext(msgid)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, /, **values: Any) -> str:
        text = self._catalog.ngettext(singular, plural, n)
        return text % {"num": format_decimal(n, locale=self.lang), **values}

    def datetime(self, value: datetime | str | None) -> str:
        """``value`` in the user's language and time zone (the session's; named, e.g. ``CET``)."""
        if value is None or value == "":
            return ""
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        local = value.astimezone(self.zone)
        # The medium date with the short time: a sent or scheduled time to the minute, as mail
        # clients show it (the medium datetime's seconds are noise to the reader).
        text = str(get_datetime_format("medium", locale=self.lang)).replace(
            "{1}", format_date(local, "medium", locale=self.lang)).replace(
            "{0}", format_time(local, "short", tzinfo=self.zone, locale=self.lang))
        return f"{text} {local.tzname() or self.zone}"

    def address(self, value: str) -> str:
        """An address as people write it: a domain the outbox stored in IDNA form
        (``ü@xn--bckerei-5wa.de``) shown in Unicode (``ü@bäckerei.de``)."""
        local, at, domain = value.rpartition("@")
        if not at or "xn--" not in domain.lower():
            return value
        try:
            return f"{local}@{domain.encode('ascii').decode('idna')}"
        except (UnicodeError, ValueError):
            return value

    def number(self, value: float) -> str:
        return format_decimal(value, locale=self.lang)

    def seconds(self, milliseconds: int | None) -> str:
        """A duration such as ``0,4 s`` (decimal comma where the language uses one)."""
        if milliseconds is None:
            return ""
        return format_decimal(round(milliseconds / 1000, 1), format="0.0", locale=self.lang) + "\u00a0s"


def texts_for(lang: str, time_zone: str = "UTC") -> Texts:
    return Texts(lang, time_zone)


def render(request: Request, template: str, *, lang: str, status_code: int = 200,
           headers: Mapping[str, str] | None = None, time_zone: str = "UTC", **context: Any) -> HTMLResponse:
    """The response for ``template`` with the helpers every template may use."""
    texts = texts_for(lang, time_zone)
    helpers: dict[str, Callable[..., Any] | Any] = {
        "_": texts.gettext, "ngettext": texts.ngettext, "fmt": texts, "lang": texts.lang,
        "languages": LANGUAGE_NAMES, "request": request,
        "is_htmx": request.headers.get("HX-Request") == "true",
    }
    html = _env.get_template(template).render({**helpers, **context})
    return HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))
