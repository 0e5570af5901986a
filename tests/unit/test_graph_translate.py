"""Graph error answers become stable diagnosis codes at the adapter edge (pure)."""

from __future__ import annotations

import email.policy
from email.message import EmailMessage

import pytest

from mailport.adapters.graph import SyncStateLostError, split_for_draft, summary_of, translate
from mailport.adapters.provider_api import ApiFailure
from mailport.errors import RemoteAuthError, RemoteError, RemoteRejected, RemoteThrottled


def _failure(status: int, code: str, message: str = "") -> ApiFailure:
    return ApiFailure(status=status, reason=code, message=message or code, retry_after=None, stage="graph.send",
                      body={"error": {"code": code, "message": message}})


@pytest.mark.parametrize(("status", "code", "message", "kind", "diagnosis"), [
    (403, "ErrorExceededMessageLimit", "Cannot send mails. Sending limit exceeded.", RemoteThrottled,
     "send.daily_limit_reached"),
    (404, "MailboxNotEnabledForRESTAPI", "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
     RemoteRejected, "api.mailbox_not_enabled"),
    (403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.", RemoteRejected,
     "auth.insufficient_permissions"),
    (403, "ErrorSendAsDenied", "The user account … does not have the right to send mail on behalf of …",
     RemoteRejected, "send.sender_not_allowed"),
    (401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.", RemoteAuthError,
     "auth.token_invalid"),
    (403, "ErrorAccessDenied", "AADSTS65001: The user or administrator has not consented to use the application",
     RemoteRejected, "auth.admin_consent_required"),
    (413, "ErrorRequestEntityTooLarge", "The request body exceeds the maximum size of 4 MB.", RemoteRejected,
     "send.message_too_large"),
    (500, "generalException", "An unexpected error occurred.", RemoteError, "server.temporary_failure"),
])
def test_graph_errors_get_stable_codes(status: int, code: str, message: str, kind: type, diagnosis: str) -> None:
    error = translate(_failure(status, code, message))
    assert isinstance(error, kind) and error.code == diagnosis
    assert code in (error.server_text or "")


@pytest.mark.parametrize("code", ["SyncStateNotFound", "syncStateNotFound", "resyncRequired"])
def test_lost_sync_state_in_any_spelling_means_resync(code: str) -> None:
    assert isinstance(translate(_failure(410, code)), SyncStateLostError)


def _mail(*sizes: int) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@example.test", "b@example.test", "Invoice"
    msg["Message-ID"] = "<m1@example.test>"
    msg.set_content("Text body")
    for i, size in enumerate(sizes):
        msg.add_attachment(bytes([i % 256]) * size, maintype="application", subtype="pdf", filename=f"f{i}.pdf")
    return msg.as_bytes(policy=email.policy.SMTP)


def test_split_takes_out_the_largest_attachments_first_and_only_as_many_as_needed() -> None:
    body, detached = split_for_draft(_mail(100_000, 3_500_000, 200_000), budget=1_000_000)
    assert [d.name for d in detached] == ["f1.pdf"]
    kept = email.message_from_bytes(body, policy=email.policy.default)
    assert sorted(p.get_filename() for p in kept.iter_attachments()) == ["f0.pdf", "f2.pdf"]
    body, detached = split_for_draft(_mail(100_000, 3_500_000, 200_000), budget=100_000)
    assert [d.name for d in detached] == ["f1.pdf", "f2.pdf", "f0.pdf"]
    assert detached[0].content == bytes([1]) * 3_500_000


def test_text_alone_over_the_budget_is_refused_with_a_code() -> None:
    with pytest.raises(RemoteRejected) as caught:
        split_for_draft(_mail(), budget=10)
    assert caught.value.code == "send.message_too_large"


def test_summary_from_internet_message_headers_matches_the_imap_one() -> None:
    item = {
        "id": "AAMk1", "subject": "Re: Invoice 117", "bodyPreview": "  Thanks,\r\n paid today ",
        "internetMessageId": "<r1@customer.test>", "sentDateTime": "2026-12-01T10:00:00Z",
        "internetMessageHeaders": [
            {"name": "From", "value": "Klant <klant@customer.test>"}, {"name": "To", "value": "a@example.test"},
            {"name": "Subject", "value": "=?utf-8?q?Re=3A_Invoice_117?="},
            {"name": "Message-ID", "value": "<r1@customer.test>"},
            {"name": "In-Reply-To", "value": "<m1@example.test>"},
            {"name": "References", "value": "<m0@example.test> <m1@example.test>"},
        ],
    }
    summary = summary_of(item)
    assert (summary.from_name, summary.from_email) == ("Klant", "klant@customer.test")
    assert summary.in_reply_to == "m1@example.test" or summary.in_reply_to == "<m1@example.test>"
    assert len(summary.references) == 2 and summary.subject == "Re: Invoice 117"
    assert summary.snippet == "Thanks, paid today" and not summary.maybe_report
    report = summary_of({"id": "x", "internetMessageHeaders": [
        {"name": "From", "value": "Mail Delivery System <MAILER-DAEMON@example.test>"},
        {"name": "Content-Type", "value": "multipart/report; report-type=delivery-status; boundary=b"}]})
    assert report.maybe_report
