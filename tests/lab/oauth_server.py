"""A local OAuth 2.0 / OpenID Connect authorization server for the tests, built on authlib's
server components (``AuthorizationServer``, grants, RFC 7009/7662 endpoints).

It plays Google or Microsoft for mailport: the same protocol, on 127.0.0.1, with accounts the
test chooses. Endpoints (``base_url`` + path):

``/authorize``
    GET validates the request (client, redirect URI, PKCE S256 required, scope, nonce) and
    shows a small "choose an account" page — one button per lab user, the ``login_hint``
    account marked, plus "Cancel" — so a test (or a browser) can sign in as the *wrong* user.
    POST (the page's form) issues the code and redirects back with ``code`` and ``state``.
``/token``
    ``authorization_code`` (with PKCE) and ``refresh_token``; ID tokens (RS256, with ``nonce``)
    when ``openid`` is in the scope. Client auth: ``client_secret_basic`` or ``_post``.
``/introspect`` (RFC 7662), ``/revoke`` (RFC 7009), ``/jwks``,
``/.well-known/openid-configuration``.

Dovecot's ``oauth2`` passdb asks ``/introspect`` about every XOAUTH2/OAUTHBEARER login, so a
token this server expired or revoked is refused by a real IMAP/SMTP server.

Test controls: :meth:`expire_access_tokens`, :meth:`revoke_user`, ``access_token_lifetime``,
``rotate_refresh_tokens``, :meth:`authorize_as` (the consent step without a browser),
``requests`` (what was called, without secrets).
"""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self
from urllib.parse import parse_qsl, urlsplit

import httpx
from authlib.oauth2 import AuthorizationServer, OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Payload, OAuth2Request, grants
from authlib.oauth2.rfc6749.models import AuthorizationCodeMixin, TokenMixin
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from joserfc.jwk import RSAKey

from .ports import LOOPBACK

INTROSPECTION_CLIENT = "dovecot"


@dataclass(frozen=True)
class LabUser:
    email: str
    name: str
    sub: str
    tenant: str | None = None  # Microsoft-style ``tid`` claim


@dataclass
class LabClient(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...] = ()
    scope: str = ""

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str) -> str:
        if not scope:
            return ""
        allowed = set(self.scope.split())
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret.encode(), self.client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and bool(self.redirect_uris)

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token") and bool(self.redirect_uris)


@dataclass
class _Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: LabUser
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int
    expires_at: float

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


@dataclass
class _Token(TokenMixin):
    access_token: str
    refresh_token: str | None
    client_id: str
    scope: str
    user: LabUser
    issued_at: float
    expires_in: int
    access_revoked: bool = False
    refresh_revoked: bool = False

    def check_client(self, client: ClientMixin) -> bool:
        return self.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return time.time() >= self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        return self.access_revoked

    def get_user(self) -> LabUser:
        return self.user

    def get_client(self) -> ClientMixin:  # pragma: no cover - authlib interface
        raise NotImplementedError


# --- requests: the stdlib HTTP handler as authlib sees it --------------------------------------


class _Payload(OAuth2Payload):
    def __init__(self, values: dict[str, str], datalist: dict[str, list[str]]) -> None:
        self._data = values
        self._datalist = datalist

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> dict[str, list[str]]:  # type: ignore[override]
        return self._datalist


class _Request(OAuth2Request):
    def __init__(self, method: str, uri: str, headers: Mapping[str, str], query: list[tuple[str, str]],
                 form: list[tuple[str, str]]) -> None:
        super().__init__(method=method, uri=uri, headers=dict(headers))
        self._args = dict(query)
        self._form = dict(form)
        datalist: dict[str, list[str]] = {}
        for k, v in [*query, *form]:
            datalist.setdefault(k, []).append(v)
        self.payload = _Payload({**self._args, **self._form}, datalist)

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


# --- the server --------------------------------------------------------------------------------


