"""Thunderbird's autoconfig format (``config-v1.1.xml``): bytes in, server settings out.

The same document comes from a domain's own ``autoconfig.<domain>`` / ``.well-known`` URL and
from the ISPDB. Only IMAP incoming and SMTP outgoing servers are kept (POP3 cannot sync the
inbox); placeholders ``%EMAILADDRESS%``, ``%EMAILLOCALPART%`` and ``%EMAILDOMAIN%`` are filled
in by :func:`fill_placeholders`.

Documents come from the network and are untrusted: a DOCTYPE (entity tricks) is refused, every
field is checked, and a server with an unknown socket type or a bad port is skipped, never
guessed.

Pure: no I/O.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from mailport.core.addresses import Address
from mailport.core.providers import Security, ServerSettings
from mailport.errors import ProtocolError

__all__ = [
    "ClientConfig",
    "ConfiguredServer",
    "auth_kinds",
    "fill_placeholders",
    "parse_config",
]

_SOCKET_TYPES: dict[str, Security] = {"ssl": "tls", "tls": "tls", "starttls": "starttls", "plain": "none"}
_SECURITY_RANK: dict[str, int] = {"tls": 0, "starttls": 1, "none": 2}
_PASSWORD_METHODS = frozenset({"password-cleartext", "plain", "password-encrypted", "secure"})
_HOST_RE = re.compile(r"^[A-Za-z0-9%_]([A-Za-z0-9%_.-]{0,251}[A-Za-z0-9%_])?$")
_GOOGLE_HOSTS = (".gmail.com", ".googlemail.com", ".google.com")
_MICROSOFT_HOSTS = (".office365.com", ".outlook.com", ".office.com")


@dataclass(frozen=True, slots=True)
class ConfiguredServer:
    """One ``incomingServer``/``outgoingServer``: settings plus its raw authentication methods."""

    settings: ServerSettings
    authentication: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """A parsed ``clientConfig``; servers ordered best first (implicit TLS before STARTTLS)."""

    provider_id: str
    display_name: str
    domains: tuple[str, ...]
    imap: tuple[ConfiguredServer, ...]
    smtp: tuple[ConfiguredServer, ...]

    @property
    def is_empty(self) -> bool:
        return not self.imap and not self.smtp


def parse_config(data: bytes) -> ClientConfig:
    """Parse a config-v1.1.xml document or raise :class:`ProtocolError` (``discovery.invalid_config``)."""
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise _invalid("the document declares a DOCTYPE or entities")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise _invalid(f"not well-formed XML ({exc})") from exc
    if _local(root.tag) != "clientConfig":
        raise _invalid("the root element is not clientConfig")
    provider = _child(root, "emailProvider")
    if provider is None:
        raise _invalid("no emailProvider element")
    imap: list[ConfiguredServer] = []
    smtp: list[ConfiguredServer] = []
    for element in provider:
        tag = _local(element.tag)
        kind = (element.get("type") or "").strip().lower()
        if tag == "incomingServer" and kind == "imap":
            server = _server(element)
            if server is not None:
                imap.append(server)
        elif tag == "outgoingServer" and kind == "smtp":
            server = _server(element)
            if server is not None:
                smtp.append(server)
    return ClientConfig(
        provider_id=(provider.get("id") or "").strip(),
        display_name=_text(provider, "displayName") or _text(provider, "displayShortName"),
        domains=tuple(
            d.strip().lower().rstrip(".") for d in _texts(provider, "domain") if d.strip()
        ),
        imap=_ranked(imap),
        smtp=_ranked(smtp),
    )


def fill_placeholders(template: str, address: Address) -> str:
    """Replace Thunderbird's placeholders with the parts of ``address`` (ASCII domain form)."""
    email = address.ascii_email or address.email
    return (
        template.replace("%EMAILADDRESS%", email)
        .replace("%EMAILLOCALPART%", address.local_part)
        .replace("%EMAILDOMAIN%", address.ascii_domain)
    )


def auth_kinds(servers: tuple[ConfiguredServer, ...] | list[ConfiguredServer]) -> tuple[str, ...]:
    """mailport auth kinds (``password``, ``oauth2:google`` …) the given servers accept, in order.

    OAuth2 is only reported for issuers mailport can speak to (Google, Microsoft), recognized by
    the server's host name; other methods (NTLM, GSSAPI, client certificates) are not offered.
    """
    kinds: list[str] = []
    for server in servers:
        host = "." + server.settings.host.lower()
        for method in server.authentication:
            kind: str | None = None
            if method in _PASSWORD_METHODS:
                kind = "password"
            elif method == "oauth2":
                if host.endswith(_GOOGLE_HOSTS):
                    kind = "oauth2:google"
                elif host.endswith(_MICROSOFT_HOSTS):
                    kind = "oauth2:microsoft"
            if kind and kind not in kinds:
                kinds.append(kind)
    return tuple(kinds)


def _server(element: ET.Element) -> ConfiguredServer | None:
    host = _text(element, "hostname")
    port_text = _text(element, "port")
    socket_type = _SOCKET_TYPES.get(_text(element, "socketType").lower())
    if not host or not _HOST_RE.match(host) or socket_type is None or not port_text.isdigit():
        return None
    port = int(port_text)
    if not 0 < port < 65536:
        return None
    username = _text(element, "username") or "%EMAILADDRESS%"
    methods = tuple(m.strip().lower() for m in _texts(element, "authentication") if m.strip())
    return ConfiguredServer(
        settings=ServerSettings(host=_lower_host(host), port=port, security=socket_type, username=username),
        authentication=methods or ("password-cleartext",),
    )


def _lower_host(host: str) -> str:
    # Lower-case the name but keep placeholders ("imap.%EMAILDOMAIN%") recognizable.
    return re.sub(r"%[A-Za-z]+%", lambda m: m.group(0).upper(), host.lower())


def _ranked(servers: list[ConfiguredServer]) -> tuple[ConfiguredServer, ...]:
    # Stable sort: the document's order within each security level, implicit TLS first (RFC 8314).
    return tuple(sorted(servers, key=lambda s: _SECURITY_RANK[s.settings.security]))


def _invalid(why: str) -> ProtocolError:
    return ProtocolError(f"The autoconfig document is not usable: {why}", code="discovery.invalid_config")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _texts(element: ET.Element, name: str) -> list[str]:
    return [(child.text or "") for child in element if _local(child.tag) == name]


def _text(element: ET.Element, name: str) -> str:
    found = _child(element, name)
    return (found.text or "").strip() if found is not None else ""
