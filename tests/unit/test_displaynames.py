"""The platform display-name rule: no address look-alikes, no well-known brands."""

from __future__ import annotations

import pytest

from mailport.core.displaynames import check_from_name, check_platform_display_name, impersonated_brand
from mailport.errors import ValidationError


@pytest.mark.parametrize(("name", "brand"), [
    ("PayPal", "PayPal"), ("paypal service", "PayPal"), ("Pay Pal", "PayPal"), ("P-a-y-P-a-l", "PayPal"),
    ("PaypaI Security", "PayPal"),  # capital I for l
    ("PayPalSupport", "PayPal"), ("Micros0ft Team", "Microsoft"), ("rnicrosoft", "Microsoft"),
    ("M\u0456crosoft", "Microsoft"),  # Cyrillic і
    ("Apple Support", "Apple"), ("Apple", "Apple"), ("Amazon Billing", "Amazon"), ("ING Klantenservice", "ING"),
    ("DHL Express", "DHL"), ("Belastingdienst", "Belastingdienst"), ("Poste Italiane", "Poste Italiane"),
    ("Agenzia delle Entrate", "Agenzia delle Entrate"), ("Crédit Agricole", "Credit Agricole"),
    ("Deutsche Post Sendung", "Deutsche Post"), ("T-Mobile", "T-Mobile"),
])
def test_brands_are_recognized(name: str, brand: str) -> None:
    assert impersonated_brand(name) == brand


@pytest.mark.parametrize("name", [
    "Bakkerij Jansen", "Apple Tree Bakery", "Amazon Plants", "Ing. P. Jansen", "Amelia Bakery", "Art Mobile",
    "It's me Anna", "Web Post", "Villa Poste", "Café Amazone", "Shell Station", "Studio Visagie", "Jansen & Zn",
    "",
])
def test_ordinary_names_pass(name: str) -> None:
    assert impersonated_brand(name) is None


def test_the_tenants_own_names_exempt_the_brands_they_contain() -> None:
    assert impersonated_brand("Orange Bikes Service") == "Orange"
    assert impersonated_brand("Orange Bikes Service", own_names=["Orange Bikes B.V."]) is None
    # An own name only exempts whole words: "Ingenieursbureau" does not make "ING Support" fine.
    assert impersonated_brand("ING Support", own_names=["Ingenieursbureau Jansen"]) == "ING"
    assert impersonated_brand("Orange Bikes PayPal", own_names=["Orange Bikes"]) == "PayPal"


def test_the_host_products_name_counts_as_a_brand() -> None:
    assert impersonated_brand("Factuurapp Support", more_brands=["Factuurapp"]) == "Factuurapp"
    assert impersonated_brand("Bakkerij Jansen", more_brands=["Factuurapp"]) is None


def test_check_raises_a_coded_error_on_the_given_field() -> None:
    with pytest.raises(ValidationError) as raised:
        check_platform_display_name("Microsoft Security", field="from")
    assert (raised.value.code, raised.value.field) == ("platform.display_name_brand", "from")
    assert check_platform_display_name("Bakkerij Jansen") == "Bakkerij Jansen"


@pytest.mark.parametrize("name", [
    "PayPal <service@paypal.com>", "Jan (jan@other.test)", "service\uff20paypal.com",  # fullwidth @
    "service@paypal\u3002com",  # ideographic full stop
    "sec\u200burity@bank.test",  # zero-width space inside the address
])
def test_a_from_name_may_not_name_another_address(name: str) -> None:
    with pytest.raises(ValidationError) as refused:
        check_from_name(name, ("info@bakkerij.test",))
    assert refused.value.code == "send.from_name_spoofing" and refused.value.field == "from.name"


@pytest.mark.parametrize("name", [
    "Bakkerij Jansen", "info@bakkerij.test", "INFO@Bakkerij.TEST", "Bakkerij <info@bakkerij.test>",
    "Sales & Co", "a <b>", "x@y", "Jansen @ Markt", "",
])
def test_a_from_name_may_repeat_its_own_address_and_say_anything_else(name: str) -> None:
    assert check_from_name(name, ("info@bakkerij.test",)) == name
