"""Every real-world reply in the corpus gets its expected diagnosis."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mailport.core.diagnostics import CODES, Evidence, classify

CORPUS_PATH = Path(__file__).parent / "diagnostics_corpus" / "corpus.json"
CORPUS: list[dict[str, Any]] = json.loads(CORPUS_PATH.read_text(encoding="utf-8"))
# The larger corpus of issue 18 (tests/corpus/diagnostics): codes added since this one was written
# (net.connection_failed, send.relay_denied, server.busy) are exercised by its replies.
REPLIES_PATH = Path(__file__).parents[1] / "corpus" / "diagnostics" / "replies.json"


def test_corpus_is_large_and_uses_only_known_codes() -> None:
    assert len(CORPUS) >= 80
    assert {case["code"] for case in CORPUS} <= set(CODES)
    # Every code is exercised by at least one real reply of either corpus — except send.gave_up,
    # which the outbox decides from the message's age, and net.host_not_allowed and
    # webhook.host_not_allowed, which mailport's network policy decides before any server is asked:
    # never from what a server said.
    replies = json.loads(REPLIES_PATH.read_text(encoding="utf-8"))
    exercised = {case["code"] for case in CORPUS} | {reply["code"] for reply in replies}
    assert set(CODES) - {"send.gave_up", "net.host_not_allowed", "webhook.host_not_allowed"} <= exercised


@pytest.mark.parametrize("case", CORPUS, ids=lambda case: case["text"][:60])
def test_corpus_case(case: dict[str, Any]) -> None:
    evidence = Evidence(
        protocol=case.get("protocol"),
        stage=case.get("stage"),
        text=case["text"],
        exception=case.get("exception"),
    )
    diagnosis = classify(evidence, email=case.get("email"), provider=case.get("provider"))
    assert diagnosis.code == case["code"], case["source"]
    assert diagnosis.server_text  # the evidence is always kept for the user to see
