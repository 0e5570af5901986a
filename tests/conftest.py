"""Shared pytest fixtures: the test lab of real servers on loopback (see ``tests/lab/``).

Fixtures (scope):
- ``lab_ca`` (session): :class:`lab.LabCA`, the trustme CA and server certificate every lab
  server uses; ``lab_ca.ca_pem_path`` / ``lab_ca.ca_pem`` / ``lab_ca.client_context()``.
- ``mail_lab`` (session): :class:`lab.MailLab`, Dovecot + Postfix running (skips, or fails when
  CI=true, if the machine cannot run them).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab import LabCA, MailLab
from lab import deps as lab_deps


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _unavailable(reason: str) -> None:
    """Skip with ``reason`` — or fail when CI=true, where the lab must run."""
    if _in_ci():
        pytest.fail(f"CI=true and the mail lab cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


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
