"""OAuthClient and OAuthService against the lab's real (local) authorization server — the
protocol side of issue 7, without mail servers: PKCE, ID token checks, refresh, rotation,
revocation, provider errors, and one refresh for many concurrent callers."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from dbfixtures import make_runtime
from lab.oauth_server import LabClient, LabOAuthServer, default_users
from mailport.adapters.oauth import OAuthClient
from mailport.core.oauth import build_provider
from mailport.errors import RemoteAuthError, ValidationError
from mailport.runtime import Runtime

REDIRECT = "http://testserver/oauth/callback"
SCOPE = ("https://mail.google.com/ https://outlook.office.com/SMTP.Send "
         "https://outlook.office.com/IMAP.AccessAsUser.All offline_access openid email")


@pytest.fixture
def server() -> Iterator[LabOAuthServer]:
    lab = LabOAuthServer(users=default_users(), clients=[
        LabClient("mp", "mp-secret", (REDIRECT,), SCOPE),
        LabClient("other-app", "other-app-secret", (REDIRECT,), SCOPE),
    ]).start()
    try:
        yield lab
    finally:
        lab.stop()


def client_for(server: LabOAuthServer, name: str = "google", *, client_id: str = "mp",
               **overrides: str) -> OAuthClient:
    endpoints = {**server.endpoints(), **overrides}
    provider = build_provider(name, client_id=client_id, client_secret=f"{client_id}-secret" if client_id != "mp"
                              else "mp-secret", redirect_url=REDIRECT, overrides=endpoints)
    return OAuthClient(provider=provider, timeout=5)


async def sign_in(server: LabOAuthServer, client: OAuthClient, email: str, *, nonce: str = "nonce-1") -> dict[str, Any]:
    verifier = secrets.token_urlsafe(48)
    url = client.authorization_url(state="st", code_verifier=verifier, nonce=nonce, login_hint=email)
    back = await asyncio.to_thread(server.authorize_as, url, email)
    query = dict(parse_qsl(urlsplit(back).query))
    assert query["state"] == "st"
    return await client.exchange_code(code=query["code"], code_verifier=verifier)


async def test_code_exchange_needs_the_pkce_verifier(server: LabOAuthServer) -> None:
    client = client_for(server)
    url = client.authorization_url(state="st", code_verifier="v" * 50, nonce="n")
    back = await asyncio.to_thread(server.authorize_as, url, "user@example.test")
    code = dict(parse_qsl(urlsplit(back).query))["code"]
    with pytest.raises(RemoteAuthError) as caught:
        await client.exchange_code(code=code, code_verifier="w" * 50)
    assert caught.value.code == "auth.token_invalid"  # invalid_grant: code challenge failed
    assert "w" * 50 not in (caught.value.server_text or "")


async def test_id_token_is_validated(server: LabOAuthServer) -> None:
    client = client_for(server)
    tokens = await sign_in(server, client, "user@example.test", nonce="abc")
    claims = await client.validate_id_token(tokens["id_token"], nonce="abc")
    assert (claims["email"], claims["sub"], claims["aud"]) == ("user@example.test", "sub-user-1", "mp")
    with pytest.raises(ValidationError, match="nonce"):
        await client.validate_id_token(tokens["id_token"], nonce="other")
    # a token issued to another application proves nothing to us
    other = client_for(server, client_id="other-app")
    foreign = await sign_in(server, other, "user@example.test", nonce="abc")
    with pytest.raises(ValidationError, match="another application"):
        await client.validate_id_token(foreign["id_token"], nonce="abc")
    # tampered payload: the signature no longer verifies
    head, body, sig = tokens["id_token"].split(".")
    with pytest.raises(ValidationError, match="signature"):
        await client.validate_id_token(f"{head}.{body[:-4]}AAAA.{sig}", nonce="abc")
    # expired (our clock two hours later)
    import time

    with pytest.raises(ValidationError, match="expired"):
        await client.validate_id_token(tokens["id_token"], nonce="abc", now=time.time() + 7200)
    # another issuer
    wrong_issuer = client_for(server, issuer="https://accounts.google.com")
    with pytest.raises(ValidationError, match="issuer"):
        await wrong_issuer.validate_id_token(tokens["id_token"], nonce="abc")


async def test_rotated_signing_key_is_fetched_again(server: LabOAuthServer) -> None:
    client = client_for(server)
    first = await sign_in(server, client, "user@example.test")
    await client.validate_id_token(first["id_token"], nonce="nonce-1")
    jwks_fetches = server.requests.count(("GET", "/jwks"))
    server.rotate_signing_key()
    second = await sign_in(server, client, "user@example.test")
    await client.validate_id_token(second["id_token"], nonce="nonce-1")
    assert server.requests.count(("GET", "/jwks")) == jwks_fetches + 1


async def test_microsoft_multi_tenant_issuer_is_checked_against_tid(server: LabOAuthServer) -> None:
    server.tenant_issuer = True
    client = client_for(server, "microsoft", issuer=f"{server.base_url}/{{tenantid}}/v2.0")
    tokens = await sign_in(server, client, "user2@example.test")
    claims = await client.validate_id_token(tokens["id_token"], nonce="nonce-1")
    assert claims["iss"] == f"{server.base_url}/lab-tenant/v2.0"


async def test_refresh_revoke_and_errors(server: LabOAuthServer) -> None:
    client = client_for(server)
    tokens = await sign_in(server, client, "user@example.test")
    fresh = await client.refresh(refresh_token=tokens["refresh_token"])
    assert fresh["access_token"] != tokens["access_token"]
    assert await client.revoke(token=tokens["refresh_token"]) is True
    assert await client.revoke(token="never-issued") is True  # RFC 7009: unknown counts as revoked
    with pytest.raises(RemoteAuthError) as caught:
        await client.refresh(refresh_token=tokens["refresh_token"])
    assert caught.value.code == "auth.token_invalid" and caught.value.stage == "oauth.token"
    assert tokens["refresh_token"] not in f"{caught.value} {caught.value.server_text} {vars(caught.value)}"
    server.fail_next_token_request("invalid_grant", "AADSTS65001: The user or administrator has not consented")
    with pytest.raises(RemoteAuthError) as caught:
        await client.refresh(refresh_token="x")
    assert caught.value.code == "auth.admin_consent_required"
    assert "AADSTS65001" in (caught.value.server_text or "")
    server.fail_next_token_request("temporarily_unavailable", status=503)
    with pytest.raises(Exception) as caught_any:
        await client.refresh(refresh_token="x")
    assert getattr(caught_any.value, "code", None) == "server.temporary_failure"
    # Microsoft has no revocation endpoint: nothing to call
    assert await client_for(server, "microsoft", revocation_url="").revoke(token="x") is False


async def test_unreachable_server_is_a_network_error() -> None:
    from lab.ports import free_port

    port = free_port()
    provider = build_provider("google", client_id="mp", client_secret="s", redirect_url=REDIRECT,
                              overrides={"token_url": f"http://127.0.0.1:{port}/token"})
    with pytest.raises(Exception) as caught:
        await OAuthClient(provider=provider, timeout=2).refresh(refresh_token="x")
    assert getattr(caught.value, "code", None) == "net.connection_refused"


# -- the service: stored tokens, rotation, one refresh for many --------------------------------


@pytest.fixture
def runtime(tmp_path: Path, server: LabOAuthServer, database_url: str) -> Iterator[Runtime]:
    """On SQLite and PostgreSQL (the state is taken with SELECT … FOR UPDATE there)."""
    overrides = {f"oauth_microsoft_{k}": v for k, v in server.endpoints().items()}
    rt = make_runtime(tmp_path, database_url, public_url="http://testserver", oauth_microsoft_client_id="mp",
                      oauth_microsoft_client_secret="mp-secret", **overrides)
    yield rt
    rt.close()


async def connect_microsoft(runtime: Runtime, server: LabOAuthServer) -> tuple[str, str]:
    tenant = runtime.tenants.create(name="Kantoor")
    started = await runtime.oauth.start(tenant.tenant.id, "microsoft", login_hint="user@example.test",
                                        smtp={"host": "smtp.example.test", "port": 587, "security": "starttls"},
                                        imap={"host": "imap.example.test", "port": 993, "security": "tls"})
    back = await asyncio.to_thread(server.authorize_as, started.authorization_url, "user@example.test")
    query = dict(parse_qsl(urlsplit(back).query))
    result = await runtime.oauth.complete(state=query["state"], code=query["code"])
    assert result.outcome == "connected" and result.account is not None, result
    assert result.account.auth_kind == "oauth2" and result.account.smtp["host"] == "smtp.example.test"
    return tenant.tenant.id, result.account.id


async def test_rotating_refresh_tokens_are_stored_and_one_refresh_serves_many(
        runtime: Runtime, server: LabOAuthServer) -> None:
    server.rotate_refresh_tokens = True
    tenant_id, account_id = await connect_microsoft(runtime, server)
    first = await runtime.oauth.access_token(tenant_id, account_id)
    refreshes = server.token_requests("refresh_token")
    # ten sends whose server refused the same token at once: one refresh
    tokens = await asyncio.gather(*(runtime.oauth.access_token(tenant_id, account_id, rejected_token=first)
                                    for _ in range(10)))
    assert len(set(tokens)) == 1 and tokens[0] != first
    assert server.token_requests("refresh_token") == refreshes + 1
    # the rotated refresh token was stored: the next refresh works (the old one is dead now)
    again = await runtime.oauth.access_token(tenant_id, account_id, rejected_token=tokens[0])
    assert again not in (first, tokens[0])
    assert server.active_refresh_tokens("user@example.test") == 1


async def test_admin_consent_needed_at_refresh_marks_the_account(runtime: Runtime, server: LabOAuthServer) -> None:
    tenant_id, account_id = await connect_microsoft(runtime, server)
    token = await runtime.oauth.access_token(tenant_id, account_id)
    server.fail_next_token_request("invalid_grant", "AADSTS65001: consent required")
    with pytest.raises(RemoteAuthError) as caught:
        await runtime.oauth.access_token(tenant_id, account_id, rejected_token=token)
    assert caught.value.code == "auth.admin_consent_required"
    assert runtime.accounts.get(tenant_id, account_id).status == "needs_reconnect"


async def test_callback_reports_admin_consent_with_the_link(runtime: Runtime, server: LabOAuthServer) -> None:
    tenant = runtime.tenants.create(name="Kantoor")
    started = await runtime.oauth.start(tenant.tenant.id, "microsoft", login_hint="user@example.test")
    state = dict(parse_qsl(urlsplit(started.authorization_url).query))["state"]
    result = await runtime.oauth.complete(state=state, code=None, error="consent_required",
                                          error_description="AADSTS90094: Admin consent is required")
    assert result.outcome == "failed" and result.code == "auth.admin_consent_required"
    assert result.admin_consent_url and "/adminconsent?" in result.admin_consent_url
    assert result.retry_url and result.retry_url != started.authorization_url
    assert runtime.accounts.list_accounts(tenant.tenant.id) == []


def test_callback_page_explains_admin_consent_in_the_users_language(runtime: Runtime, server: LabOAuthServer) -> None:
    from fastapi.testclient import TestClient

    from mailport.api.app import create_app

    tenant = runtime.tenants.create(name="Kantoor")
    started = asyncio.run(runtime.oauth.start(tenant.tenant.id, "microsoft", login_hint="piet@contoso.nl"))
    state = dict(parse_qsl(urlsplit(started.authorization_url).query))["state"]
    with TestClient(create_app(runtime)) as client:
        page = client.get("/oauth/callback", params={
            "state": state, "error": "consent_required",
            "error_description": "AADSTS90094: Admin consent is required <script>alert(1)</script>"},
            headers={"Accept-Language": "nl"})
    assert page.status_code == 400
    assert "id='diagnosis'" in page.text and "id='admin-consent'" in page.text and "id='retry'" in page.text
    assert "<script>" not in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