class _CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]
    lab: LabOAuthServer

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        self.lab._codes[code] = _Code(
            code=code, client_id=request.client.get_client_id(), redirect_uri=data.get("redirect_uri", ""),
            scope=request.scope or "", user=request.user, nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"), code_challenge_method=data.get("code_challenge_method"),
            auth_time=int(time.time()), expires_at=time.time() + 300,
        )

    def query_authorization_code(self, code: str, client: ClientMixin) -> _Code | None:
        item = self.lab._codes.get(code)
        if item and item.client_id == client.get_client_id() and time.time() < item.expires_at:
            return item
        return None

    def delete_authorization_code(self, authorization_code: _Code) -> None:
        self.lab._codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: _Code) -> LabUser:
        return authorization_code.user


class _RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]
    lab: LabOAuthServer

    def authenticate_refresh_token(self, refresh_token: str) -> _Token | None:
        token = self.lab._by_refresh.get(refresh_token)
        if token is None or token.refresh_revoked:
            return None
        return token

    def authenticate_user(self, refresh_token: _Token) -> LabUser:
        return refresh_token.user

    def revoke_old_credential(self, refresh_token: _Token) -> None:
        if self.lab.rotate_refresh_tokens:
            refresh_token.refresh_revoked = True


class _OpenIDCode(OpenIDCode):
    lab: LabOAuthServer

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return any(c.nonce == nonce for c in self.lab._codes.values())

    def resolve_client_private_key(self, client: ClientMixin) -> RSAKey:
        return self.lab.key

    def get_client_algorithm(self, client: ClientMixin) -> str:
        return "RS256"

    def get_encode_header(self, client: ClientMixin) -> dict[str, str]:
        return {"alg": "RS256", "kid": self.lab.key.kid or ""}

    def get_client_claims(self, client: ClientMixin) -> dict[str, Any]:
        return {"iss": self.lab.issuer, "aud": client.get_client_id(), "exp": int(time.time()) + 3600}

    def generate_user_info(self, user: LabUser, scope: str) -> UserInfo:
        info = UserInfo(sub=user.sub, name=user.name)
        if "email" in scope.split():
            info["email"] = user.email
            info["email_verified"] = True
            info["preferred_username"] = user.email
        if user.tenant:
            info["tid"] = user.tenant
            if self.lab.tenant_issuer:
                info["iss"] = f"{self.lab.base_url}/{user.tenant}/v2.0"
        return info


class _Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]
    lab: LabOAuthServer

    def query_token(self, token_string: str, token_type_hint: str | None) -> _Token | None:
        return self.lab._find(token_string, token_type_hint)

    def revoke_token(self, token: _Token, request: OAuth2Request) -> None:
        # Revoking either token ends the grant, as Google documents for its endpoint.
        token.access_revoked = token.refresh_revoked = True


class _Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]
    lab: LabOAuthServer

    def query_token(self, token_string: str, token_type_hint: str | None) -> _Token | None:
        return self.lab._find(token_string, token_type_hint)

    def check_permission(self, token: _Token, client: ClientMixin, request: OAuth2Request) -> bool:
        return client.get_client_id() == INTROSPECTION_CLIENT or token.check_client(client)

    def introspect_token(self, token: _Token) -> dict[str, Any]:
        active = not token.is_revoked() and not token.is_expired()
        if not active:
            return {"active": False}
        return {
            "active": True, "client_id": token.client_id, "token_type": "Bearer", "scope": token.scope,
            "sub": token.user.sub, "username": token.user.email, "email": token.user.email,
            "exp": int(token.issued_at + token.expires_in), "iat": int(token.issued_at),
            "iss": self.lab.issuer,
        }


