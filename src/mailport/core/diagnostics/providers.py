"""Which provider an account is with, and so which variant of the advice applies.

The provider comes from the provider id that discovery found (``core/providers.py`` catalog ids and
a few common aliases), else from the connected account's server host (``smtp.office365.com``), else
from the address's domain. Custom domains hosted by Google or Microsoft are only recognisable
through the provider id or the host, because the domain says nothing.

:func:`provider_family` names the provider (also those without advice variants of their own, such
as Aruba or KPN, whose documented reply codes :mod:`.provider_codes` knows);
:func:`provider_variant` is the advice variant among :data:`~.catalog.VARIANTS`.
"""

from __future__ import annotations

from typing import Final

__all__ = ["provider_family", "provider_variant"]

# Exact consumer domains of each family.
_DOMAINS: Final[dict[str, str]] = {
    "gmail.com": "gmail",
    "googlemail.com": "gmail",
    "outlook.com": "outlook",
    "msn.com": "outlook",
    "passport.com": "outlook",
    "windowslive.com": "outlook",
    "ymail.com": "yahoo",
    "rocketmail.com": "yahoo",
    "aol.com": "yahoo",
    "aim.com": "yahoo",
    "icloud.com": "icloud",
    "me.com": "icloud",
    "mac.com": "icloud",
    "web.de": "gmx",
    "t-online.de": "tonline",
    "magenta.de": "tonline",
    "libero.it": "libero",
    "iol.it": "libero",
    "inwind.it": "libero",
    "blu.it": "libero",
    "giallo.it": "libero",
    "aruba.it": "aruba",
    "kpnmail.nl": "kpn",
    "kpnplanet.nl": "kpn",
    "planet.nl": "kpn",
    "hetnet.nl": "kpn",
    "home.nl": "kpn",
    "zoho.com": "zoho",
    "zohomail.com": "zoho",
    "zohomail.eu": "zoho",
    "orange.fr": "orange",
    "wanadoo.fr": "orange",
}

# Brands that use one first label under many country suffixes (hotmail.co.uk, gmx.at, yahoo.fr).
_BRAND_LABELS: Final[dict[str, str]] = {
    "hotmail": "outlook",
    "live": "outlook",
    "outlook": "outlook",
    "yahoo": "yahoo",
    "aol": "yahoo",
    "gmx": "gmx",
}

# Yahoo Japan is a different company with its own rules.
_NOT_BRANDS: Final = frozenset({"yahoo.co.jp"})

_PROVIDER_IDS: Final[dict[str, str]] = {
    "gmail": "gmail",
    "googlemail": "gmail",
    "google_workspace": "google_workspace",
    "googleworkspace": "google_workspace",
    "gsuite": "google_workspace",
    "workspace": "google_workspace",
    "outlook": "outlook",
    "outlook.com": "outlook",
    "outlook_com": "outlook",
    "hotmail": "outlook",
    "live": "outlook",
    "microsoft365": "microsoft365",
    "microsoft_365": "microsoft365",
    "office365": "microsoft365",
    "office_365": "microsoft365",
    "m365": "microsoft365",
    "exchange_online": "microsoft365",
    "yahoo": "yahoo",
    "aol": "yahoo",
    "icloud": "icloud",
    "apple": "icloud",
    "gmx": "gmx",
    "webde": "gmx",
    "web.de": "gmx",
    "web_de": "gmx",
    "tonline": "tonline",
    "t-online": "tonline",
    "t_online": "tonline",
    "telekom": "tonline",
    "libero": "libero",
    "italiaonline": "libero",
    "aruba": "aruba",
    "kpn": "kpn",
    "zoho": "zoho",
    "orange": "orange",
    "generic": "generic",
}

# The account's server host (what discovery or the user set up) -> provider, by host name suffix.
# Google's and Microsoft's hosts serve consumer and business accounts alike: the address decides.
_HOSTS: Final[tuple[tuple[str, str], ...]] = (
    ("gmail.com", "google"),
    ("googlemail.com", "google"),
    ("office365.com", "microsoft365"),
    ("outlook.office.com", "microsoft365"),
    ("outlook.com", "microsoft"),
    ("hotmail.com", "outlook"),
    ("mail.yahoo.com", "yahoo"),
    ("aol.com", "yahoo"),
    ("mail.me.com", "icloud"),
    ("icloud.com", "icloud"),
    ("gmx.net", "gmx"),
    ("gmx.com", "gmx"),
    ("web.de", "gmx"),
    ("t-online.de", "tonline"),
    ("libero.it", "libero"),
    ("aruba.it", "aruba"),
    ("kpnmail.nl", "kpn"),
    ("zoho.com", "zoho"),
    ("zoho.eu", "zoho"),
    ("orange.fr", "orange"),
)

# Families with advice variants of their own in the catalog (``catalog.VARIANTS``, kept in step by
# a unit test); the others only select documented reply codes.
_ADVICE_VARIANTS: Final = frozenset({
    "gmail", "google_workspace", "outlook", "microsoft365", "yahoo", "icloud", "gmx", "tonline",
    "libero", "generic",
})


def _domain_variant(domain: str) -> str | None:
    domain = domain.strip().rstrip(".").lower()
    if not domain or domain in _NOT_BRANDS:
        return None
    if domain in _DOMAINS:
        return _DOMAINS[domain]
    labels = domain.split(".")
    # brand.tld or brand.co.tld; never brand.example.com, which could be anybody's.
    country_suffix = len(labels) == 2 or (
        len(labels) == 3 and len(labels[1]) <= 3 and len(labels[2]) == 2
    )
    if country_suffix and labels[0] in _BRAND_LABELS:
        return _BRAND_LABELS[labels[0]]
    return None


def _host_provider(host: str) -> str | None:
    host = host.strip().rstrip(".").lower()
    for suffix, provider in _HOSTS:
        if host == suffix or host.endswith("." + suffix):
            return provider
    return None


def provider_family(
    *, email: str | None, provider: str | None, host: str | None = None
) -> str | None:
    """The account's provider (``gmail``, ``microsoft365``, ``aruba``, ``kpn`` …) or ``None``.

    ``provider`` (a catalog id) wins over ``host`` (the account's SMTP or IMAP server), which wins
    over the address; the ambiguous ids ``google`` and ``microsoft`` are split into the consumer
    and the business variant by the address's domain.
    """
    domain = email.rpartition("@")[2] if email and "@" in email else None
    by_domain = _domain_variant(domain) if domain else None
    key = provider.strip().lower() if provider else None
    if key not in _PROVIDER_IDS and key not in ("google", "microsoft"):
        key = _host_provider(host) if host else None
    if key == "google":
        return "gmail" if by_domain == "gmail" else "google_workspace"
    if key == "microsoft":
        return "outlook" if by_domain == "outlook" else "microsoft365"
    if key in _PROVIDER_IDS:
        return _PROVIDER_IDS[key]
    return by_domain


def provider_variant(
    *, email: str | None, provider: str | None, host: str | None = None
) -> str | None:
    """The advice variant for an account, or ``None`` when nothing specific is known (see
    :func:`provider_family`; providers without advice of their own get the generic advice)."""
    family = provider_family(email=email, provider=provider, host=host)
    return family if family in _ADVICE_VARIANTS else None
