"""Which parts of the pages this installation can offer, decided by the services it really has.

A section whose service has not been built into this installation is shown as "not available on
this installation" — never as a form that pretends to work.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailport.runtime import Runtime

__all__ = ["BUILT", "Sections", "available_sections"]

BUILT: frozenset[str] = frozenset({"outbox", "domains", "inbox", "platform", "oauth"})
"""Sections whose pages exist in this package; a service without its page is not offered either."""


@dataclass(frozen=True, slots=True)
class Sections:
    outbox: bool
    inbox: bool
    domains: bool
    platform: bool
    oauth_google: bool
    oauth_microsoft: bool
    insecure_auth: bool = False  # "None (unencrypted)" is offered only where the operator allows it


def available_sections(runtime: Runtime) -> Sections:
    def has(name: str) -> bool:
        # Looked up on the class: asking the instance would build the service just to know.
        return name in BUILT and hasattr(type(runtime), name)

    return Sections(
        outbox=has("outbox"),
        inbox=has("inbox"),
        # Own domains need the operator's bounce host for the return-path record.
        domains=has("domains") and bool(getattr(runtime.settings, "platform_bounce_host", "")
                                        or getattr(runtime.settings, "platform_domain", "")),
        # The platform method needs the platform's domain and its outgoing relay.
        platform=has("platform") and bool(getattr(runtime.settings, "platform_domain", "")
                                          and getattr(runtime.settings, "platform_smtp_url", "")),
        oauth_google=has("oauth") and bool(getattr(runtime.settings, "oauth_google_client_id", "")),
        oauth_microsoft=has("oauth") and bool(getattr(runtime.settings, "oauth_microsoft_client_id", "")),
        insecure_auth=bool(getattr(runtime.settings, "allow_insecure_auth", False)),
    )
