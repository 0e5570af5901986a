"""SmtpSink: an in-process aiosmtpd SMTP server (own thread) that records what it receives and
can be told to misbehave.

Recording: every accepted message becomes a :class:`ReceivedMessage` (envelope, raw bytes,
AUTH user, TLS or not) in :attr:`SmtpSink.messages`; AUTH attempts go to
:attr:`SmtpSink.auth_attempts`.

Fault injection (set per test, any time; counters are per sink):

- ``fail_rcpt(n)``: the next ``n`` RCPT commands get ``451 4.3.0 ...`` (or your reply), then 250.
- ``fail_data(n)``: the next ``n`` DATA transactions get ``451 4.3.0 ...`` after the data.
- ``reject_recipient(addr)``: RCPT TO that address gets ``550 5.1.1 ...`` (or your reply) always.
- ``set_auth_reply(reply)``: every AUTH is answered with ``reply``, e.g.
  ``"534-5.7.9 Application-specific password required.\\r\\n534 5.7.9 Learn more"``.
- ``reset()``: forget messages, attempts and faults.
"""

from __future__ import annotations

import contextlib
import email.policy
import errno
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, Literal, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from .mail import DEFAULT_USERS
from .ports import LOOPBACK, free_port
from .tls import LabCA

TlsMode = Literal["none", "starttls", "implicit"]
TEMPFAIL = "451 4.3.0 Temporary failure, please try again later"


