"""What a provider grant allows the round-trip verification to do (``core.transports``)."""

from __future__ import annotations

import pytest

from mailport.core.transports import can_delete_mail, can_read_inbox, scopes_for


@pytest.mark.parametrize(("transport", "scope", "read", "delete"), [
    ("gmail_api", " ".join(scopes_for("google", "send")), False, False),
    ("gmail_api", " ".join(scopes_for("google", "send_and_inbox")), True, False),  # gmail.readonly looks only
    ("gmail_api", "https://www.googleapis.com/auth/gmail.modify", True, True),
    ("gmail_api", "https://mail.google.com/", True, True),
    ("graph", " ".join(scopes_for("microsoft", "send_and_inbox")), True, True),
    ("graph", "Mail.Send Mail.ReadWrite", True, True),  # bare names, as Microsoft answers sometimes
    ("graph", "Mail.Send Mail.Read", True, False),
    ("smtp_imap", "https://mail.google.com/", False, False),
])
def test_what_a_grant_allows(transport: str, scope: str, read: bool, delete: bool) -> None:
    assert (can_read_inbox(transport, scope), can_delete_mail(transport, scope)) == (read, delete)