class LabOAuthServer:
    """The authorization server; :meth:`start` serves it on a free loopback port."""

    def __init__(self, *, users: Iterable[LabUser], clients: Iterable[LabClient] = (),
                 access_token_lifetime: int = 3600, rotate_refresh_tokens: bool = False,
                 tenant_issuer: bool = False) -> None:
        self.users = {u.email: u for u in users}
        self.introspection_secret = secrets.token_urlsafe(16)
        self.clients = {c.client_id: c for c in clients}
        self.clients[INTROSPECTION_CLIENT] = LabClient(INTROSPECTION_CLIENT, self.introspection_secret)
        self.access_token_lifetime = access_token_lifetime
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.tenant_issuer = tenant_issuer
        """Issue ID tokens as Microsoft's multi-tenant endpoints do: ``iss`` names the user's
        directory (``<base_url>/<tid>/v2.0``), so clients must check it against ``tid``."""
        self._next_token_error: tuple[int, dict[str, str]] | None = None
        self.key = RSAKey.generate_key(2048, parameters={"kid": "lab-1", "use": "sig", "alg": "RS256"})
        self.requests: list[tuple[str, str]] = []
        """``(method, path)`` of every request, oldest first (no bodies: they hold secrets)."""
        self._codes: dict[str, _Code] = {}
        self._by_access: dict[str, _Token] = {}
        self._by_refresh: dict[str, _Token] = {}
        self._lock = threading.RLock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.server = self._build()

    # ---- lifecycle
    def start(self) -> LabOAuthServer:
        handler = _handler_for(self)
        # Port 0: the kernel picks a free port and we bind it in the same call — no race.
        self._httpd = ThreadingHTTPServer((LOOPBACK, 0), handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="lab-oauth", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def issuer(self) -> str:
        return self.base_url

    @property
    def introspection_url(self) -> str:
        """For Dovecot: credentials of the resource-server client in the URL (basic auth)."""
        return f"http://{INTROSPECTION_CLIENT}:{self.introspection_secret}@{LOOPBACK}:{self.port}/introspect"

    def introspect_bearer(self, authorization: str | None) -> dict[str, Any] | None:
        """What ``/introspect`` (RFC 7662) says of the bearer token in an ``Authorization`` header,
        asked over HTTP as a resource server (the Gmail and Graph labs) asks it; ``None`` when the
        header carries no bearer token or the token is not active. Each lab answers that in its
        provider's own words."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        answer = httpx.post(f"{self.base_url}/introspect", data={"token": token.strip()},
                            auth=(INTROSPECTION_CLIENT, self.introspection_secret), timeout=10).json()
        return answer if answer.get("active") else None

    def endpoints(self) -> dict[str, str]:
        """The settings-override names of mailport mapped to this server's URLs."""
        return {
            "authorization_url": f"{self.base_url}/authorize", "token_url": f"{self.base_url}/token",
            "revocation_url": f"{self.base_url}/revoke", "jwks_url": f"{self.base_url}/jwks",
            "issuer": self.issuer,
        }

    # ---- test controls
    def add_client(self, client: LabClient) -> None:
        self.clients[client.client_id] = client

    def allow_redirect(self, client_id: str, redirect_uri: str) -> None:
        """Register one more exact redirect URI for ``client_id`` (tests pick ports at run time)."""
        client = self.clients[client_id]
        if redirect_uri not in client.redirect_uris:
            client.redirect_uris = (*client.redirect_uris, redirect_uri)

    def expire_access_tokens(self) -> int:
        """Make every access token issued so far expired (as if an hour passed)."""
        with self._lock:
            for token in self._by_access.values():
                token.issued_at -= token.expires_in + 1
            return len(self._by_access)

    def revoke_user(self, email: str) -> int:
        """Revoke every grant of ``email`` (the user removed the app's access, changed password)."""
        n = 0
        with self._lock:
            for token in self._by_access.values():
                if token.user.email == email:
                    token.access_revoked = token.refresh_revoked = True
                    n += 1
        return n

    def active_refresh_tokens(self, email: str) -> int:
        with self._lock:
            return sum(1 for t in self._by_refresh.values() if t.user.email == email and not t.refresh_revoked)

    def rotate_signing_key(self) -> None:
        """Sign with a new key (new ``kid``) from now on, as providers do every few weeks."""
        n = int((self.key.kid or "lab-1").rsplit("-", 1)[1]) + 1
        self.key = RSAKey.generate_key(2048, parameters={"kid": f"lab-{n}", "use": "sig", "alg": "RS256"})

    def fail_next_token_request(self, error: str, description: str = "", *, status: int = 400) -> None:
        """Answer the next ``/token`` request with this OAuth error (e.g. ``invalid_grant`` with
        ``AADSTS65001: … consent …``) instead of running the grant."""
        self._next_token_error = (status, {"error": error, "error_description": description})

    def token_requests(self, grant_type: str | None = None) -> int:
        return sum(1 for m, p in self.requests if p.startswith(f"/token#{grant_type or ''}"))

    def authorize_as(self, authorization_url: str, email: str | None) -> str:
        """What the browser does: open the page, pick ``email`` (``None``: Cancel); returns the
        redirect URL (to the client's callback) the server answered with."""
        with httpx.Client(timeout=10) as client:
            page = client.get(authorization_url)
            if page.status_code != 200:
                raise AssertionError(f"authorization page: {page.status_code} {page.text[:300]}")
            query = dict(parse_qsl(urlsplit(authorization_url).query))
            form = {**query, "account": email or "", "action": "allow" if email else "cancel"}
            answer = client.post(f"{self.base_url}/authorize", data=form)
        if answer.status_code != 302:
            raise AssertionError(f"authorization: {answer.status_code} {answer.text[:300]}")
        return answer.headers["location"]

    # ---- authlib wiring
    def _find(self, token_string: str, hint: str | None) -> _Token | None:
        with self._lock:
            if hint != "refresh_token" and token_string in self._by_access:
                return self._by_access[token_string]
            return self._by_refresh.get(token_string) or self._by_access.get(token_string)

    def _save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        with self._lock:
            refresh = token.get("refresh_token")
            if refresh is None and request.refresh_token is not None:
                refresh = request.refresh_token.refresh_token  # no rotation: the old one stays
            item = _Token(access_token=token["access_token"], refresh_token=refresh,
                          client_id=request.client.get_client_id(), scope=token.get("scope", ""),
                          user=request.user, issued_at=time.time(), expires_in=int(token["expires_in"]))
            self._by_access[item.access_token] = item
            if refresh is not None:
                self._by_refresh[refresh] = item

    def _build(self) -> AuthorizationServer:
        lab = self

        class Server(AuthorizationServer):
            def query_client(self, client_id: str) -> LabClient | None:
                return lab.clients.get(client_id)

            def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
                lab._save_token(token, request)

            def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
                pass

            def create_oauth2_request(self, request: _Request) -> _Request:
                return request

            def handle_response(self, status: int, body: Any, headers: Any) -> tuple[int, Any, Any]:
                return status, body, headers

        server = Server(scopes_supported=None)
        generator = BearerTokenGenerator(
            access_token_generator=lambda **_: "lab-at-" + secrets.token_urlsafe(24),
            refresh_token_generator=lambda **_: "lab-rt-" + secrets.token_urlsafe(32),
            expires_generator=lambda client, grant_type: self.access_token_lifetime,
        )
        server.register_token_generator("default", generator)
        for cls in (_CodeGrant, _RefreshGrant, _OpenIDCode, _Revocation, _Introspection):
            cls.lab = self
        _RefreshGrant.INCLUDE_NEW_REFRESH_TOKEN = property(lambda _: lab.rotate_refresh_tokens)  # type: ignore[assignment]
        server.register_grant(_CodeGrant, [CodeChallenge(required=True), _OpenIDCode(require_nonce=False)])
        server.register_grant(_RefreshGrant)
        server.register_endpoint(_Revocation)
        server.register_endpoint(_Introspection)
        return server

    def discovery_document(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer, "authorization_endpoint": f"{self.base_url}/authorize",
            "token_endpoint": f"{self.base_url}/token", "jwks_uri": f"{self.base_url}/jwks",
            "revocation_endpoint": f"{self.base_url}/revoke",
            "introspection_endpoint": f"{self.base_url}/introspect",
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "email", "offline_access"],
        }

    # ---- pages
    def consent_page(self, request: _Request, error: str | None = None) -> str:
        hint = request.args.get("login_hint", "")
        hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                         for k, v in request.args.items())
        buttons = "".join(
            f'<button type="submit" name="account" value="{html.escape(u.email)}" '
            f'data-email="{html.escape(u.email)}">{html.escape(u.name)} &lt;{html.escape(u.email)}&gt;'
            f'{" (suggested)" if u.email == hint else ""}</button><br>'
            for u in self.users.values()
        )
        return (
            "<!doctype html><html><head><meta charset='utf-8'><title>Lab sign-in</title></head><body>"
            f"<h1>Choose an account</h1><p>to continue to {html.escape(request.args.get('client_id', ''))}</p>"
            # What the app asks for, as a provider's consent screen lists it.
            "<p>This app asks for:</p><ul id='scopes'>"
            + "".join(f"<li data-scope='{html.escape(scope)}'>{html.escape(scope)}</li>"
                      for scope in request.args.get("scope", "").split())
            + "</ul>"
            f"{'<p class=error>' + html.escape(error) + '</p>' if error else ''}"
            f"<form method='post' action='/authorize'>{hidden}<input type='hidden' name='action' value='allow'>"
            f"{buttons}</form>"
            f"<form method='post' action='/authorize'>{hidden}<input type='hidden' name='action' value='cancel'>"
            "<button type='submit' id='cancel'>Cancel</button></form></body></html>"
        )