@dataclass(frozen=True)
class ReceivedMessage:
    """One message the sink accepted."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes  # exactly as received (CRLF line ends, dot-unstuffed)
    auth_user: str | None
    tls: bool
    received_at: float = field(default_factory=time.time)

    def message(self) -> EmailMessage:
        """The data parsed with ``email.policy.default``."""
        msg = BytesParser(policy=email.policy.default).parsebytes(self.data)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass(frozen=True)
class AuthAttempt:
    """One AUTH command: mechanism, login (None when not parsed) and whether it succeeded."""

    mechanism: str
    login: str | None
    success: bool


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        return self.sink._on_rcpt(envelope, address)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return self.sink._on_data(session, envelope)


class SmtpSink:
    """An aiosmtpd server on 127.0.0.1:``port``; see the module docstring.

    ``tls``: ``"none"``, ``"starttls"`` (offered, not required) or ``"implicit"``; needs ``ca``
    (the lab CA issues the certificate for localhost/127.0.0.1). ``users``: accepted AUTH
    PLAIN/LOGIN credentials (default: the lab users, password ``password``).
    ``auth_required``: MAIL without AUTH gets 530. ``auth_require_tls``: AUTH only after TLS.
    """

    host = LOOPBACK

    def __init__(self, *, tls: TlsMode = "none", ca: LabCA | None = None,
                 users: dict[str, str] | None = None, auth_required: bool = False,
                 auth_require_tls: bool = False, hostname: str = "sink.lab.example.test",
                 data_size_limit: int = 50_000_000) -> None:
        if tls != "none" and ca is None:
            raise ValueError("a TLS sink needs the lab CA")
        self.tls: TlsMode = tls
        self.ca = ca
        self.users = dict(DEFAULT_USERS if users is None else users)
        self.auth_required = auth_required
        self.auth_require_tls = auth_require_tls
        self.hostname = hostname
        self.data_size_limit = data_size_limit
        self.port = 0
        self._lock = threading.Condition()
        self._controller: Controller | None = None
        self.reset()

    # ------------------------------------------------------------------ lifecycle
    def start(self, attempts: int = 5, *, port: int | None = None) -> SmtpSink:
        """Bind a free port (or ``port``: come back where a stopped sink was) and serve; returns
        self. Received messages and faults survive a stop and start."""
        kwargs: dict[str, Any] = {}
        if self.tls == "implicit":
            assert self.ca is not None
            kwargs["ssl_context"] = self.ca.server_context()
        elif self.tls == "starttls":
            assert self.ca is not None
            kwargs["tls_context"] = self.ca.server_context()
        for attempt in range(attempts):
            self.port = port or free_port()
            controller = Controller(
                _Handler(self), hostname=LOOPBACK, port=self.port, server_hostname=self.hostname,
                authenticator=self._authenticate, auth_required=self.auth_required,
                auth_require_tls=self.auth_require_tls, auth_exclude_mechanism=["CRAM-MD5"],
                data_size_limit=self.data_size_limit, enable_SMTPUTF8=True, ready_timeout=10,
                **kwargs)
            try:
                controller.start()
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE or attempt + 1 == attempts:
                    raise
                if port is not None:
                    time.sleep(0.2)  # the old listener's socket is still closing
                continue
            self._controller = controller
            return self
        raise RuntimeError("unreachable")

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self._controller is not None:
            with contextlib.suppress(Exception):
                self._controller.stop()
            self._controller = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ faults
    def reset(self) -> None:
        """Forget received messages, AUTH attempts and every configured fault."""
        with self._lock:
            self.messages: list[ReceivedMessage] = []
            self.auth_attempts: list[AuthAttempt] = []
            self.rcpt_calls = 0
            self.data_calls = 0
            self._rcpt_failures_left = 0
            self._rcpt_failure_reply = TEMPFAIL
            self._data_failures_left = 0
            self._data_failure_reply = TEMPFAIL
            self._rejected: dict[str, str] = {}
            self._auth_reply: str | None = None

    def fail_rcpt(self, count: int, reply: str = TEMPFAIL) -> None:
        """Answer the next ``count`` RCPT commands with ``reply`` (default 451), then 250."""
        with self._lock:
            self._rcpt_failures_left, self._rcpt_failure_reply = count, reply

    def fail_data(self, count: int, reply: str = TEMPFAIL) -> None:
        """Answer the next ``count`` DATA transactions with ``reply`` (default 451), then 250;
        a failed transaction is not recorded."""
        with self._lock:
            self._data_failures_left, self._data_failure_reply = count, reply

    def reject_recipient(self, address: str, reply: str | None = None) -> None:
        """Always answer RCPT TO:<address> with ``reply`` (default
        ``550 5.1.1 <address>: Recipient address rejected: User unknown``)."""
        with self._lock:
            self._rejected[address.lower()] = reply or (
                f"550 5.1.1 <{address}>: Recipient address rejected: User unknown")

    def set_auth_reply(self, reply: str | None) -> None:
        """Answer every AUTH with ``reply`` (a multi-line reply uses ``\\r\\n`` between lines);
        None restores normal checking against :attr:`users`."""
        with self._lock:
            self._auth_reply = reply

    # ------------------------------------------------------------------ waiting
    def wait_for(self, count: int = 1, timeout: float = 10) -> list[ReceivedMessage]:
        """Wait until at least ``count`` messages were accepted; return all of them."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"sink on port {self.port}: {len(self.messages)} message(s) after "
                        f"{timeout}s, wanted {count}")
                self._lock.wait(left)
            return list(self.messages)

    # ------------------------------------------------------------------ server side
    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        login = password = None
        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode("utf-8", "replace")
            password = auth_data.password.decode("utf-8", "replace")
        with self._lock:
            custom = self._auth_reply
            ok = custom is None and login is not None and self.users.get(login) == password
            self.auth_attempts.append(AuthAttempt(mechanism, login, ok))
        if custom is not None:
            return AuthResult(success=False, handled=False, message=custom)
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    def _on_rcpt(self, envelope: Any, address: str) -> str:
        with self._lock:
            self.rcpt_calls += 1
            rejected = self._rejected.get(address.lower())
            if rejected is not None:
                return rejected
            if self._rcpt_failures_left > 0:
                self._rcpt_failures_left -= 1
                return self._rcpt_failure_reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    def _on_data(self, session: Any, envelope: Any) -> str:
        with self._lock:
            self.data_calls += 1
            if self._data_failures_left > 0:
                self._data_failures_left -= 1
                return self._data_failure_reply
            data = envelope.original_content or envelope.content
            auth = session.auth_data
            user = auth.login if isinstance(auth, LoginPassword) else None
            self.messages.append(ReceivedMessage(
                mail_from=envelope.mail_from, rcpt_tos=list(envelope.rcpt_tos),
                data=bytes(data),
                auth_user=user.decode() if isinstance(user, bytes) else user,
                tls=self.tls == "implicit" or session.ssl is not None))
            self._lock.notify_all()
        return "250 2.0.0 OK: queued"
