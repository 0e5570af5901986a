"""The one state of a mailbox: which outcomes move it, and when a new episode starts."""

from __future__ import annotations

from mailport.core.accountstate import Change, decide, state_of


def test_the_three_states_from_every_stored_status() -> None:
    assert [state_of(s) for s in ("verified", "sent_unconfirmed", "failed", "needs_reconnect", "unverified")] == [
        "working", "working", "needs_attention", "needs_attention", "not_tested"]


def test_a_wrong_password_on_send_starts_an_episode_once() -> None:
    first = decide("verified", ok=False, code="auth.invalid_credentials", source="send")
    assert first == Change("failed", "auth.invalid_credentials", new_episode=True)
    again = decide("failed", ok=False, code="auth.invalid_credentials", source="sync")
    assert again is not None and not again.new_episode


def test_a_recipient_or_a_passing_timeout_leaves_the_state() -> None:
    assert decide("verified", ok=False, code="send.recipient_unknown", source="send") is None
    assert decide("unverified", ok=False, code="net.timeout", source="sync") is None
    # …but a verification is the user's explicit test: its failure always counts.
    assert decide("verified", ok=False, code="net.timeout", source="verification") == Change(
        "failed", "net.timeout", new_episode=True)


def test_success_clears_except_a_pending_sign_in() -> None:
    assert decide("failed", ok=True, code=None, source="send") == Change("verified", None, new_episode=False)
    assert decide("unverified", ok=True, code=None, source="sync") == Change("verified", None, new_episode=False)
    assert decide("verified", ok=True, code=None, source="send") is None
    assert decide("needs_reconnect", ok=True, code=None, source="sync") is None
