"""The test lab: real mail servers, an SMTP sink, fault servers and a DNS server on loopback.

Tests use it through the pytest fixtures in ``tests/conftest.py`` (``mail_lab``, ``lab_ca``,
``smtp_sink`` and friends, ``faults``, ``dns_lab``); the classes are importable for direct use
(``from lab import MailLab``) since pytest puts ``tests/`` on ``sys.path``.
"""

from .dns_server import DnsLab, Query
from .faults import Endpoint, FaultServers, SelfSignedEndpoint
from .mail import DEFAULT_USERS, LabStartError, MailLab
from .ports import free_port, free_ports
from .smtp_sink import AuthAttempt, ReceivedMessage, SmtpSink
from .tls import LabCA

__all__ = [
    "DEFAULT_USERS", "AuthAttempt", "DnsLab", "Endpoint", "FaultServers", "LabCA",
    "LabStartError", "MailLab", "Query", "ReceivedMessage", "SelfSignedEndpoint", "SmtpSink",
    "free_port", "free_ports",
]
