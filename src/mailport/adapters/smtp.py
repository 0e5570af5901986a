"""SMTP submission over aiosmtplib, with every failure translated into a diagnosed mailport error.

::

    async with SmtpSession.open(endpoint, password=Secret("…"), settings=settings, resolver=dns) as smtp:
        result = await smtp.send(envelope_from="a@example.com", recipients=["b@example.org"],
                                 message_bytes=raw)

:meth:`SmtpSession.open` runs the stages one by one — ``smtp.dns`` (resolve, then the SSRF guard),
``smtp.tcp`` (connect to a checked address), ``smtp.tls`` (implicit TLS or STARTTLS, certificate
verified or pinned), ``smtp.greeting`` (banner + EHLO), ``smtp.auth`` — and reports each finished
stage to ``on_stage``. Any failure raises a :class:`mailport.errors.RemoteError` subclass whose
``stage``, ``smtp_code``, ``server_text`` and diagnosis ``code`` say what went wrong where.
We drive aiosmtplib command by command (rather than its all-in-one ``connect()`` options) so that
each stage is timed and blamed separately, and so that we connect to the IP we checked while TLS
still verifies the host name.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import aiosmtplib
import aiosmtplib.protocol
from aiosmtplib import (
    SMTPAuthenticationError,
    SMTPException,
    SMTPRecipientRefused,
    SMTPResponseException,
    SMTPServerDisconnected,
    SMTPTimeoutError,
)

from mailport.adapters import smtp_wire
from mailport.adapters.secrets import Secret
from mailport.adapters.tls import (
    PROBE_TIMEOUT,
    check_pin,
    client_context,
    handshake_failed,
    peer_fingerprint,
    tls_probe,
    unverified_context,
)
from mailport.adapters.transport import (
    AddressResolver,
    StageClock,
    StageObserver,
    connect_tcp,
    diagnosed,
    login_secrets,
    open_socket,
    scrub,
)
from mailport.core.oauth import OAUTHBEARER_FAILURE_ACK, oauthbearer_initial_response
from mailport.core.outbox import RecipientResult, SmtpReply, recipient_verdicts
from mailport.core.servertext import readable
from mailport.core.verification import Endpoint
from mailport.errors import (
    NetworkError,
    ProtocolError,
    RemoteAuthError,
    RemoteError,
    RemoteTimeout,
    TLSError,
    ValidationError,
)

if TYPE_CHECKING:
    from mailport.settings import Settings

__all__ = ["RecipientOutcome", "SendResult", "SmtpEndpoint", "SmtpSession", "needs_smtputf8"]

SmtpEndpoint = Endpoint
"""Host, port, security (``tls``/``starttls``/``none``), username and optional TLS pin."""

_Fail = Callable[..., RemoteError]

_MALFORMED = "Malformed SMTP response line:"
_LOCAL_HOSTNAME = "mailport.localdomain"  # EHLO name; never leak the machine's own FQDN

smtp_wire.install(aiosmtplib.protocol)  # the same DATA bytes, without two regex passes per message


def needs_smtputf8(envelope_from: str, recipients: Sequence[str], message_bytes: bytes) -> bool:
    """True when an address or a header is non-ASCII (RFC 6531 needs the server's SMTPUTF8)."""
    if not envelope_from.isascii() or not all(r.isascii() for r in recipients):
        return True
    header_end = message_bytes.find(b"\r\n\r\n")
    headers = message_bytes if header_end < 0 else message_bytes[:header_end]
    return not headers.isascii()


@dataclass(frozen=True, slots=True, kw_only=True)
class RecipientOutcome:
    """What the server said to ``RCPT TO`` for one recipient."""

    address: str
    accepted: bool
    smtp_code: int
    server_text: str
    code: str | None = None  # the diagnosis code of a refusal
    retryable: bool = False  # a refusal worth retrying later (4xx, per the diagnosis)


@dataclass(frozen=True, slots=True, kw_only=True)
class SendResult:
    """The outcome of one transaction: each recipient's ``RCPT`` reply and the reply to DATA.

    Recipients accepted at ``RCPT`` got the message only when ``smtp_code`` (the reply to the end
    of DATA) is 2xx. ``smtp_code`` is ``None`` when DATA was never sent (every recipient refused).
    ``refusal`` is the diagnosed error :meth:`SmtpSession.send` raises for such a result (every
    recipient or the data refused); ``None`` when the server took the message.
    """

    recipients: tuple[RecipientOutcome, ...]
    smtp_code: int | None
    server_text: str  # often carries the server's queue id
    smtputf8: bool
    data_code: str | None = None  # the diagnosis code of a refused DATA
    refusal: RemoteError | None = None

    @property
    def accepted(self) -> tuple[str, ...]:
        """Who got the message: accepted at ``RCPT`` and the data accepted."""
        if self.smtp_code is None or not 200 <= self.smtp_code < 300:
            return ()
        return tuple(r.address for r in self.recipients if r.accepted)

    @property
    def refused(self) -> tuple[RecipientOutcome, ...]:
        return tuple(r for r in self.recipients if not r.accepted)

    @property
    def partial(self) -> bool:
        return bool(self.refused) and bool(self.accepted)

    def verdicts(self) -> tuple[RecipientResult, ...]:
        """Each recipient's own verdict (:func:`mailport.core.outbox.recipient_verdicts`)."""
        data = (
            None
            if self.smtp_code is None
            else SmtpReply(code=_reply_code(self.smtp_code), text=self.server_text,
                           diagnosis=_known(self.data_code))
        )
        return recipient_verdicts(
            [
                (r.address, SmtpReply(code=_reply_code(r.smtp_code), text=r.server_text,
                                      diagnosis=_known(r.code)))
                for r in self.recipients
            ],
            data,
        )


def _reply_code(code: int) -> int | None:
    """A reply code the outbox can judge; anything else counts as no reply at all."""
    return code if 200 <= code <= 599 else None


def _known(code: str | None) -> str | None:
    """A diagnosis that says something; else the outbox classifies the reply itself."""
    return None if code in (None, "unknown", "error", "remote.error") else code


class SmtpSession:
    """An open, authenticated SMTP connection. Build it with :meth:`open`."""

    def __init__(
        self,
        *,
        client: aiosmtplib.SMTP,
        endpoint: Endpoint,
        email: str | None,
        timings: list[tuple[str, float]],
        secrets: tuple[str, ...],
    ) -> None:
        self._client = client
        self._endpoint = endpoint
        self._email = email
        self._secrets = secrets
        self.timings = timings
        """``(stage, seconds)`` for every connection stage that completed."""

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        endpoint: Endpoint,
        *,
        password: Secret | None,
        oauth_token: str | None = None,
        settings: Settings,
        resolver: AddressResolver,
        email: str | None = None,
        on_stage: StageObserver | None = None,
    ) -> AsyncIterator[SmtpSession]:
        """Connect, secure, greet and authenticate; closes (QUIT) when the block ends.

        ``password`` or ``oauth_token`` (XOAUTH2) authenticates as ``endpoint.username``; with
        neither, no AUTH is attempted. ``email`` (the account address) only sharpens diagnoses.
        """
        if password is not None and oauth_token is not None:
            raise ValidationError("pass either a password or an OAuth token, not both")
        session = await _connect(
            endpoint,
            password=password,
            oauth_token=oauth_token,
            settings=settings,
            resolver=resolver,
            email=email,
            on_stage=on_stage,
            secrets=login_secrets(password, oauth_token),
        )
        try:
            yield session
        finally:
            await session.close()

    @property
    def extensions(self) -> dict[str, str]:
        """The ESMTP extensions the server announced (lowercase keywords)."""
        return dict(self._client.esmtp_extensions)

    def supports(self, extension: str) -> bool:
        return self._client.supports_extension(extension)

    async def send(
        self, envelope_from: str, recipients: Sequence[str], message_bytes: bytes
    ) -> SendResult:
        """Submit one message; refused recipients are reported, not raised, if any was accepted.

        Raises a diagnosed :class:`RemoteError` when the sender, every recipient or the data is
        refused, and :class:`ValidationError` for what the server cannot carry (SMTPUTF8, SIZE).
        """
        result = await self.deliver(envelope_from, recipients, message_bytes)
        if result.refusal is not None:
            raise result.refusal
        return result

    async def deliver(
        self, envelope_from: str, recipients: Sequence[str], message_bytes: bytes
    ) -> SendResult:
        """Like :meth:`send`, but a reply that refuses recipients or the data is reported, not
        raised: every recipient keeps its own ``RCPT`` reply, and :attr:`SendResult.smtp_code` is
        ``None`` when no recipient was accepted (no ``DATA``). What the outbox needs to give each
        recipient its own verdict (:func:`mailport.core.outbox.recipient_verdicts`).

        Still raises for what leaves the transaction's fate unknown (the connection dropped, a
        timeout, no SMTP reply) and for a refused sender, which concerns every recipient.
        """
        if not recipients:
            raise ValidationError("a message needs at least one recipient")
        if any(ch in addr for addr in (envelope_from, *recipients) for ch in "\r\n<>"):
            raise ValidationError(
                "an envelope address contains a forbidden character",
                code="request.header_injection",
            )
        client = self._client
        utf8 = needs_smtputf8(envelope_from, recipients, message_bytes)
        options: list[str] = []
        if utf8:
            if not client.supports_extension("smtputf8"):
                raise ValidationError(
                    "This server cannot send to or from non-ASCII addresses (no SMTPUTF8)",
                    code="request.smtputf8_unsupported",
                )
            options.append("SMTPUTF8")
        if not message_bytes.isascii():
            if client.supports_extension("8bitmime"):
                options.append("BODY=8BITMIME")
            elif not utf8:
                raise ValidationError(
                    "The message has 8-bit content and the server does not accept it (no 8BITMIME)",
                    code="request.8bitmime_unsupported",
                )
        size_limit = _size_limit(client.esmtp_extensions.get("size", ""))
        if client.supports_extension("size"):
            if size_limit and len(message_bytes) > size_limit:
                raise ValidationError(
                    f"The message is {len(message_bytes)} bytes; this server accepts at most {size_limit}",
                    code="send.message_too_large",
                )
            options.append(f"SIZE={len(message_bytes)}")
        encoding = "utf-8" if utf8 else "ascii"
        timeout = self._client.timeout

        try:
            await client.mail(envelope_from, options=options, encoding=encoding)
        except SMTPException as exc:
            raise self._error(exc, stage="smtp.mail", what="The server refused the sender") from exc

        outcomes: list[RecipientOutcome] = []
        last_refusal: SMTPRecipientRefused | None = None
        for rcpt in recipients:
            try:
                reply = await client.rcpt(rcpt, encoding=encoding)
            except SMTPRecipientRefused as exc:
                last_refusal = exc
                error = self._error(exc, stage="smtp.rcpt", what="The server refused a recipient")
                outcomes.append(
                    RecipientOutcome(
                        address=rcpt,
                        accepted=False,
                        smtp_code=exc.code,
                        server_text=readable(exc.message),
                        code=error.code,
                        retryable=bool(error.retryable),
                    )
                )
                continue
            except SMTPException as exc:
                raise self._error(
                    exc, stage="smtp.rcpt", what="The server failed during RCPT"
                ) from exc
            outcomes.append(
                RecipientOutcome(
                    address=rcpt, accepted=True, smtp_code=reply.code, server_text=readable(reply.message)
                )
            )

        if not any(o.accepted for o in outcomes):
            assert last_refusal is not None
            await self._reset()
            refusal = self._error(
                last_refusal, stage="smtp.rcpt", what="The server refused every recipient"
            )
            refusal.__cause__ = last_refusal
            return SendResult(
                recipients=tuple(outcomes), smtp_code=None, server_text="", smtputf8=utf8,
                refusal=refusal,
            )

        try:
            # DATA may take longer than one reply: allow time proportional to the size.
            data_timeout = (timeout or 60.0) + len(message_bytes) / 50_000
            reply = await client.data(message_bytes, timeout=data_timeout)
        except SMTPResponseException as exc:
            error = self._error(exc, stage="smtp.data", what="The server refused the message")
            error.__cause__ = exc
            if error.smtp_code is None:  # not an SMTP reply: the transaction's fate is unknown
                raise error from exc
            return SendResult(
                recipients=tuple(outcomes), smtp_code=exc.code, server_text=readable(exc.message),
                smtputf8=utf8, data_code=error.code, refusal=error,
            )
        except SMTPException as exc:
            raise self._error(
                exc, stage="smtp.data", what="The server refused the message"
            ) from exc
        return SendResult(
            recipients=tuple(outcomes),
            smtp_code=reply.code,
            server_text=readable(reply.message),
            smtputf8=utf8,
        )

    async def close(self) -> None:
        """QUIT politely; a server that already hung up is not an error at this point."""
        client = self._client
        if not client.is_connected:
            return
        try:
            await client.quit(timeout=min(client.timeout or 5.0, 5.0))
        except (TimeoutError, SMTPException, OSError):
            client.close()

    async def _reset(self) -> None:
        try:
            await self._client.rset()
        except (SMTPException, OSError):
            self._client.close()

    def _error(self, exc: BaseException, *, stage: str, what: str) -> RemoteError:
        return _translate(
            exc,
            stage=stage,
            what=what,
            endpoint=self._endpoint,
            email=self._email,
            secrets=self._secrets,
        )


