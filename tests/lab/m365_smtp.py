"""An SMTP server that answers like Exchange Online in a tenant with SMTP AUTH switched off:
it offers ``AUTH LOGIN XOAUTH2`` and answers every AUTH with
``535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant``.

Plain TCP on 127.0.0.1 (tests allow authentication without TLS); ``auth_attempts`` records the
mechanism of each AUTH (never the token).
"""

from __future__ import annotations

import asyncio

from .scripted_server import ScriptedServer

REPLY_5_7_139 = ("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant."
                 " Visit https://aka.ms/smtp_auth_disabled for more information. "
                 "[AM0PR02CA0001.eurprd02.prod.outlook.com]")


class SmtpAuthDisabledServer(ScriptedServer):
    name = "lab-m365-smtp"

    def __init__(self, reply: str = REPLY_5_7_139) -> None:
        super().__init__()
        self.reply = reply
        self.auth_attempts: list[str] = []

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 AM0PR02CA0001.outlook.office365.com Microsoft ESMTP MAIL Service ready\r\n")
        try:
            while line := await reader.readline():
                verb = line.split(b" ", 1)[0].strip().upper()
                if verb in (b"EHLO", b"HELO"):
                    writer.write(b"250-AM0PR02CA0001.outlook.office365.com Hello\r\n250-SIZE 157286400\r\n"
                                 b"250-8BITMIME\r\n250-AUTH LOGIN XOAUTH2\r\n250 SMTPUTF8\r\n")
                elif verb == b"AUTH":
                    parts = line.decode("ascii", "replace").split()
                    self.auth_attempts.append(parts[1].upper() if len(parts) > 1 else "")
                    if len(parts) == 2:  # no initial response: ask for it, then refuse
                        writer.write(b"334 \r\n")
                        await writer.drain()
                        await reader.readline()
                    writer.write(self.reply.encode() + b"\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 2.0.0 Service closing transmission channel\r\n")
                    await writer.drain()
                    break
                elif verb in (b"RSET", b"NOOP"):
                    writer.write(b"250 2.0.0 OK\r\n")
                else:
                    writer.write(b"530 5.7.57 Client not authenticated to send mail.\r\n")
                await writer.drain()
        finally:
            writer.close()
