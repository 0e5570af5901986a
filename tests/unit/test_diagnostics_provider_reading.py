"""Issue 18, session 4: what ``explain`` does with what it knows about the account, and the
diagnoses for replies whose text cannot tell two causes apart.

- A refused password names the app-password case: provider-specific where the provider is known,
  generic otherwise, in every catalog language.
- The account's provider (address, server host or provider id) selects that provider's documented
  meaning of a reply first (``provider_codes``, a table of data).
- Relay refusals, connections that failed for an unstated reason and "server busy" get one
  diagnosis each that names the causes instead of a guess or ``unknown``.
- The rule/label clashes found in the corpus, resolved by their sources.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mailport.cli import app
from mailport.core.diagnostics import (
    CODES,
    PROVIDER_CODES,
    Evidence,
    classify,
    classify_text,
    provider_family,
    provider_variant,
)
from mailport.core.diagnostics.catalog import VARIANTS
from mailport.core.diagnostics.providers import _ADVICE_VARIANTS
from mailport.diagnosis_text import explain_code, explain_text
from mailport.i18n import SUPPORTED

REFUSED = "535 5.7.8 Authentication credentials invalid"


@pytest.mark.parametrize("lang", SUPPORTED)
def test_a_refused_password_names_the_app_password_case_in_every_language(lang: str) -> None:
    generic = explain_text(REFUSED, lang=lang)
    assert generic.code == "auth.invalid_credentials" and generic.provider is None
    english = explain_text(REFUSED, lang="en")
    # The password first (likelier), then the app password: both fixes, in that order.
    assert "carefully" in english.steps[1] and "app password" in english.steps[3]
    assert len(generic.steps) == len(english.steps)
    if lang != "en":
        assert generic.steps[3] != english.steps[3]  # translated, not English left in place


@pytest.mark.parametrize(("email", "host", "link"), [
    ("facturen@gmail.com", None, "https://myaccount.google.com/apppasswords"),
    ("info@bakkerij.nl", "smtp.gmail.com", "https://myaccount.google.com/apppasswords"),
    ("winkel@icloud.com", None, "https://appleid.apple.com"),
    ("shop@yahoo.com", None, "https://login.yahoo.com/account/security"),
    ("negozio@libero.it", None, "https://login.libero.it"),
    ("rechnung@gmx.de", None, "https://www.gmx.net"),
    ("info@bakkerij.nl", "smtp.office365.com", "https://mysignins.microsoft.com/security-info"),
])
def test_a_known_provider_names_its_own_setting_page(email: str, host: str | None, link: str) -> None:
    explanation = explain_code("auth.invalid_credentials", "nl", email=email, provider=None)
    if host is not None:  # the address alone says nothing: the server host names the provider
        assert explanation is not None and not any(link in step for step in explanation.steps)
        explanation = explain_text(REFUSED, lang="nl", email=email, host=host)
    assert explanation is not None
    assert any(link in step for step in explanation.steps), explanation.steps


def test_provider_family_from_address_host_or_id() -> None:
    assert provider_family(email="a@kpnmail.nl", provider=None) == "kpn"
    assert provider_family(email="a@bakkerij.it", provider=None, host="smtps.aruba.it") == "aruba"
    assert provider_family(email="a@bakkerij.nl", provider=None, host="smtp.office365.com") == "microsoft365"
    assert provider_family(email="a@hotmail.com", provider=None, host="smtp-mail.outlook.com") == "outlook"
    assert provider_family(email="a@bakkerij.nl", provider=None, host="smtp.gmail.com") == "google_workspace"
    assert provider_family(email="a@gmail.com", provider=None, host="smtp.gmail.com") == "gmail"
    assert provider_family(email="a@bakkerij.nl", provider="gmx", host="smtp.office365.com") == "gmx"
    assert provider_family(email="a@bakkerij.nl", provider=None, host="mail.bakkerij.nl") is None
    # Aruba and KPN select documented codes but have no advice of their own: generic steps.
    assert provider_variant(email="a@kpnmail.nl", provider=None) is None
    assert _ADVICE_VARIANTS == set(VARIANTS)


def test_the_providers_documented_meaning_comes_first() -> None:
    # Aruba: "policy violation" is its sending-rate cap; elsewhere the words say nothing of a rate.
    aruba = "550 5.7.1 iemL1p01Z0hMcT901emQ77 policy violation"
    assert classify_text(aruba, email="fatture@aruba.it").code == "server.rate_limited"
    assert classify_text(aruba).code != "server.rate_limited"
    # KPN: "blacklisted" is a lock after failed sign-ins; its help link names KPN without an address.
    blocked = "Your IP: 198.51.100.7 is blacklisted"
    assert classify_text(blocked, email="jan@kpnmail.nl").code == "auth.too_many_attempts"
    kpn = "Your IP: 198.51.100.7 is blacklisted, please see http://blacklist.kpnmail.nl/Help/17"
    assert classify_text(kpn).code == "auth.too_many_attempts"
    # Outlook.com's 5.7.3 to a password: password sign-in ended; through the host as well.
    outlook = "535 5.7.3 Authentication unsuccessful"
    assert classify_text(outlook, host="smtp-mail.outlook.com", email="a@hotmail.com").code == (
        "auth.password_login_disabled")
    # Only the bare reply: Microsoft's words after the code still decide (README's labelling rules).
    locked = "535 5.7.139 Authentication unsuccessful, account locked due to too many failed login attempts."
    assert classify_text(locked, email="a@hotmail.com").code == "auth.too_many_attempts"
    # A refused token stays a token problem whatever the provider's password rows say.
    assert classify(Evidence(text="535 5.7.8 Username and Password not accepted", auth_mechanism="XOAUTH2"),
                    email="a@gmail.com").code == "auth.token_invalid"
    # Every row cites where the meaning is written down and names a catalog code.
    for row in PROVIDER_CODES:
        assert row.source and row.code in CODES


@pytest.mark.parametrize(("text", "code"), [
    ("554 5.7.1 <klant@example.org>: Relay access denied", "send.relay_denied"),
    ("550 5.7.1 Unable to relay", "send.relay_denied"),
    ("451 Open relay not allowed - https://community.mimecast.com/docs/DOC-1369#451", "send.relay_denied"),
    # A refusal that says the program did not sign in is the same diagnosis, whose first cause it
    # names (session 7, README "Labelling rules": no password was refused, none was sent) …
    ("smtplib.SMTPRecipientsRefused: {'a@b.nl': (550, b'relay access denied - please authenticate')}",
     "send.relay_denied"),
    ("550-550 relay through this server without authentication.", "send.relay_denied"),
    ("553 5.7.1 <a@b.nl>: Sender address rejected: not logged in", "send.relay_denied"),
    ('Expected response code 250 but got code "530", with message "530 5.7.1 Authentication required"',
     "send.relay_denied"),
    ("SMTP Error: 550 Unauthenticated senders not allowed", "send.relay_denied"),
    # … except Microsoft's documented 5.7.57 (SMTP AUTH turned off), and a wrong password stays one.
    ("530 5.7.57 Client not authenticated to send mail. [AM0PR10CA0001.EURPRD10.PROD.OUTLOOK.COM]",
     "auth.smtp_auth_disabled"),
    ("535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6", "auth.invalid_credentials"),
    # Gmail's DMARC/unauthenticated-sender blocks are about the domain, not a sign-in.
    ("550-5.7.26 This mail has been blocked because the sender is unauthenticated.", "send.rejected_as_spam"),
    # Another relay refusal that names a different cause keeps that cause.
    ('553 Relaying disallowed as "info@bakkerij.nl"', "send.sender_not_allowed"),
    ("SMTP Error: Could not connect to SMTP host.", "net.connection_failed"),
    ("SMTP-fout: kon niet verbinden met SMTP-host.", "net.connection_failed"),
    ("OCA\\Mail\\Exception\\ServiceException: Could not send message: Error connecting to SMTP server.",
     "net.connection_failed"),
    # A connection failure that says why keeps the why.
    ("SMTP Error: Could not connect to SMTP host. Connection refused", "net.connection_refused"),
    ("421 4.4.5 Server busy, try again later", "server.busy"),
    ("451 4.7.500 Server busy. Please try again later from [198.51.100.7]. (S77719)", "server.busy"),
    ("421 4.7.0 Too many connections, server busy", "server.rate_limited"),
])
def test_replies_that_cannot_tell_two_causes_apart_get_one_diagnosis_naming_both(text: str, code: str) -> None:
    assert classify_text(text, learned_layer=True).code == code


@pytest.mark.parametrize(("text", "code"), [
    # Rackspace, GoDaddy: "<sender> is not allowed to send from <domain> [per its SPF Record]" is SPF.
    ("550 5.1.0 Sender is not allowed to send from example.com", "send.rejected_as_spam"),
    ("550 5.1.0 Sender is not allowed to send from <example.test> per its SPF Record", "send.rejected_as_spam"),
    # Sending as another *address* stays a sender permission.
    ("550 5.7.1 You are not allowed to send from info@bakkerij.nl", "send.sender_not_allowed"),
    # A loop under a 4xx code is retried (RFC 3463 X.4.6); a permanent one stays unknown.
    ("450 4.4.6 Routing loop detected (G16)", "server.temporary_failure"),
    ("550 5.4.14 Routing loop detected", "unknown"),
    # Thunderbird's bare "failed to connect to server X" is its unknown-host message ...
    ("Verbinden met server imap.ziggo.nl is mislukt.", "net.host_not_found"),
    ("Konnte nicht mit dem Server imap.gmx.net verbinden.", "net.host_not_found"),
    ("Échec lors de la connexion au serveur imap.orange.fr.", "net.host_not_found"),
    # ... while PHPMailer's similar words state no cause.
    ("SMTP-Fehler: Konnte keine Verbindung zum SMTP-Host herstellen.", "net.connection_failed"),
])
def test_rule_label_clashes_resolved_by_their_sources(text: str, code: str) -> None:
    assert classify_text(text, learned_layer=True).code == code


def test_cli_takes_the_address_and_the_host() -> None:
    runner = CliRunner()
    by_address = runner.invoke(app, ["explain", "--json", "--address", "fatture@aruba.it", "--lang", "it",
                                     "550 5.7.1 iemL1p01Z0hMcT901emQ77 policy violation"])
    assert by_address.exit_code == 0, by_address.output
    assert json.loads(by_address.stdout)["code"] == "server.rate_limited"
    by_host = runner.invoke(app, ["explain", "--json", "--email", "info@bakkerij.nl", "--host", "smtp.gmail.com",
                                  REFUSED])
    assert by_host.exit_code == 0, by_host.output
    data = json.loads(by_host.stdout)
    assert data["code"] == "auth.app_password_required" and data["provider"] == "google_workspace"