def _size_limit(value: str) -> int:
    try:
        return int(value.strip() or 0)
    except ValueError:
        return 0


def _innermost(exc: BaseException) -> BaseException:
    """aiosmtplib wraps the OSError/ssl errors of its connect and STARTTLS steps; the innermost
    cause is what is judged."""
    cause = exc
    while (
        isinstance(cause, SMTPException)
        and cause.__cause__ is not None
        and not isinstance(cause, SMTPResponseException)
    ):
        cause = cause.__cause__
    return cause


def _translate(
    exc: BaseException,
    *,
    stage: str,
    what: str,
    endpoint: Endpoint,
    email: str | None,
    secrets: tuple[str, ...],
    code: str | None = None,
    auth_mechanism: str | None = None,
) -> RemoteError:
    """One aiosmtplib/ssl/socket exception → the mailport error with its diagnosis."""
    smtp_code: int | None = None
    text: str | None = None
    cause = _innermost(exc)
    if isinstance(exc, SMTPResponseException):
        smtp_code = exc.code if 100 <= exc.code <= 599 else None
        # aiosmtplib prefixes what it could not parse; the classifier wants the server's words,
        # and people recognise a reply by its code ("535 5.7.8 …"), so it stays in front.
        reply = readable(exc.message).removeprefix(_MALFORMED).strip()
        text = scrub(f"{smtp_code} {reply}" if smtp_code is not None else reply, *secrets)
        if smtp_code is None and stage.endswith("greeting") and code is None:
            # Not an SMTP greeting at all ("* OK … Dovecot ready"): another service on this port,
            # typically the IMAP port typed as the SMTP port.
            code = "net.wrong_service"
    error_class: type[RemoteError]
    if isinstance(cause, ssl.SSLError):
        error_class = TLSError
    elif isinstance(exc, SMTPAuthenticationError):
        error_class = RemoteAuthError
    elif isinstance(cause, (SMTPTimeoutError, TimeoutError, asyncio.TimeoutError)):
        error_class = RemoteTimeout
    elif isinstance(exc, SMTPResponseException) and smtp_code is None:
        error_class = ProtocolError  # not an SMTP reply at all: wrong service on this port
    elif isinstance(cause, (SMTPServerDisconnected, ConnectionError, OSError)):
        error_class = NetworkError
    elif isinstance(exc, SMTPResponseException):
        error_class = RemoteError
    else:
        error_class = ProtocolError
    message = f"{what} ({endpoint.host}:{endpoint.port})"
    return diagnosed(
        error_class,
        message,
        protocol="smtp",
        stage=stage,
        smtp_code=smtp_code,
        text=text,
        exception=cause,
        email=email,
        code=code,
        auth_mechanism=auth_mechanism,
    )


