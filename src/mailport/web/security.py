"""Security headers for the web pages (only under ``/ui``; the JSON API keeps its own).

The Content-Security-Policy allows scripts and styles from our own origin only — no inline
script or style, no eval (htmx is configured not to need them). ``frame-ancestors`` comes from
``settings.ui_frame_ancestors`` because the host product may show the page in its own iframe;
``X-Frame-Options`` is only sent for the two values it can express, as older browsers know no CSP.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SecurityHeaders", "content_security_policy"]


def content_security_policy(frame_ancestors: str, form_targets: tuple[str, ...] = ()) -> str:
    return "; ".join([
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        " ".join(["form-action 'self'", *form_targets]),
        "base-uri 'none'",
        f"frame-ancestors {frame_ancestors}",
    ])


class SecurityHeaders:
    """ASGI middleware adding the headers to every response whose path starts with ``prefix``."""

    def __init__(self, app: ASGIApp, *, frame_ancestors: str, form_targets: tuple[str, ...] = (),
                 prefix: str = "/ui") -> None:
        self.app = app
        self.prefix = prefix
        ancestors = " ".join(frame_ancestors.split()) or "'none'"
        if any(ch in ancestors for ch in ";,\r\n"):
            raise ValueError("ui_frame_ancestors must be a space-separated list of sources")
        self.headers: list[tuple[bytes, bytes]] = [
            (b"content-security-policy", content_security_policy(ancestors, form_targets).encode("latin-1")),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        ]
        if ancestors == "'none'":
            self.headers.append((b"x-frame-options", b"DENY"))
        elif ancestors == "'self'":
            self.headers.append((b"x-frame-options", b"SAMEORIGIN"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith(self.prefix + "/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(self.headers)
                if not static:
                    # Pages show account data: never keep them in a shared or back-button cache.
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
