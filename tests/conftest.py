"""Shared pytest fixtures: the test lab of real servers on loopback (see ``tests/lab/``).

Fixtures (scope):
- ``lab_ca`` (session): :class:`lab.LabCA`, the trustme CA and server certificate every lab
  server uses; ``lab_ca.ca_pem_path`` / ``lab_ca.ca_pem`` / ``lab_ca.client_context()``.
- ``mail_lab`` (session): :class:`lab.MailLab`, Dovecot + Postfix running (skips, or fails when
  CI=true, if the machine cannot run them).
- ``smtp_sink`` / ``smtp_sink_starttls`` / ``smtp_sink_tls`` (function): a fresh
  :class:`lab.SmtpSink` (aiosmtpd, AUTH PLAIN/LOGIN, records messages, fault injection) without
  TLS / with STARTTLS / with implicit TLS; ``smtp_sink_factory(**options)`` for other setups.
- ``faults`` (function): :class:`lab.FaultServers` (closed port, silent server, POP3 server,
  self-signed implicit-TLS server with its SHA-256 fingerprint).
- ``dns_lab`` (function view of one session server): :class:`lab.DnsLab`, empty at the start
  of every test; ``load_zone(text)``, ``remove()``, ``nameserver``, ``servfail()``/``timeout()``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lab import DnsLab, FaultServers, LabCA, MailLab, SmtpSink
from lab import deps as lab_deps
from testenv import unavailable


def _unavailable(reason: str) -> None:
    unavailable(f"the mail lab cannot run: {reason}")


# Fixtures that start real servers or a browser: tests using them get the matching mark, so
# ``make test-fast`` (-m "not slow and not lab and not browser") starts nothing.
_MARK_BY_FIXTURE = {"mail_lab": "lab", "oauth_mail_lab": "lab", "pg_database": "postgres", "pg_url": "postgres",
                    "browser": "browser", "page": "browser"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture in getattr(item, "fixturenames", ()):
            mark = _MARK_BY_FIXTURE.get(fixture)
            if mark is not None and item.get_closest_marker(mark) is None:
                item.add_marker(getattr(pytest.mark, mark))


@pytest.fixture(scope="session")
def lab_ca() -> Iterator[LabCA]:
    """The lab certificate authority (trustme) and a server certificate for localhost,
    127.0.0.1 and ::1, written to a temp dir: ``ca_pem_path``, ``ca_pem`` (bytes),
    ``cert_chain_path``, ``key_path``, ``client_context()``, ``server_context()``."""
    directory = Path(tempfile.mkdtemp(prefix="mailport-lab-ca-"))
    try:
        yield LabCA(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def mail_lab(lab_ca: LabCA) -> Iterator[MailLab]:
    """A running Dovecot (IMAP+STARTTLS, IMAPS, LMTP, SASL) and Postfix (submission with AUTH,
    implicit-TLS submission, unauthenticated relay) on free loopback ports, in a temp dir.

    Users ``user@example.test`` and ``user2@example.test`` (password ``password``); more with
    ``mail_lab.add_user(email, password)``. Ports: ``imap_port``, ``imaps_port``, ``lmtp_port``,
    ``auth_port``, ``submission_port``, ``smtps_port``, ``relay_port``; host ``127.0.0.1``.
    Helpers: ``imap_client(email)``, ``smtp_client(email)``, ``wait_for_message(email, ...)``,
    ``maildir_path(email)``, ``messages(email)``, ``inject(msg, mail_from=, rcpt_to=)``,
    ``log_tail()``. Missing servers are installed (as root) with scripts/install-test-deps.sh;
    if that is impossible the test is skipped, or fails when CI=true.
    """
    reason = lab_deps.ensure()
    if reason is None and os.geteuid() != 0:
        reason = "the mail lab must run as root (Postfix refuses to start otherwise)"
    if reason is not None:
        _unavailable(reason)
    lab = MailLab(lab_ca)
    try:
        lab.start()
    except Exception:
        lab.keep = True  # keep the logs for a look
        lab.stop()
        raise
    try:
        yield lab
    finally:
        lab.stop()


@pytest.fixture
def smtp_sink_factory(lab_ca: LabCA) -> Iterator[Callable[..., SmtpSink]]:
    """``factory(**options) -> SmtpSink``, started; options as :class:`lab.SmtpSink`
    (``tls="none"|"starttls"|"implicit"``, ``users``, ``auth_required``,
    ``auth_require_tls``, ``hostname``); the lab CA is passed in. All stop after the test."""
    sinks: list[SmtpSink] = []

    def factory(**options: Any) -> SmtpSink:
        options.setdefault("ca", lab_ca)
        sink = SmtpSink(**options).start()
        sinks.append(sink)
        return sink

    yield factory
    for sink in sinks:
        sink.stop()


@pytest.fixture
def smtp_sink(smtp_sink_factory: Callable[..., SmtpSink]) -> SmtpSink:
    """A fresh aiosmtpd sink on 127.0.0.1 (``.host``, ``.port``), plain TCP, AUTH PLAIN/LOGIN
    offered (lab users, password ``password``) but not required. Records ``.messages``
    (:class:`lab.smtp_sink.ReceivedMessage`: envelope, bytes, auth user, TLS) and
    ``.auth_attempts``; ``.wait_for(n)``. Faults: ``fail_rcpt(n)``, ``fail_data(n)``,
    ``reject_recipient(addr)``, ``set_auth_reply(reply)``, ``reset()``."""
    return smtp_sink_factory()


@pytest.fixture
def smtp_sink_starttls(smtp_sink_factory: Callable[..., SmtpSink]) -> SmtpSink:
    """Like ``smtp_sink`` but offering STARTTLS with the lab CA's certificate (not required)."""
    return smtp_sink_factory(tls="starttls")


