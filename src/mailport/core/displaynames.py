"""Display names on the shared platform domain must not pass for an address.

Every tenant sends platform mail from ``<alias>@<platform domain>``, signed with the platform's
DKIM key — so a display name such as ``security@paypal.com`` or ``PayPal <service@paypal.com>``
would put a well-known address in front of a valid signature, and most mail apps show only the
name. :func:`check_platform_display_name` refuses names that contain an ``@``, angle brackets or
something shaped like a domain name, also in their Unicode look-alikes (NFKC folds the fullwidth
and small forms; the rest are listed), and names that pass for a well-known company or authority
("PayPal", "Microsoft", "Apple Support", "Belastingdienst"; the rule is below
:func:`check_platform_display_name`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Final

from mailport.errors import ValidationError

__all__ = ["COMMON_WORD", "DISTINCTIVE", "check_from_name", "check_platform_display_name", "impersonated_brand"]

_LOOKALIKE_AT = "@\uff20\ufe6b"
_LOOKALIKE_BRACKETS = "<>\u2039\u203a\u00ab\u00bb\uff1c\uff1e\ufe64\ufe65\u3008\u3009\u27e8\u27e9\u2329\u232a"
_LOOKALIKE_DOTS = "\u2024\u3002\uff0e\uff61\u2027\u00b7\u0701\u0702"
_INVISIBLE = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u00ad]")
# word.word with a top-level-domain-like last label: paypal.com, service.paypal.co.uk, xn--…
_DOMAIN = re.compile(r"[\w-]+(?:\.[\w-]+)*\.(?:[^\W\d_]{2,63}|xn--[\w-]+)\b", re.UNICODE)


def _folded(name: str) -> str:
    """``name`` as the eye reads it: NFKC (fullwidth and small forms), invisible characters
    dropped, look-alike dots as ``.``."""
    folded = _INVISIBLE.sub("", unicodedata.normalize("NFKC", name))
    for ch in _LOOKALIKE_DOTS:
        folded = folded.replace(ch, ".")
    return folded


def check_platform_display_name(name: str, *, field: str = "display_name", own_names: Iterable[str] = (),
                                more_brands: Iterable[str] = ()) -> str:
    """``name`` when it cannot pass for an address or a well-known brand (:func:`impersonated_brand`);
    :class:`ValidationError` otherwise."""
    folded = _folded(name)
    if any(ch in folded for ch in _LOOKALIKE_AT) or any(ch in folded for ch in _LOOKALIKE_BRACKETS):
        raise ValidationError("a display name on the platform address may not contain @, < or >",
                              code="platform.display_name_spoofing", field=field)
    if _DOMAIN.search(folded) or "mailto:" in folded.lower():
        raise ValidationError("a display name on the platform address may not look like an address or a "
                              "domain name", code="platform.display_name_spoofing", field=field)
    brand = impersonated_brand(name, own_names=own_names, more_brands=more_brands)
    if brand is not None:
        raise ValidationError(f"a display name on the platform address may not pass for {brand}: use the "
                              "business's own name", code="platform.display_name_brand", field=field)
    return name


# an address written out in a name: local@domain.tld (the domain needs a dot, as on the wire)
_ADDRESS_IN_NAME = re.compile(r"[^\s<>()\[\],;:\"'@]+@[^\s<>()\[\],;:\"'@]+\.[^\s<>()\[\],;:\"'@]+")


def check_from_name(name: str, own: Iterable[str], *, field: str = "from.name") -> str:
    """``name`` when it names no other address than ``own`` (the sender's address, in each of its forms).

    Most mail apps show only the name, so ``"PayPal <service@paypal.com>" <info@bakkerij.nl>``
    reads as mail from PayPal, sent with the business's valid signature. A name may still repeat
    its own address ("info@bakkerij.nl") and say anything else; in the common case (no ``@`` or
    look-alike in the name) this costs one scan."""
    if not any(ch in name for ch in _LOOKALIKE_AT) and not any(ch in name for ch in "<>"):
        return name
    folded = _folded(name)
    for ch in _LOOKALIKE_AT[1:]:
        folded = folded.replace(ch, "@")
    allowed = {address.casefold() for address in own}
    for found in _ADDRESS_IN_NAME.findall(folded):
        if found.strip(".").casefold() not in allowed:
            raise ValidationError(f"{field} may not contain another address than the sender's own ({found})",
                                  code="send.from_name_spoofing", field=field)
    return name


# -- brand names -------------------------------------------------------------------------------
#
# The rule (docs/security.md): a platform display name may not carry the name of a company or
# authority that phishing mail pretends to be. Names are compared by their "skeleton": NFKC,
# accents dropped, case folded, look-alike letters and digits mapped to one letter (Cyrillic
# "а", "0" for "o", "1"/"I" for "l", "rn" for "m"), camelCase split into words.
#
# * DISTINCTIVE brands are refused wherever their letters appear, spaces, dots and dashes
#   ignored ("PayPal", "Pay Pal", "P-a-y-P-a-l Service", "paypalsupport").
# * COMMON_WORD brands are also ordinary words or names ("Apple", "Amazon", "Orange", "ING" as
#   the engineer's title "Ing."): refused only as the whole name or next to a service word
#   ("Apple Support", "Amazon Billing", "DHL Express"); "Apple Tree Bakery" passes.
# * The tenant's own names (set by the operator or host product when the tenant was created)
#   exempt the brands they contain: a business registered as "Orange Bikes" may send as
#   "Orange Bikes Service".

DISTINCTIVE: Final = (
    # international
    "PayPal", "Microsoft", "Office365", "OneDrive", "SharePoint", "Hotmail", "Google", "Gmail",
    "Netflix", "Facebook", "Instagram", "WhatsApp", "LinkedIn", "DocuSign", "Dropbox", "Coinbase", "Binance",
    "MasterCard", "American Express", "Revolut", "Airbnb", "Booking.com", "Klarna", "Adyen", "Vodafone",
    "FedEx", "Chronopost", "Colissimo",
    # Netherlands and Belgium
    "PostNL", "Belastingdienst", "DigiD", "MijnOverheid", "Rabobank", "ABN AMRO", "SNS Bank", "ASN Bank",
    "Triodos", "Marktplaats", "Zalando", "Ziggo", "Belfius",
    # Germany
    "Deutsche Post", "Deutsche Bank", "Commerzbank", "Postbank", "Sparkasse", "Volksbank", "Raiffeisen",
    "Finanzamt", "Deutsche Telekom",
    # Italy
    "Poste Italiane", "BancoPosta", "Intesa Sanpaolo", "UniCredit", "Agenzia delle Entrate", "Satispay",
    # France
    "Banque Postale", "Credit Agricole", "BNP Paribas", "Societe Generale", "Credit Mutuel",
)
COMMON_WORD: Final = (
    "Apple", "Amazon", "Outlook", "Windows", "Office", "Teams", "Adobe", "eBay", "Visa", "Stripe", "Wise",
    "Mollie", "Orange", "Shell", "DHL", "UPS", "DPD", "GLS", "ING", "KPN", "KBC", "bunq", "Knab", "Bol", "Telekom",
    "Nexi", "INPS", "Impots", "CAF", "Politie", "Polizei", "Police", "Polizia", "Overheid", "iCloud", "T-Mobile",
    "bpost", "itsme", "La Poste", "Ameli",
)
# Words that make a common-word brand read as that company's own service.
_SERVICE_WORDS: Final = frozenset(word for line in (
    "support service services customer customers care help helpdesk desk team security secure safety account",
    "accounts billing payment payments pay invoice invoices notification notifications notice alert alerts verify",
    "verification login signin id official admin administrator noreply reply info mail online express delivery",
    "parcel tracking store",
    "klantenservice klantendienst klant klanten beveiliging veiligheid betaling betalingen factuur facturen",
    "melding meldingen rekening bericht berichten pakket zending",
    "kundenservice kundendienst kunden sicherheit konto zahlung zahlungen rechnung rechnungen benachrichtigung",
    "hilfe paket sendung",
    "assistenza servizio clienti cliente sicurezza conto pagamento pagamenti fattura fatture avviso notifica",
    "spedizione",
    "assistance client compte paiement facture factures facturation avis colis securite",
) for word in line.split())

_CONFUSABLE = str.maketrans({
    # Cyrillic and Greek letters drawn like Latin ones
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "і": "l", "ї": "l", "ј": "j", "ѕ": "s", "ԁ": "d", "ӏ": "l", "ɡ": "g",
    "α": "a", "β": "b", "ε": "e", "ι": "l", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
    "χ": "x",
    # digits and signs used for letters; i and l (and I, 1, |) are one letter here
    "0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g", "|": "l", "!": "l",
    "$": "s", "i": "l", "ı": "l",
})
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_WORD_SPLIT = re.compile(r"[^a-z]+")


def _words(text: str) -> list[str]:
    """The skeleton words of ``text`` (see above), in order."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    text = _CAMEL.sub(" ", text)
    text = "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))
    text = text.casefold().translate(_CONFUSABLE).replace("rn", "m").replace("vv", "w")
    return [w for w in _WORD_SPLIT.split(text) if w]


def _key(brand: str) -> str:
    return "".join(_words(brand))


_DISTINCTIVE_KEYS: Final = {_key(b): b for b in DISTINCTIVE}
_COMMON_KEYS: Final = {_key(b): b for b in COMMON_WORD}
_SERVICE_KEYS: Final = frozenset(_key(w) for w in _SERVICE_WORDS)


def _runs(words: list[str]) -> Iterator[tuple[int, int, str]]:
    """Every run of consecutive words: ``(start, end, joined)``."""
    for start in range(len(words)):
        run = ""
        for end in range(start, len(words)):
            run += words[end]
            yield start, end, run


def impersonated_brand(name: str, *, own_names: Iterable[str] = (),
                       more_brands: Iterable[str] = ()) -> str | None:
    """The well-known brand ``name`` would pass for (its usual spelling), else ``None``.

    A brand inside one of ``own_names`` (the tenant's registered names) does not count;
    ``more_brands`` are refused like :data:`COMMON_WORD` (the host product's own name).
    """
    words = _words(name)
    if not words:
        return None
    own = [_words(n) for n in own_names if n]
    own_joined = " ".join("".join(w) for w in own)
    own_runs = {run for w in own for _s, _e, run in _runs(w)}
    common = {**_COMMON_KEYS, **{_key(b): b for b in more_brands if _key(b)}}
    joined = "".join(words)
    for key, distinctive in _DISTINCTIVE_KEYS.items():
        if key in joined and key not in own_joined:
            return distinctive
    for start, end, run in _runs(words):
        brand = common.get(run)
        if brand is None or run in own_runs:
            continue
        rest = words[:start] + words[end + 1:]
        if not rest or any(w in _SERVICE_KEYS for w in rest):
            return brand
    return None
