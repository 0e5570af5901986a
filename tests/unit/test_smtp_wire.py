"""The DATA bytes with mailport's stand-ins for aiosmtplib's line-ending and dot-stuffing
expressions are byte for byte the library's own (adapters/smtp_wire.py)."""

from __future__ import annotations

import asyncio
import itertools
import random
import re

import aiosmtplib.protocol
import pytest

import mailport.adapters.smtp  # noqa: F401 - installs the stand-ins, as the worker does
from mailport.adapters import smtp_wire

LIBRARY_LINE_ENDINGS = re.compile(rb"(?:\r\n|\n|\r(?!\n))")
LIBRARY_PERIOD = re.compile(rb"(?m)^\.")

SAMPLES = [
    b"",
    b".",
    b"..",
    b"\r\n",
    b"\n",
    b"\r",
    b"\r\r\n\n",
    b".hidden\r\n.\r\n..\r\n",
    b"Subject: x\r\n\r\n.leading dot\r\nmid . dot\r\n.",
    b"lone LF\nthen .dot\nend",
    b"lone CR\rthen .dot\r.end\r",
    b"mixed\r\n\n\r\r\n.x\n\r.y",
    b"no ending",
    b"8bit \xc3\xa9\r\n.\xc3\xa9\r\n",
]


def wire(message: bytes) -> bytes:
    """What aiosmtplib writes after DATA (execute_data_command's own steps)."""
    message = aiosmtplib.protocol.normalize_message_line_endings(message)
    return aiosmtplib.protocol.PERIOD_REGEX.sub(b"..", message) + b".\r\n"


def library_wire(message: bytes) -> bytes:
    message = LIBRARY_LINE_ENDINGS.sub(b"\r\n", message)
    if not message.endswith(b"\r\n"):
        message += b"\r\n"
    return LIBRARY_PERIOD.sub(b"..", message) + b".\r\n"


def test_the_stand_ins_are_installed() -> None:
    assert isinstance(aiosmtplib.protocol.LINE_ENDINGS_REGEX, smtp_wire.CrlfLineEndings)
    assert isinstance(aiosmtplib.protocol.PERIOD_REGEX, smtp_wire.DotStuffing)
    assert smtp_wire.install(aiosmtplib.protocol)  # a second install leaves them as they are


@pytest.mark.parametrize("message", SAMPLES)
def test_same_bytes_as_the_library(message: bytes) -> None:
    assert wire(message) == library_wire(message)


def test_same_bytes_for_every_short_mix_of_cr_lf_and_dots() -> None:
    for n in range(1, 7):
        for chars in itertools.product([b"\r", b"\n", b".", b"a"], repeat=n):
            message = b"".join(chars)
            assert wire(message) == library_wire(message), message


def test_same_bytes_for_random_messages() -> None:
    rng = random.Random(14)
    alphabet = [b"\r\n", b"\r", b"\n", b".", b"a", b" ", b"\r\n."]
    for _ in range(2000):
        message = b"".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert wire(message) == library_wire(message), message


def test_another_expression_is_left_alone() -> None:
    class Module:
        LINE_ENDINGS_REGEX = re.compile(rb"\n")
        PERIOD_REGEX = re.compile(rb"(?m)^\.")

    assert not smtp_wire.install(Module)
    assert isinstance(Module.LINE_ENDINGS_REGEX, re.Pattern)  # not the expression reproduced here
    assert isinstance(Module.PERIOD_REGEX, smtp_wire.DotStuffing)


async def test_a_server_receives_the_librarys_bytes() -> None:
    """Through a real connection: what arrives after DATA is what the library would send."""
    received = bytearray()
    done = asyncio.Event()

    async def server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 ready\r\n")
        while line := await reader.readline():
            if line.startswith(b"EHLO"):
                writer.write(b"250 ok\r\n")
            elif line == b"DATA\r\n":
                writer.write(b"354 go\r\n")
                while (chunk := await reader.readline()) != b".\r\n":
                    received.extend(chunk)
                received.extend(b".\r\n")
                writer.write(b"250 queued\r\n")
                done.set()
            elif line.startswith(b"QUIT"):
                writer.write(b"221 bye\r\n")
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()

    message = b"Subject: x\r\n\r\n.one\r\nlone LF\n.two\r\n" + b"x" * 5000 + b"\r\n."
    srv = await asyncio.start_server(server, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    async with srv:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=10)
        await client.connect()
        await client.sendmail("a@example.test", ["b@example.test"], message)
        await asyncio.wait_for(done.wait(), 10)
        await client.quit()
    assert bytes(received) == library_wire(message)