async def _connect(
    endpoint: Endpoint,
    *,
    password: Secret | None,
    oauth_token: str | None,
    settings: Settings,
    resolver: AddressResolver,
    email: str | None,
    on_stage: StageObserver | None,
    secrets: tuple[str, ...],
) -> SmtpSession:
    clock = StageClock(on_stage)
    timeout = settings.connect_timeout
    where = f"{endpoint.host}:{endpoint.port}"

    def fail(
        exc: BaseException,
        stage: str,
        what: str,
        code: str | None = None,
        auth_mechanism: str | None = None,
    ) -> RemoteError:
        return _translate(
            exc,
            stage=stage,
            what=what,
            endpoint=endpoint,
            email=email,
            secrets=secrets,
            code=code,
            auth_mechanism=auth_mechanism,
        )

    # Refuse to send a password in the clear before touching the network at all.
    if (
        endpoint.security == "none"
        and (password or oauth_token)
        and not settings.allow_insecure_auth
    ):
        raise ValidationError(
            "Password authentication over an unencrypted connection is refused; use tls or starttls "
            "(or set MAILPORT_ALLOW_INSECURE_AUTH for a trusted network)",
            code="request.insecure_auth",
            stage="smtp.auth",
        )

    addresses, sock = await open_socket(
        host=endpoint.ascii_host, port=endpoint.port, protocol="smtp", resolver=resolver,
        allow_private=settings.private_hosts, timeout=timeout, clock=clock, email=email,
    )

    context = client_context(ca_file=settings.ca_file or None, pin_sha256=endpoint.pin_sha256)
    implicit = endpoint.security == "tls"
    client = aiosmtplib.SMTP(
        hostname=endpoint.ascii_host,
        sock=sock,
        use_tls=implicit,
        start_tls=False,
        tls_context=context if implicit else None,
        timeout=timeout,
        local_hostname=_LOCAL_HOSTNAME,
    )
    try:
        # --- banner (after the handshake when TLS is implicit) -------------------------------
        try:
            await client.connect()
        except SMTPException as exc:
            handshake = isinstance(
                exc.__cause__, (ssl.SSLError, asyncio.TimeoutError, TimeoutError)
            ) and not isinstance(exc.__cause__, SMTPException)
            if implicit and handshake:
                raise await handshake_failed(
                    _innermost(exc), message=f"The TLS handshake failed ({where})", protocol="smtp",
                    stage="smtp.tls", email=email,
                    presented=lambda: tls_probe(addresses, endpoint, timeout=timeout),
                ) from exc
            replied = isinstance(exc, SMTPResponseException) or isinstance(exc.__cause__, SMTPResponseException)
            if implicit and replied and not endpoint.pin_sha256:
                # A reply was read over TLS (an IMAP greeting on the IMAPS port, say): the
                # handshake worked, only the greeting did not — not shown as "skipped". (With a
                # pin, the certificate can no longer be checked here: then it stays unproven.)
                clock.done("smtp.tls")
            error = fail(exc, "smtp.greeting", "The server did not greet as an SMTP server")
            if isinstance(error, RemoteTimeout) and await tls_probe(addresses, endpoint, timeout=timeout) is not None:
                raise fail(
                    exc,
                    "smtp.greeting",
                    "This port expects TLS from the first byte",
                    code="tls.mode_mismatch",
                ) from exc
            raise error from exc
        if implicit:
            _check_pin(client, endpoint)
            clock.done("smtp.tls")
        try:
            await client.ehlo()
        except SMTPException as exc:
            raise fail(exc, "smtp.greeting", "The server refused EHLO") from exc
        clock.done("smtp.greeting")

        # --- STARTTLS -----------------------------------------------------------------------
        if endpoint.security == "starttls":
            if not client.supports_extension("starttls"):
                raise TLSError(
                    f"The server does not offer STARTTLS ({endpoint.host}:{endpoint.port})",
                    code="tls.starttls_required",
                    stage="smtp.tls",
                )
            try:
                await client.starttls(server_hostname=endpoint.ascii_host, tls_context=context)
            except SMTPResponseException as exc:  # a reply, not a handshake: "454 TLS not available"
                raise fail(exc, "smtp.tls", "The STARTTLS upgrade failed") from exc
            except (SMTPException, ssl.SSLError, OSError) as exc:
                raise await handshake_failed(
                    _innermost(exc), message=f"The STARTTLS upgrade failed ({where})", protocol="smtp",
                    stage="smtp.tls", email=email,
                    presented=lambda: _starttls_fingerprint(addresses, endpoint, timeout=min(timeout, PROBE_TIMEOUT)),
                ) from exc
            _check_pin(client, endpoint)
            try:
                await client.ehlo()  # RFC 3207: forget what was said before TLS
            except SMTPException as exc:
                raise fail(exc, "smtp.tls", "The server refused EHLO after STARTTLS") from exc
            clock.done("smtp.tls")

        # --- AUTH ---------------------------------------------------------------------------
        if password is not None or oauth_token is not None:
            await _authenticate(
                client, endpoint, password=password, oauth_token=oauth_token, fail=fail
            )
            clock.done("smtp.auth")
    except BaseException:
        client.close()
        raise
    return SmtpSession(
        client=client, endpoint=endpoint, email=email, timings=clock.completed, secrets=secrets
    )