def _handler_for(lab: LabOAuthServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _request(self) -> _Request:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            form = parse_qsl(body, keep_blank_values=True) if self.command == "POST" else []
            headers = {k: v for k, v in self.headers.items()}
            return _Request(self.command, f"{lab.base_url}{self.path}", headers,
                            parse_qsl(split.query, keep_blank_values=True), form)

        def _send(self, status: int, body: Any, headers: Iterable[tuple[str, str]] = ()) -> None:
            if isinstance(body, (dict, list)):
                data = json.dumps(body).encode()
                headers = [("Content-Type", "application/json"), *headers]
            else:
                data = (body or "").encode()
            self.send_response(status)
            names = set()
            for k, v in headers:
                names.add(k.lower())
                self.send_header(k, v)
            if "content-type" not in names:
                self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            lab.requests.append(("GET", path))
            if path == "/.well-known/openid-configuration":
                return self._send(200, lab.discovery_document())
            if path == "/jwks":
                return self._send(200, {"keys": [lab.key.as_dict(private=False)]})
            if path == "/authorize":
                request = self._request()
                try:
                    with lab._lock:
                        lab.server.get_consent_grant(request)
                except OAuth2Error as exc:
                    return self._send(400, f"<p>Invalid authorization request: {html.escape(exc.error)}"
                                           f" {html.escape(exc.description or '')}</p>")
                return self._send(200, lab.consent_page(request))
            return self._send(404, {"error": "not_found"})

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            request = self._request()
            lab.requests.append(("POST", f"{path}#{request.form.get('grant_type', '')}"))
            with lab._lock:
                if path == "/authorize":
                    # The page posts the original query back as form fields.
                    request._args = dict(request.form)
                    user = lab.users.get(request.form.get("account", ""))
                    grant_user = user if request.form.get("action") == "allow" else None
                    try:
                        grant = lab.server.get_consent_grant(request)
                    except OAuth2Error as exc:
                        return self._send(400, f"<p>Invalid authorization request: {html.escape(exc.error)}</p>")
                    status, body, headers = lab.server.create_authorization_response(
                        request, grant_user=grant_user, grant=grant)
                elif path == "/token" and lab._next_token_error is not None:
                    (status, body), headers = lab._next_token_error, []
                    lab._next_token_error = None
                elif path == "/token":
                    status, body, headers = lab.server.create_token_response(request)
                elif path == "/revoke":
                    status, body, headers = lab.server.create_endpoint_response("revocation", request)
                elif path == "/introspect":
                    status, body, headers = lab.server.create_endpoint_response("introspection", request)
                else:
                    return self._send(404, {"error": "not_found"})
            return self._send(status, body, headers or [])

    return Handler


def default_users(domain: str = "example.test") -> list[LabUser]:
    return [
        LabUser(email=f"user@{domain}", name="Lab User", sub="sub-user-1", tenant="lab-tenant"),
        LabUser(email=f"user2@{domain}", name="Second Lab User", sub="sub-user-2", tenant="lab-tenant"),
    ]


__all__ = ["INTROSPECTION_CLIENT", "LabClient", "LabOAuthServer", "LabUser", "default_users"]
