"""Bearer-token SASL in the SMTP and IMAP adapters against real servers: the lab's OAuth
Dovecot (IMAP) and Postfix (submission, SASL by Dovecot), tokens checked by introspection.

XOAUTH2 where offered; OAUTHBEARER (RFC 7628) against a second instance offering only it; a
refused token is diagnosed ``auth.token_invalid`` with either mechanism.
"""

from __future__ import annotations

import asyncio
import email.policy
import secrets
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from lab.oauth_mail import OAuthMailLab, running_oauth_lab
from mailport.adapters.dns import DnsResolver
from mailport.adapters.imap import ImapSession
from mailport.adapters.oauth import OAuthClient
from mailport.adapters.smtp import SmtpSession
from mailport.core.oauth import build_provider
from mailport.core.verification import Endpoint
from mailport.errors import RemoteAuthError
from mailport.settings import load_settings

pytestmark = pytest.mark.lab

USER = "user@example.test"
REDIRECT = "http://127.0.0.1:9/oauth/callback"


@pytest.fixture(scope="module")
def oauth_lab(lab_ca: Any, mail_lab: Any) -> Iterator[OAuthMailLab]:
    """This module's own authorization server and OAuth mail lab: what other tests did to the
    session's shared one (revocations, rotated keys, expired tokens) cannot leak in here.
    (``mail_lab`` only makes sure the lab's packages are there, as the shared fixture does.)"""
    with running_oauth_lab(lab_ca) as lab:
        yield lab


@pytest.fixture(scope="module")
def oauthbearer_lab(lab_ca: Any, oauth_lab: Any) -> Iterator[OAuthMailLab]:
    """A second OAuth mail lab (same authorization server) offering only OAUTHBEARER."""
    lab = OAuthMailLab(lab_ca, oauth=oauth_lab.oauth, mechanisms=("oauthbearer",))
    lab.start()
    try:
        yield lab
    finally:
        lab.stop()


async def _token(oauth_lab: Any) -> str:
    oauth_lab.oauth.allow_redirect(oauth_lab.client_id, REDIRECT)
    provider = build_provider("google", client_id=oauth_lab.client_id, client_secret=oauth_lab.client_secret,
                              redirect_url=REDIRECT, overrides=oauth_lab.oauth.endpoints())
    client = OAuthClient(provider=provider, timeout=5)
    verifier = secrets.token_urlsafe(48)
    url = client.authorization_url(state="s", code_verifier=verifier, nonce="n", login_hint=USER)
    back = await asyncio.to_thread(oauth_lab.oauth.authorize_as, url, USER)
    code = dict(parse_qsl(urlsplit(back).query))["code"]
    return str((await client.exchange_code(code=code, code_verifier=verifier))["access_token"])


def _settings(lab: Any) -> Any:
    return load_settings(env="test", allow_private_hosts=True, ca_file=str(lab.ca_pem_path), connect_timeout=5.0,
                         secret_key="t1:" + "A" * 43 + "=", admin_key="x" * 20)


def _message(subject: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = USER, "user2@example.test", subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@example.test>"
    msg.set_content("hello")
    return msg.as_bytes(policy=email.policy.SMTP)


@pytest.mark.parametrize("which", ["xoauth2", "oauthbearer"])
async def test_token_login_on_smtp_and_imap(which: str, oauth_lab: Any, request: pytest.FixtureRequest) -> None:
    lab = oauth_lab if which == "xoauth2" else request.getfixturevalue("oauthbearer_lab")
    settings, resolver = _settings(lab), DnsResolver.from_settings(_settings(lab))
    token = await _token(oauth_lab)
    smtp_ep = Endpoint(host="127.0.0.1", port=lab.submission_port, security="starttls", username=USER)
    imap_ep = Endpoint(host="127.0.0.1", port=lab.imaps_port, security="tls", username=USER)
    subject = f"SASL {which} {uuid.uuid4().hex[:6]}"
    async with SmtpSession.open(smtp_ep, password=None, oauth_token=token, settings=settings,
                                resolver=resolver, email=USER) as smtp:
        assert which in smtp.extensions.get("auth", "").lower()
        await smtp.send(USER, ["user2@example.test"], _message(subject))
    lab.wait_for_message("user2@example.test", subject=subject)
    assert f"sasl_method={which.upper()}, sasl_username={USER}" in "\n".join(lab.iter_log("postfix"))
    async with ImapSession.open(imap_ep, password=None, oauth_token=token, settings=settings, resolver=resolver,
                                email=USER) as imap:
        status = await imap.select("INBOX", readonly=True)
        assert status.exists >= 0
    assert f"method={which.upper()}" in "\n".join(lab.iter_log("dovecot"))

    # a token the authorization server no longer vouches for: refused, diagnosed as such
    oauth_lab.oauth.revoke_user(USER)
    with pytest.raises(RemoteAuthError) as smtp_refused:
        async with SmtpSession.open(smtp_ep, password=None, oauth_token=token, settings=settings,
                                    resolver=resolver, email=USER):
            pass
    assert smtp_refused.value.code == "auth.token_invalid", smtp_refused.value.server_text
    with pytest.raises(RemoteAuthError) as imap_refused:
        async with ImapSession.open(imap_ep, password=None, oauth_token=token, settings=settings,
                                    resolver=resolver, email=USER):
            pass
    assert imap_refused.value.code == "auth.token_invalid", imap_refused.value.server_text
    for error in (smtp_refused.value, imap_refused.value):
        assert token not in f"{error} {error.server_text}"