async def _starttls_fingerprint(
    addresses: Sequence[str], endpoint: Endpoint, *, timeout: float
) -> str | None:
    """The certificate a STARTTLS server presents, read over a second, unverified connection.

    Only called after verification failed, so the user can be shown what they would be pinning;
    nothing but EHLO and STARTTLS is sent on it.
    """
    context = unverified_context()
    try:
        sock = await connect_tcp(
            addresses, endpoint.port, timeout=timeout, protocol="smtp", host=endpoint.host
        )
    except RemoteError:
        return None
    probe = aiosmtplib.SMTP(
        hostname=endpoint.ascii_host,
        sock=sock,
        start_tls=False,
        timeout=timeout,
        local_hostname=_LOCAL_HOSTNAME,
    )
    try:
        await probe.connect()
        await probe.starttls(server_hostname=endpoint.ascii_host, tls_context=context)
        return peer_fingerprint(probe.get_transport_info("ssl_object"))
    except (SMTPException, OSError):
        return None
    finally:
        probe.close()


def _check_pin(client: aiosmtplib.SMTP, endpoint: Endpoint) -> None:
    if endpoint.pin_sha256:
        ssl_object = client.get_transport_info("ssl_object")
        check_pin(ssl_object, pin_sha256=endpoint.pin_sha256, stage="smtp.tls")