@pytest.fixture
def smtp_sink_tls(smtp_sink_factory: Callable[..., SmtpSink]) -> SmtpSink:
    """Like ``smtp_sink`` but implicit TLS (TLS from the first byte) with the lab CA's cert."""
    return smtp_sink_factory(tls="implicit")


@pytest.fixture
def faults() -> Iterator[FaultServers]:
    """Misbehaving loopback servers, all stopped after the test: ``closed_port()`` -> int,
    ``silent_server()`` / ``pop3_server()`` / ``banner_server(greeting)`` -> Endpoint(host,
    port), ``selfsigned_smtps_server()`` -> SelfSignedEndpoint with ``fingerprint_sha256``
    (hex), ``fingerprint_sha256_colons``, ``spki_sha256``, ``cert_pem``, ``cert_der``."""
    servers = FaultServers()
    try:
        yield servers
    finally:
        servers.close()


@pytest.fixture(scope="session")
def dns_lab_server() -> Iterator[DnsLab]:
    """The one lab DNS server of the session (use ``dns_lab``, which resets it per test)."""
    server = DnsLab().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def dns_lab(dns_lab_server: DnsLab) -> Iterator[DnsLab]:
    """A real DNS server (dnslib, UDP+TCP) on 127.0.0.1, EMPTY at the start of the test.

    ``load_zone(text)`` (BIND syntax, $ORIGIN/$TTL; replaces same name+type), ``add(name,
    rtype, value)``, ``remove(name, rtype=None)``, ``nameserver`` ("127.0.0.1:PORT", the
    MAILPORT_DNS_NAMESERVERS format), ``port``, ``resolver()`` (dnspython), ``queries`` (what
    was asked), faults ``servfail(name)`` / ``timeout(name)`` / ``refuse(name)``."""
    dns_lab_server.reset()
    try:
        yield dns_lab_server
    finally:
        dns_lab_server.reset()


@pytest.fixture(scope="session")
def oauth_lab(lab_ca: LabCA) -> Iterator[Any]:
    """:class:`lab.oauth_mail.OAuthMailLab`: its own Dovecot + Postfix whose XOAUTH2/OAUTHBEARER
    logins are checked against ``oauth_lab.oauth`` (:class:`lab.oauth_server.LabOAuthServer`, a
    local authorization server with users ``user@`` / ``user2@example.test`` and the client
    ``oauth_lab.client_id`` / ``client_secret``; ``oauth.allow_redirect(client_id, uri)``).
    Tests that change ``oauth.access_token_lifetime`` or ``rotate_refresh_tokens`` put them back."""
    from lab.oauth_mail import running_oauth_lab

    reason = lab_deps.ensure()
    if reason is None and os.geteuid() != 0:
        reason = "the mail lab must run as root (Postfix refuses to start otherwise)"
    if reason is not None:
        _unavailable(reason)
    with running_oauth_lab(lab_ca) as lab:
        yield lab
