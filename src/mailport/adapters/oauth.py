"""Talking to an OAuth 2.0 / OpenID Connect authorization server (Google, Microsoft, the lab's).

authlib supplies the protocol pieces (PKCE S256 challenge, the authorization URL, ``jose``
validation of the ID token through :mod:`joserfc`); httpx does the HTTP. What this adapter adds:

* the authorization URL with ``state``, ``nonce``, PKCE and the provider's extra parameters;
* code exchange, refresh and RFC 7009 revocation with the client secret (``client_secret_post``,
  which both Google and Microsoft accept);
* ID token validation: signature against the provider's JWKS (cached, refetched once for an
  unknown ``kid`` — providers rotate keys), ``iss``, ``aud``, ``exp``/``iat`` with a small leeway,
  and the ``nonce`` of this sign-in;
* errors translated at this edge: an error answer of the token endpoint becomes a
  :class:`~mailport.errors.RemoteAuthError` whose ``code`` is the diagnosis
  (``auth.token_invalid`` for ``invalid_grant`` …); network failures become
  :class:`~mailport.errors.NetworkError` / :class:`~mailport.errors.RemoteTimeout`.
  Tokens never appear in messages; the provider's ``error_description`` goes to ``server_text``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from typing import Any

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri  # type: ignore[import-untyped]
from authlib.oauth2.rfc7636 import create_s256_code_challenge  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from mailport.adapters.http import new_client
from mailport.core.diagnostics import scrub
from mailport.core.diagnostics.remote_error import remote_error_class
from mailport.core.oauth import OAuthProvider, expected_issuer, token_error_code
from mailport.errors import NetworkError, ProtocolError, RemoteError, RemoteTimeout, ValidationError

__all__ = ["OAuthClient"]

USER_AGENT = "mailport-oauth/0.1"
CLOCK_LEEWAY = 120  # seconds of clock skew tolerated on exp/iat/nbf
_JWKS_MAX_AGE = 3600.0


class OAuthClient:
    """One provider's endpoints, used by :class:`mailport.services.oauth.OAuthService`.

    ``transport`` lets tests plug an ``httpx.MockTransport``; in production the default
    transport verifies TLS against the system store plus ``ca_file``.
    """

    def __init__(self, *, provider: OAuthProvider, timeout: float = 10.0, ca_file: str = "",
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.provider = provider
        self._timeout = timeout
        self._ca_file = ca_file
        self._transport = transport
        self._jwks: KeySet | None = None
        self._jwks_at = 0.0
        self._jwks_lock = asyncio.Lock()

    # -- the browser leg -----------------------------------------------------------------------

    def authorization_url(self, *, state: str, code_verifier: str, nonce: str,
                          login_hint: str | None = None, scope: str | None = None) -> str:
        """Where to send the user's browser to sign in and consent (for ``scope``, by default
        the provider's configured scopes)."""
        params: dict[str, str] = dict(self.provider.extra_authorize_params)
        params.update(nonce=nonce, code_challenge=create_s256_code_challenge(code_verifier),
                      code_challenge_method="S256")
        if login_hint:
            params["login_hint"] = login_hint
        return str(prepare_grant_uri(
            self.provider.authorization_url, client_id=self.provider.client_id, response_type="code",
            redirect_uri=self.provider.redirect_url, scope=scope or self.provider.scope, state=state, **params,
        ))

    # -- the token endpoint --------------------------------------------------------------------

    async def exchange_code(self, *, code: str, code_verifier: str) -> dict[str, Any]:
        """The token response for an authorization code (access, refresh and ID token)."""
        return await self._token_request({
            "grant_type": "authorization_code", "code": code, "code_verifier": code_verifier,
            "redirect_uri": self.provider.redirect_url,
        })

    async def refresh(self, *, refresh_token: str, scope: str | None = None) -> dict[str, Any]:
        """A new access token (and, with Microsoft, a new refresh token replacing the old one)
        for ``scope`` — the grant's own scopes, so a profile changed since the sign-in does not
        ask for permissions the user never gave."""
        return await self._token_request({"grant_type": "refresh_token", "refresh_token": refresh_token,
                                          "scope": scope or self.provider.scope})

    async def revoke(self, *, token: str, token_type_hint: str = "refresh_token") -> bool:
        """Revoke ``token`` (RFC 7009); ``False`` when the provider has no revocation endpoint.

        A token the server does not know counts as revoked (RFC 7009 §2.2 answers 200 for it;
        Google answers 400 ``invalid_token``, which means the same thing here).
        """
        url = self.provider.revocation_url
        if not url:
            return False
        response = await self._post(url, {"token": token, "token_type_hint": token_type_hint,
                                          **self._client_auth()}, stage="oauth.revoke")
        if response.status_code == 200:
            return True
        error = _json(response).get("error")
        if response.status_code == 400 and error in ("invalid_token", "invalid_request"):
            return True
        raise self._error(response, stage="oauth.revoke")

    # -- the ID token --------------------------------------------------------------------------

    async def validate_id_token(self, id_token: str, *, nonce: str, now: float | None = None) -> dict[str, Any]:
        """The claims of ``id_token`` after checking signature, issuer, audience, time and nonce.

        Raises :class:`~mailport.errors.ValidationError` (code ``oauth.bad_id_token``) when any
        check fails — a token that does not validate proves nothing about who signed in.
        """
        now = time.time() if now is None else now
        keys = await self._keys(refresh=False)
        try:
            token = jwt.decode(id_token, keys, algorithms=["RS256", "ES256", "PS256"])
        except (JoseError, ValueError) as exc:
            # An unknown key may mean the provider rotated its keys since we cached them.
            keys = await self._keys(refresh=True)
            try:
                token = jwt.decode(id_token, keys, algorithms=["RS256", "ES256", "PS256"])
            except (JoseError, ValueError):
                raise _bad_id_token("the ID token's signature does not verify") from exc
        claims = dict(token.claims)
        issuers = expected_issuer(self.provider, claims)
        if claims.get("iss") not in issuers:
            raise _bad_id_token("the ID token comes from another issuer")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.provider.client_id not in audiences:
            raise _bad_id_token("the ID token was issued to another application")
        if len(audiences) > 1 and claims.get("azp") not in (None, self.provider.client_id):
            raise _bad_id_token("the ID token was issued to another application")
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, (int, float)) or now > exp + CLOCK_LEEWAY:
            raise _bad_id_token("the ID token has expired")
        if isinstance(iat, (int, float)) and iat > now + CLOCK_LEEWAY:
            raise _bad_id_token("the ID token is issued in the future")
        if claims.get("nonce") != nonce:
            raise _bad_id_token("the ID token belongs to another sign-in (nonce)")
        return claims

    async def _keys(self, *, refresh: bool) -> KeySet:
        async with self._jwks_lock:
            fresh = self._jwks is not None and time.monotonic() - self._jwks_at < _JWKS_MAX_AGE
            if self._jwks is None or refresh or not fresh:
                response = await self._send("GET", self.provider.jwks_url, stage="oauth.jwks")
                if response.status_code != 200:
                    raise ProtocolError("the provider's signing keys could not be fetched",
                                        code="server.temporary_failure", stage="oauth.jwks",
                                        server_text=f"HTTP {response.status_code}")
                try:
                    self._jwks = KeySet.import_key_set(response.json())
                except (ValueError, JoseError) as exc:
                    raise ProtocolError("the provider's signing keys are not valid JWKS",
                                        code="unknown", stage="oauth.jwks") from exc
                self._jwks_at = time.monotonic()
            return self._jwks

    # -- HTTP ----------------------------------------------------------------------------------

    def _client_auth(self) -> dict[str, str]:
        return {"client_id": self.provider.client_id, "client_secret": self.provider.client_secret}

    async def _token_request(self, form: Mapping[str, str]) -> dict[str, Any]:
        response = await self._post(self.provider.token_url, {**form, **self._client_auth()},
                                    stage="oauth.token")
        if response.status_code != 200:
            raise self._error(response, stage="oauth.token")
        body = _json(response)
        if not body.get("access_token"):
            raise ProtocolError("the token endpoint answered without an access token",
                                code="unknown", stage="oauth.token")
        return body

    async def _post(self, url: str, form: Mapping[str, str], *, stage: str) -> httpx.Response:
        return await self._send("POST", url, stage=stage, data=dict(form))

    async def _send(self, method: str, url: str, *, stage: str, **kwargs: Any) -> httpx.Response:
        try:
            async with new_client(timeout=self._timeout, ca_file=self._ca_file, transport=self._transport,
                                  headers={"User-Agent": USER_AGENT, "Accept": "application/json"}) as client:
                return await client.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise RemoteTimeout("the sign-in service did not answer in time", code="net.timeout",
                                stage=stage) from exc
        except httpx.HTTPError as exc:
            # httpx messages name the URL at most; form bodies (secrets) are never in them.
            raise NetworkError("the sign-in service could not be reached", code="net.connection_refused",
                               stage=stage, server_text=scrub(str(exc))) from exc

    def _error(self, response: httpx.Response, *, stage: str) -> RemoteError:
        body = _json(response)
        error = body.get("error") if isinstance(body.get("error"), str) else None
        description = body.get("error_description") if isinstance(body.get("error_description"), str) else None
        code = token_error_code(error, description)
        if code == "unknown" and response.status_code >= 500:
            code = "server.temporary_failure"
        text = scrub(" ".join(p for p in (f"HTTP {response.status_code}", error, description) if p))
        cls = remote_error_class(code)
        return cls(_message(code), code=code, stage=stage, server_text=text,
                   retryable=code == "server.temporary_failure")


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except (json.JSONDecodeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def _message(code: str) -> str:
    return {
        "auth.token_invalid": "the sign-in has expired or was revoked; connect the mailbox again",
        "auth.admin_consent_required": "an administrator must approve this app for the organisation",
        "auth.web_login_required": "the provider wants the user to sign in again in the browser",
        "oauth.client_misconfigured": "the OAuth app registration of this installation is not accepted",
        "oauth.access_denied": "the user did not allow access",
        "server.temporary_failure": "the sign-in service failed temporarily",
    }.get(code, "the sign-in service refused the request")


def _bad_id_token(message: str) -> ValidationError:
    return ValidationError(message, code="oauth.bad_id_token")
