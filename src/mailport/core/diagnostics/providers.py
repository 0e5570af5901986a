"""Which provider variant of the advice applies to an account.

The variant comes from the provider id that discovery found (``core/providers.py`` catalog ids and
a few common aliases) or, failing that, from the address's domain. Custom domains hosted by Google
or Microsoft are only recognisable through the provider id, because the domain says nothing.
"""

from __future__ import annotations

from typing import Final

__all__ = ["provider_variant"]

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
    "generic": "generic",
}


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


def provider_variant(*, email: str | None, provider: str | None) -> str | None:
    """The advice variant for an account, or ``None`` when nothing specific is known.

    ``provider`` (a catalog id) wins over the address; the ambiguous ids ``google`` and
    ``microsoft`` are split into the consumer and the business variant by the address's domain.
    """
    domain = email.rpartition("@")[2] if email and "@" in email else None
    by_domain = _domain_variant(domain) if domain else None
    if provider:
        key = provider.strip().lower()
        if key == "google":
            return "gmail" if by_domain == "gmail" else "google_workspace"
        if key == "microsoft":
            return "outlook" if by_domain == "outlook" else "microsoft365"
        if key in _PROVIDER_IDS:
            return _PROVIDER_IDS[key]
    return by_domain