async def _authenticate(
    client: aiosmtplib.SMTP,
    endpoint: Endpoint,
    *,
    password: Secret | None,
    oauth_token: str | None,
    fail: _Fail,
) -> None:
    username = endpoint.username
    if not username:
        raise ValidationError(
            "An SMTP user name is required to log in", code="request.missing_username"
        )
    methods = set(client.server_auth_methods)
    mechanism: Literal["plain", "login", "xoauth2", "oauthbearer"]
    if oauth_token is not None:
        # XOAUTH2 first: Gmail and Microsoft 365 offer it; OAUTHBEARER (RFC 7628) where only
        # the standard mechanism is offered.
        if "xoauth2" in methods:
            mechanism = "xoauth2"
        elif "oauthbearer" in methods:
            mechanism = "oauthbearer"
        else:
            raise RemoteAuthError(
                f"The server does not offer OAuth (XOAUTH2) login ({endpoint.host})",
                code="unknown",
                stage="smtp.auth",
            )
    elif "plain" in methods:
        mechanism = "plain"
    elif "login" in methods:
        mechanism = "login"
    else:
        offered = ", ".join(sorted(methods)) or "none"
        # No AUTH before TLS is how servers say "encrypt first"; over TLS it means SMTP AUTH is off
        # (or only token login is left).
        code = (
            "tls.starttls_required"
            if endpoint.security == "none"
            else "auth.password_login_disabled"
            if methods
            else "auth.smtp_auth_disabled"
        )
        raise RemoteAuthError(
            f"The server offers no password login this client supports (offered: {offered})",
            code=code,
            stage="smtp.auth",
        )
    try:
        if mechanism == "xoauth2":
            assert oauth_token is not None
            await client.auth_xoauth2(username, oauth_token)
        elif mechanism == "oauthbearer":
            assert oauth_token is not None
            blob = oauthbearer_initial_response(username, oauth_token, host=endpoint.ascii_host,
                                                port=endpoint.port)
            reply = await client.execute_command(b"AUTH", b"OAUTHBEARER", blob)
            if reply.code == 334:  # error challenge: acknowledge to get the final reply
                reply = await client.execute_command(OAUTHBEARER_FAILURE_ACK)
            if reply.code != 235:
                raise SMTPAuthenticationError(reply.code, reply.message)
        else:
            assert password is not None
            login = client.auth_plain if mechanism == "plain" else client.auth_login
            await login(username, password.reveal())
    except SMTPException as exc:
        raise fail(
            exc, "smtp.auth", "The server refused the login", auth_mechanism=mechanism.upper()
        ) from exc
