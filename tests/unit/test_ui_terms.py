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
    assert gettext("nl", "Inbox") == "Postvak IN"  # its pair, as Outlook names them in Dutch
    assert gettext("nl", "Platform address") == "Doorzendadres"  # the Dutch seed's name for this method


def test_italian_status_list_agrees_with_la_mail() -> None:
    """The Italian seed (Qui Fattura) speaks of "la mail" and of "verifica": a message's state
    agrees with it (feminine, or a noun phrase), never the masculine participles of a literal
    translation ("Non riuscito", "Annullato", "Respinto", "Verrà ritentato")."""
    from mailport.web import labels

    message_states = [gettext("it", text) for text in labels.MESSAGE_STATES.values()]
    recipient_states = [gettext("it", text) for text in labels.RECIPIENT_STATES.values()]
    participles = re.compile(r"\b\w+(?:ato|uto|ito|into|sso)\b")  # masculine past participles
    for state in message_states + recipient_states:
        assert not participles.search(state), state
    assert "ritentat" not in " ".join(message_states)
    assert gettext("it", "Not tested yet") == "Non ancora verificata"  # the seed "verifica"s
    assert "test" not in gettext("it", "Last tested: %(when)s").lower()


def test_german_status_terms_are_no_literal_translations() -> None:
    """"Erfordert Aufmerksamkeit" is "needs attention" word for word; a German status says what
    to do ("Bitte prüfen"), and sentences keep their subject ("Prüfung nicht möglich")."""
    from mailport.web import labels

    states = [gettext("de", text) for group in (labels.ACCOUNT_STATES, labels.MESSAGE_STATES,
                                                 labels.RECIPIENT_STATES, labels.DOMAIN_STATES,
                                                 labels.VERDICT_STATUS, labels.STAGE_STATUS)
              for text in group.values()]
    assert not [s for s in states if "Aufmerksamkeit" in s or s.startswith("Konnte ")], states
    assert gettext("de", "Needs attention") == "Bitte prüfen"
    assert gettext("de", "Will be retried") == "Neuer Versuch folgt"
