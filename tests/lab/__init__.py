"""The test lab: real mail servers, an SMTP sink, fault servers and a DNS server on loopback.

Tests use it through the pytest fixtures in ``tests/conftest.py`` (``mail_lab``, ``lab_ca``,
``smtp_sink`` and friends, ``faults``, ``dns_lab``); the classes are importable for direct use
(``from lab import MailLab``) since pytest puts ``tests/`` on ``sys.path``.
"""

from .mail import DEFAULT_USERS, LabStartError, MailLab
from .ports import free_port, free_ports
from .tls import LabCA

__all__ = ["DEFAULT_USERS", "LabCA", "LabStartError", "MailLab", "free_port", "free_ports"]
