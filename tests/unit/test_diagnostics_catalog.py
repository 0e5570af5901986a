"""The diagnostics catalog is complete: every code and provider variant has a title and steps in
every language, translations are real (not English left in place) and keep their links."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import mailport
from mailport.core.diagnostics import CODES, VARIANTS, Diagnosis
from mailport.diagnosis_text import explain
from mailport.i18n import DIAGNOSTICS_DOMAIN, DOMAINS, SUPPORTED, translations

ISSUE_CODES = {
    "auth.app_password_required", "auth.invalid_credentials", "auth.web_login_required",
    "auth.password_login_disabled", "auth.smtp_auth_disabled", "auth.imap_disabled",
    "auth.too_many_attempts", "auth.token_invalid", "auth.admin_consent_required",
    "send.sender_not_allowed", "send.daily_limit_reached", "send.account_blocked",
    "send.recipient_unknown", "send.recipient_mailbox_full", "send.message_too_large",
    "send.rejected_as_spam", "send.gave_up", "tls.starttls_required", "tls.mode_mismatch",
    "tls.certificate_invalid", "net.host_not_found", "net.connection_refused", "net.timeout",
    "net.wrong_service", "server.temporary_failure", "server.rate_limited", "unknown",
    # issue 15: provider APIs (Gmail API, Microsoft Graph)
    "auth.insufficient_permissions", "api.rate_limited",
    # issue 15: Microsoft Graph (SMTP AUTH off -> Graph; mailbox not in Exchange Online)
    "auth.use_graph", "api.mailbox_not_enabled",
    # issue 18: replies whose text cannot tell two causes apart get one diagnosis naming both
    "net.connection_failed", "send.relay_denied", "server.busy",
    # qa5: a server address in a private network, refused by mailport itself (not by a server)
    "net.host_not_allowed",
    # qa9: the same refusal for a webhook URL, in words about webhooks
    "webhook.host_not_allowed",
}
TRANSLATED = [lang for lang in SUPPORTED if lang != "en"]
LOCALE = Path(mailport.__file__).parent / "locale"
URL = re.compile(r"https?://[^\s,;)]+[^\s,;).]")


def _all_msgids() -> set[str]:
    ids: set[str] = set()
    for info in CODES.values():
        ids.add(info.title)
        ids.update(info.steps)
        for variant in info.variants.values():
            ids.update(variant.steps)
            if variant.title:
                ids.add(variant.title)
    return ids


def test_codes_are_exactly_the_stable_list() -> None:
    assert set(CODES) == ISSUE_CODES
    for code, info in CODES.items():
        assert info.code == code
        assert info.severity in {"error", "warning"}
        assert info.title and info.steps


def test_variants_are_known_provider_ids() -> None:
    used = {variant for info in CODES.values() for variant in info.variants}
    assert used <= set(VARIANTS)
    # Each named provider has at least one variant of its own somewhere.
    assert set(VARIANTS) - {"generic"} <= used


@pytest.mark.parametrize("lang", SUPPORTED)
@pytest.mark.parametrize("code", sorted(ISSUE_CODES))
def test_every_code_and_variant_explained_in_every_language(code: str, lang: str) -> None:
    for variant in (None, *VARIANTS):
        diagnosis = Diagnosis(code, CODES[code].severity, False, variant, "server said no")
        explanation = explain(diagnosis, lang)
        assert explanation.title.strip()
        assert explanation.steps and all(step.strip() for step in explanation.steps)
        assert explanation.server_text == "server said no"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_no_text_left_in_english(lang: str) -> None:
    catalog = translations(lang, DIAGNOSTICS_DOMAIN)
    untranslated = sorted(msgid for msgid in _all_msgids() if catalog.gettext(msgid) == msgid)
    assert untranslated == []


@pytest.mark.parametrize("lang", TRANSLATED)
def test_translations_keep_every_link(lang: str) -> None:
    catalog = translations(lang, DIAGNOSTICS_DOMAIN)
    for msgid in _all_msgids():
        assert set(URL.findall(msgid)) == set(URL.findall(catalog.gettext(msgid))), msgid


def test_template_and_catalogs_match_the_code() -> None:
    """The .pot is up to date with the N_() texts and every .po has exactly those msgids, none
    fuzzy (fuzzy entries are not compiled, so they would silently show English)."""
    with (LOCALE / "diagnostics.pot").open("rb") as fp:
        template = {m.id for m in read_po(fp) if m.id}
    assert template == _all_msgids()
    for lang in SUPPORTED:
        with (LOCALE / lang / "LC_MESSAGES" / "diagnostics.po").open("rb") as fp:
            catalog = read_po(fp)
        assert {m.id for m in catalog if m.id} == template, lang
        assert not [m.id for m in catalog if m.id and m.fuzzy], lang


@pytest.mark.parametrize("lang", SUPPORTED)
@pytest.mark.parametrize("domain", DOMAINS)
def test_both_domains_load_in_every_language(lang: str, domain: str) -> None:
    assert (LOCALE / lang / "LC_MESSAGES" / f"{domain}.po").is_file()
    assert translations(lang, domain).gettext("no such message") == "no such message"


def test_explanation_json_shape() -> None:
    diagnosis = Diagnosis("auth.imap_disabled", "error", False, "gmx", "NO login failed")
    data = explain(diagnosis, "de").to_dict()
    assert list(data) == ["code", "title", "steps", "provider", "retryable", "server_text"]
    assert data["code"] == "auth.imap_disabled"
    assert data["provider"] == "gmx"
    assert any("POP3 und IMAP Zugriff erlauben" in step for step in data["steps"])
    assert data["retryable"] is False
    assert data["server_text"] == "NO login failed"


def test_unknown_language_falls_back_to_english() -> None:
    diagnosis = Diagnosis("net.timeout", "warning", True, None, None)
    assert explain(diagnosis, "xx").title == CODES["net.timeout"].title
    assert explain(diagnosis, "nl-BE").title == "De mailserver reageerde niet op tijd"


def test_every_code_is_on_the_catalog_page() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    missing = sorted(code for code, info in CODES.items() if f"| `{code}` | {info.title} |" not in page)
    assert missing == []
