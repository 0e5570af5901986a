"""Display names on the shared platform domain must not pass for an address.

Every tenant sends platform mail from ``<alias>@<platform domain>``, signed with the platform's
DKIM key — so a display name such as ``security@paypal.com`` or ``PayPal <service@paypal.com>``
would put a well-known address in front of a valid signature, and most mail apps show only the
name. :func:`check_platform_display_name` refuses names that contain an ``@``, angle brackets or
something shaped like a domain name, also in their Unicode look-alikes (NFKC folds the fullwidth
and small forms; the rest are listed).
"""

from __future__ import annotations

import re
import unicodedata

from mailport.errors import ValidationError

__all__ = ["check_platform_display_name"]

_LOOKALIKE_AT = "@\uff20\ufe6b"
_LOOKALIKE_BRACKETS = "<>\u2039\u203a\u00ab\u00bb\uff1c\uff1e\ufe64\ufe65\u3008\u3009\u27e8\u27e9\u2329\u232a"
_LOOKALIKE_DOTS = "\u2024\u3002\uff0e\uff61\u2027\u00b7\u0701\u0702"
_INVISIBLE = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u00ad]")
# word.word with a top-level-domain-like last label: paypal.com, service.paypal.co.uk, xn--…
_DOMAIN = re.compile(r"[\w-]+(?:\.[\w-]+)*\.(?:[^\W\d_]{2,63}|xn--[\w-]+)\b", re.UNICODE)


def check_platform_display_name(name: str, *, field: str = "display_name") -> str:
    """``name`` when it cannot pass for an address; :class:`ValidationError` otherwise."""
    folded = _INVISIBLE.sub("", unicodedata.normalize("NFKC", name))
    for ch in _LOOKALIKE_DOTS:
        folded = folded.replace(ch, ".")
    if any(ch in folded for ch in _LOOKALIKE_AT) or any(ch in folded for ch in _LOOKALIKE_BRACKETS):
        raise ValidationError("a display name on the platform address may not contain @, < or >",
                              code="platform.display_name_spoofing", field=field)
    if _DOMAIN.search(folded) or "mailto:" in folded.lower():
        raise ValidationError("a display name on the platform address may not look like an address or a "
                              "domain name", code="platform.display_name_spoofing", field=field)
    return name
