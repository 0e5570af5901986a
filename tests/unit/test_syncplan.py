"""core.syncplan: the decisions of one pass over an IMAP folder."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from mailport.core.syncplan import (
    FolderCursor,
    FolderSnapshot,
    advance,
    expunged,
    plan_folder,
    uid_set,
)
from mailport.errors import ValidationError

TODAY = date(2026, 11, 23)


def snap(uidvalidity: int = 7, uidnext: int | None = 11, exists: int = 10, modseq: int | None = None) -> FolderSnapshot:
    return FolderSnapshot(uidvalidity=uidvalidity, uidnext=uidnext, exists=exists, highestmodseq=modseq)


def test_first_sync_searches_the_default_90_day_window() -> None:
    plan = plan_folder(cursor=None, snapshot=snap(), today=TODAY)
    assert plan.reset and plan.search_since == date(2026, 8, 25)


def test_window_is_configurable_and_must_be_positive() -> None:
    plan = plan_folder(cursor=None, snapshot=snap(), today=TODAY, window=timedelta(days=7))
    assert plan.search_since == date(2026, 11, 16)
    with pytest.raises(ValidationError):
        plan_folder(cursor=None, snapshot=snap(), today=TODAY, window=timedelta(0))


def test_uidvalidity_change_resets_the_folder() -> None:
    cursor = FolderCursor(uidvalidity=7, uidnext=11)
    plan = plan_folder(cursor=cursor, snapshot=snap(uidvalidity=8, uidnext=3), today=TODAY)
    assert plan.reset and plan.search_since is not None


def test_plain_imap_new_mail_fetches_from_uidnext_and_checks_flags_and_expunges() -> None:
    cursor = FolderCursor(uidvalidity=7, uidnext=11)
    plan = plan_folder(cursor=cursor, snapshot=snap(uidnext=14, exists=13), today=TODAY, stored_count=10)
    assert not plan.reset and plan.new_from_uid == 11
    assert plan.refresh_all_flags and plan.find_expunged and not plan.use_qresync


def test_plain_imap_unchanged_folder_skips_the_expunge_scan_when_counts_agree() -> None:
    cursor = FolderCursor(uidvalidity=7, uidnext=11)
    plan = plan_folder(cursor=cursor, snapshot=snap(), today=TODAY, stored_count=10)
    assert plan.new_from_uid is None and not plan.find_expunged and plan.refresh_all_flags
    # one message gone: counts differ
    plan = plan_folder(cursor=cursor, snapshot=snap(exists=9), today=TODAY, stored_count=10)
    assert plan.find_expunged


def test_condstore_same_modseq_means_nothing_changed() -> None:
    cursor = FolderCursor(uidvalidity=7, uidnext=11, highestmodseq=500)
    plan = plan_folder(cursor=cursor, snapshot=snap(modseq=500), today=TODAY, condstore=True)
    assert plan.nothing_changed


def test_condstore_changed_modseq_fetches_changed_flags_and_scans_expunges() -> None:
    cursor = FolderCursor(uidvalidity=7, uidnext=11, highestmodseq=500)
    plan = plan_folder(cursor=cursor, snapshot=snap(modseq=512), today=TODAY, condstore=True)
    assert plan.flags_changed_since == 500 and plan.find_expunged and not plan.refresh_all_flags


def test_qresync_lets_the_server_report_vanished_uids() -> None:
    cursor = FolderCursor(uidvalidity=7, uidnext=11, highestmodseq=500)
    plan = plan_folder(cursor=cursor, snapshot=snap(uidnext=12, modseq=512), today=TODAY,
                       condstore=True, qresync=True)
    assert plan.use_qresync and not plan.find_expunged
    assert plan.new_from_uid == 11 and plan.flags_changed_since == 500


def test_condstore_without_a_stored_modseq_falls_back_to_plain() -> None:
    cursor = FolderCursor(uidvalidity=7, uidnext=11, highestmodseq=None)
    plan = plan_folder(cursor=cursor, snapshot=snap(modseq=512), today=TODAY, condstore=True)
    assert plan.refresh_all_flags


def test_missing_uidnext_always_looks_for_new_mail() -> None:
    cursor = FolderCursor(uidvalidity=7, uidnext=11)
    assert plan_folder(cursor=cursor, snapshot=snap(uidnext=None), today=TODAY).new_from_uid == 11


def test_advance_uses_server_uidnext_or_highest_seen() -> None:
    cursor = advance(snapshot=snap(uidnext=20), seen_uids=[3, 4], previous=None, window_start=TODAY)
    assert cursor.uidnext == 20 and cursor.window_start == TODAY
    cursor = advance(snapshot=snap(uidnext=None), seen_uids=[3, 40], previous=None, window_start=None)
    assert cursor.uidnext == 41
    # never moves backwards within one UIDVALIDITY
    prev = FolderCursor(uidvalidity=7, uidnext=50, highestmodseq=3)
    assert advance(snapshot=snap(uidnext=30), seen_uids=[], previous=prev, window_start=None).uidnext == 50
    # but does after a reset
    assert advance(snapshot=snap(uidvalidity=9, uidnext=2), seen_uids=[1], previous=prev,
                   window_start=None).uidnext == 2
    assert advance(snapshot=snap(modseq=5), seen_uids=[], previous=None, window_start=None,
                   highestmodseq=9).highestmodseq == 9


def test_expunged() -> None:
    assert expunged([1, 2, 3, 5], [1, 3, 4]) == {2, 5}


def test_uid_set_compresses_runs() -> None:
    assert uid_set([7, 1, 2, 3, 3, 9, 10]) == "1:3,7,9:10"
    assert uid_set([5]) == "5"
    with pytest.raises(ValidationError):
        uid_set([])
    with pytest.raises(ValidationError):
        uid_set([0, 1])


# -- helpers the sync uses beside the plan: threads and contact keys --------------------------

def test_thread_key_follows_the_root_of_references() -> None:
    from mailport.core.threading import message_ids, normalize_message_id, thread_key

    invoice = thread_key(message_id="<inv-1@Shop.example>", in_reply_to=None, references=None, fallback="x")
    reply = thread_key(message_id="<r1@c.example>", in_reply_to="<inv-1@shop.example>", references=None,
                       fallback="y")
    reply2 = thread_key(message_id="<r2@shop.example>", in_reply_to="<r1@c.example>",
                        references="<inv-1@shop.EXAMPLE> <r1@c.example>", fallback="z")
    assert invoice == reply == reply2
    assert thread_key(message_id=None, in_reply_to=None, references=None, fallback="a") != \
        thread_key(message_id=None, in_reply_to=None, references=None, fallback="b")
    assert normalize_message_id("  <Abc@HOST> ") == "<Abc@host>"
    assert normalize_message_id("<a b@c>") is None
    assert message_ids("<a@x> junk <b@y> <a@X>") == ["<a@x>", "<b@y>"]


def test_contact_keys_are_case_insensitive_and_skip_junk() -> None:
    from mailport.core.contacts import address_key, address_keys, participants

    assert address_key("Jane@Customer.Example") == "jane@customer.example"
    assert address_key("<JANE@customer.example>") == "jane@customer.example"
    assert address_key("not an address") is None
    assert address_keys(["a@b.example", "A@B.example", "", "x"]) == ["a@b.example"]
    assert participants('"Doe, J" <j@x.example>, k@y.example', None) == [("Doe, J", "j@x.example"),
                                                                         ("", "k@y.example")]
