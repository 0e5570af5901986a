"""Replies a store cannot hold as they arrive: an older server answering in Latin-1, a broken or
hostile one with NUL and escape bytes. The outcome of a message the server accepted (or refused)
must be written all the same — before ``core/servertext.py`` the finish failed on the reply's
undecodable byte and the message stayed ``sending`` until another worker sent it again."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from outbox_helpers import outbox_runtime, run_worker_until, sink_account, state_of

from lab.scripted_server import ScriptedServer
from mailport.services.send import SendRequest


class ScriptedSmtp(ScriptedServer):
    """An SMTP server on loopback that accepts any login and answers DATA with ``reply``."""

    def __init__(self, reply: bytes) -> None:
        super().__init__()
        self.reply = reply

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 scripted ESMTP\r\n")
        in_data = False
        while line := await reader.readline():
            if in_data:
                if line == b".\r\n":
                    in_data = False
                    writer.write(self.reply + b"\r\n")
            else:
                verb = line[:4].upper()
                if verb == b"EHLO":
                    writer.write(b"250-scripted\r\n250 AUTH PLAIN LOGIN\r\n")
                elif verb == b"AUTH":
                    writer.write(b"235 2.7.0 ok\r\n")
                elif verb == b"DATA":
                    writer.write(b"354 go on\r\n")
                    in_data = True
                elif verb == b"QUIT":
                    writer.write(b"221 bye\r\n")
                    break
                else:
                    writer.write(b"250 ok\r\n")
            await writer.drain()
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[ScriptedSmtp]:
    with ScriptedSmtp(request.param) as running:
        yield running


@pytest.mark.parametrize(("server", "state", "status", "text"), [
    ("250 2.0.0 Ok: queued \xfc\x00\x1b[0m as 4XyZ".encode("latin-1"), "sent", "accepted",
     "2.0.0 Ok: queued ü[0m as 4XyZ"),
    ("550 5.1.1 Empfänger unbekannt".encode("latin-1"), "failed", "failed", "5.1.1 Empfänger unbekannt"),
    ("452 4.2.2 Boîte pleine – réessayez plus tard".encode("cp1252"), "deferred", "deferred",
     "4.2.2 Boîte pleine – réessayez plus tard"),
], indirect=["server"], ids=["accepted-latin1-nul", "refused-latin1", "deferred-cp1252"])
async def test_the_outcome_is_written_whatever_bytes_the_reply_holds(
        tmp_path: Path, database_url: str, server: ScriptedSmtp, state: str, status: str, text: str) -> None:
    rt = outbox_runtime(tmp_path, database_url)
    try:
        tenant = rt.tenants.create(name="Replies").tenant.id
        account = sink_account(rt, tenant, server.port)
        message = rt.outbox.submit(tenant, SendRequest(account_id=account, to=["klant@example.org"],
                                                       subject="Factuur F-1", text="Beste klant,")).message.id
        await run_worker_until(rt, lambda: state_of(rt, tenant, message) not in ("queued", "sending"))
        view = rt.outbox.get(tenant, message)
        assert view.state == state
        [recipient] = view.recipients
        assert (recipient["status"], recipient["text"]) == (status, text)
    finally:
        rt.close()
