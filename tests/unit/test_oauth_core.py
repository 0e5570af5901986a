"""mailport.core.oauth: provider configs, expiry math, identity, wrong-account guard, error codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from mailport.core.diagnostics import CODES
from mailport.core.oauth import (
    GOOGLE_SCOPES,
    MICROSOFT_SCOPES,
    PENDING_TTL,
    Identity,
    PendingAuthorization,
    TokenSet,
    WrongAccount,
    admin_consent_url,
    build_provider,
    check_expected_identity,
    default_servers,
    expected_issuer,
    identity_from_claims,
    token_error_code,
)
from mailport.errors import ValidationError

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def google(**overrides: str):  # type: ignore[no-untyped-def]
    return build_provider("google", client_id="cid", client_secret="sec",
                          redirect_url="https://mp.example/oauth/callback",
                          overrides=overrides)


def microsoft(tenant: str = "common"):  # type: ignore[no-untyped-def]
    return build_provider("microsoft", client_id="mcid", client_secret="msec",
                          redirect_url="https://mp.example/oauth/callback", tenant=tenant)


def test_scopes_are_exactly_what_the_providers_document() -> None:
    assert google().scope == "https://mail.google.com/ openid email"
    assert GOOGLE_SCOPES == ("https://mail.google.com/", "openid", "email")
    assert microsoft().scope == ("https://outlook.office.com/SMTP.Send "
                                 "https://outlook.office.com/IMAP.AccessAsUser.All "
                                 "offline_access openid email")
    assert MICROSOFT_SCOPES[2] == "offline_access"


def test_google_asks_for_offline_access_and_the_account_chooser() -> None:
    params = dict(google().extra_authorize_params)
    assert params["access_type"] == "offline"
    assert "select_account" in params["prompt"] and "consent" in params["prompt"]
    assert google().revocation_url == "https://oauth2.googleapis.com/revoke"


@pytest.mark.parametrize("tenant", ["common", "organizations", "consumers",
                                    "8eaef023-2b34-4da1-9baa-8bc8c9d6a490", "contoso.onmicrosoft.com"])
def test_microsoft_endpoints_follow_the_tenant(tenant: str) -> None:
    p = microsoft(tenant)
    assert p.authorization_url == f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize"
    assert p.token_url == f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
    assert p.revocation_url is None  # Microsoft has no RFC 7009 endpoint


def test_microsoft_rejects_a_malformed_tenant() -> None:
    with pytest.raises(ValidationError):
        microsoft("common/../evil")


def test_overrides_replace_single_endpoints_and_unknown_names_are_refused() -> None:
    p = google(token_url="http://127.0.0.1:1/token", issuer="http://127.0.0.1:1", authorization_url="")
    assert p.token_url == "http://127.0.0.1:1/token" and p.issuer == "http://127.0.0.1:1"
    assert p.authorization_url == "https://accounts.google.com/o/oauth2/v2/auth"
    with pytest.raises(ValidationError):
        google(userinfo_url="x")
    with pytest.raises(ValidationError) as caught:
        build_provider("yahoo", client_id="a", client_secret="b", redirect_url="c")
    assert caught.value.code == "oauth.unknown_provider"


def test_admin_consent_url_points_at_the_organisation_endpoint() -> None:
    url = admin_consent_url(microsoft("common"))
    assert url is not None
    parts = urlsplit(url)
    assert parts.path == "/organizations/v2.0/adminconsent"
    query = dict(parse_qsl(parts.query))
    assert query["client_id"] == "mcid" and "SMTP.Send" in query["scope"] and "offline_access" not in query["scope"]
    tenant = admin_consent_url(microsoft("8eaef023-2b34-4da1-9baa-8bc8c9d6a490"))
    assert tenant is not None and "/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/v2.0/adminconsent" in tenant
    assert admin_consent_url(google()) is None


def test_issuer_of_multi_tenant_microsoft_comes_from_tid() -> None:
    assert expected_issuer(microsoft(), {"tid": "abc-123"}) == ("https://login.microsoftonline.com/abc-123/v2.0",)
    assert expected_issuer(microsoft(), {}) == ()
    assert expected_issuer(microsoft(), {"tid": "../x"}) == ()
    assert set(expected_issuer(google(), {})) == {"https://accounts.google.com", "accounts.google.com"}


def test_token_set_expiry_and_refresh_margin() -> None:
    tokens = TokenSet.from_response({"access_token": "ya29.secret-token", "expires_in": 3599}, now=NOW)
    assert tokens.expires_at == NOW + timedelta(seconds=3599)
    assert not tokens.needs_refresh(NOW)
    assert not tokens.needs_refresh(NOW + timedelta(minutes=54))
    assert tokens.needs_refresh(NOW + timedelta(minutes=55))  # 5 minutes ahead of expiry
    assert TokenSet.from_response({"access_token": "at"}, now=NOW).expires_at == NOW + timedelta(hours=1)
    assert TokenSet.from_response({"access_token": "at", "expires_in": "junk"},
                                  now=NOW).expires_at == NOW + timedelta(hours=1)
    with pytest.raises(ValidationError):
        TokenSet.from_response({"token_type": "Bearer"}, now=NOW)
    assert "ya29" not in repr(tokens)


def test_pending_authorization_expires_and_hides_the_verifier() -> None:
    p = PendingAuthorization(state="s", tenant_id="t", provider="google", code_verifier="v" * 64, nonce="n",
                             created_at=NOW)
    assert not p.is_expired(NOW + PENDING_TTL - timedelta(seconds=1))
    assert p.is_expired(NOW + PENDING_TTL)
    assert "vvvv" not in repr(p)


def test_identity_from_google_claims_needs_a_verified_email() -> None:
    who = identity_from_claims(google(), {"sub": "1", "email": "Anna@GMAIL.com", "email_verified": True})
    assert who == Identity(email="Anna@gmail.com", subject="1")
    with pytest.raises(ValidationError) as caught:
        identity_from_claims(google(), {"sub": "1", "email": "a@gmail.com", "email_verified": False})
    assert caught.value.code == "oauth.email_unverified"
    with pytest.raises(ValidationError):
        identity_from_claims(google(), {"sub": "1"})
    with pytest.raises(ValidationError):
        identity_from_claims(google(), {"email": "a@gmail.com"})


def test_identity_from_microsoft_falls_back_to_the_sign_in_name() -> None:
    who = identity_from_claims(microsoft(), {"sub": "x", "tid": "t1", "preferred_username": "piet@contoso.nl"})
    assert (who.email, who.tenant) == ("piet@contoso.nl", "t1")
    assert identity_from_claims(microsoft(), {"sub": "x", "email": "a@b.nl",
                                              "preferred_username": "upn@b.nl"}).email == "a@b.nl"
    with pytest.raises(ValidationError) as caught:
        identity_from_claims(microsoft(), {"sub": "x", "preferred_username": "+31612345678"})
    assert caught.value.code == "oauth.no_email"


def test_wrong_account_is_named_and_case_does_not_matter() -> None:
    signed_in = Identity(email="private@gmail.com", subject="1")
    assert check_expected_identity(signed_in, login_hint="shop@gmail.com") == WrongAccount(
        expected="shop@gmail.com", signed_in="private@gmail.com")
    assert check_expected_identity(Identity(email="Shop@GMAIL.COM", subject="1"), login_hint="shop@gmail.com") is None
    assert check_expected_identity(signed_in, login_hint=None) is None
    # a reconnect must come back with the account's address, whatever the hint said
    assert check_expected_identity(signed_in, login_hint="private@gmail.com",
                                   account_email="shop@gmail.com") is not None


def test_default_servers_by_provider_and_domain() -> None:
    pid, smtp, imap = default_servers("google", "anna@gmail.com")
    assert (pid, smtp["host"], imap["host"]) == ("gmail", "smtp.gmail.com", "imap.gmail.com")
    assert default_servers("google", "anna@bakkerij.nl")[0] == "google_workspace"
    pid, smtp, _ = default_servers("microsoft", "jan@hotmail.com")
    assert (pid, smtp["host"], smtp["port"], smtp["security"]) == ("outlook", "smtp-mail.outlook.com", 587, "starttls")
    pid, smtp, imap = default_servers("microsoft", "jan@contoso.nl")
    assert (pid, smtp["host"], imap["host"]) == ("microsoft365", "smtp.office365.com", "outlook.office365.com")


@pytest.mark.parametrize(("error", "description", "code"), [
    ("invalid_grant", "Token has been expired or revoked.", "auth.token_invalid"),
    ("invalid_grant", "AADSTS70008: The provided authorization code or refresh token has expired",
     "auth.token_invalid"),
    ("invalid_grant", "AADSTS65001: The user or administrator has not consented to use the application",
     "auth.admin_consent_required"),
    ("consent_required", "AADSTS90094: Admin consent is required", "auth.admin_consent_required"),
    ("interaction_required", "AADSTS50076: multi-factor authentication", "auth.web_login_required"),
    ("access_denied", "The user denied", "oauth.access_denied"),
    ("invalid_client", "AADSTS7000215: Invalid client secret provided.", "oauth.client_misconfigured"),
    ("temporarily_unavailable", None, "server.temporary_failure"),
    ("something_new", None, "unknown"),
])
def test_token_error_codes(error: str, description: str | None, code: str) -> None:
    assert token_error_code(error, description) == code


def test_user_facing_codes_are_in_the_diagnostics_catalog() -> None:
    for code in ("auth.token_invalid", "auth.admin_consent_required", "auth.web_login_required",
                 "auth.smtp_auth_disabled", "server.temporary_failure"):
        assert code in CODES


@pytest.mark.parametrize(("text", "code"), [
    (("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. "
      "Visit https://aka.ms/smtp_auth_disabled for more information."), "auth.use_graph"),  # issue 15
    ("535 5.7.3 Authentication unsuccessful", "auth.token_invalid"),
    ("535-5.7.8 Username and Password not accepted.", "auth.token_invalid"),
    ("334 eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==",
     "auth.token_invalid"),
    ("a1 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)", "auth.token_invalid"),
])
def test_refused_bearer_tokens_are_diagnosed_as_tokens_not_passwords(text: str, code: str) -> None:
    from mailport.core.diagnostics import Evidence, classify

    for mechanism in ("XOAUTH2", "OAUTHBEARER"):
        evidence = Evidence(protocol="imap" if text.startswith("a1") else "smtp", stage="auth", text=text,
                            auth_mechanism=mechanism)
        assert classify(evidence, email="anna@gmail.com").code == code


def test_sasl_initial_responses() -> None:
    from base64 import b64decode

    from mailport.core.oauth import (
        OAUTHBEARER_FAILURE_ACK,
        oauthbearer_initial_response,
        xoauth2_initial_response,
    )

    assert b64decode(xoauth2_initial_response("a@b.c", "tok")) == b"user=a@b.c\x01auth=Bearer tok\x01\x01"
    assert b64decode(oauthbearer_initial_response("a,=b@c.d", "tok", host="imap.c.d", port=993)) == (
        b"n,a=a=2C=3Db@c.d,\x01host=imap.c.d\x01port=993\x01auth=Bearer tok\x01\x01")
    assert b64decode(oauthbearer_initial_response("a@b.c", "t")) == b"n,a=a@b.c,\x01auth=Bearer t\x01\x01"
    assert b64decode(OAUTHBEARER_FAILURE_ACK) == b"\x01"
