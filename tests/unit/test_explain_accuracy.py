"""Accuracy of ``mailport explain`` on real provider replies (``tests/corpus/diagnostics``), per split.

The held-out split (round 6 of the replies collected for issue 18; rounds 1-5 were measured once,
then spent as training data — ``tests/corpus/diagnostics/README.md``) was never looked at while
tuning the classifier. The test prints the accuracy of each split and the misses of the training
split only. It asserts the issue's 95 % on both splits; the held-out split is below it (measured
once: 78/159 = 49.1 %), so that case is an expected failure — strict, so that the marker has to go
the day a fresh, untuned round reaches the bar. Run with ``-s`` to see the numbers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailport.cli import app

CORPUS: list[dict[str, str | None]] = json.loads(
    (Path(__file__).resolve().parents[1] / "corpus" / "diagnostics" / "replies.json").read_text(encoding="utf-8"))
TARGET = {"train": 0.95, "holdout": 0.95}


def _explain(case: dict[str, str | None]) -> str:
    args = ["explain", "--json"] + (["--email", str(case["email"])] if case.get("email") else [])
    result = CliRunner().invoke(app, args, input=case["text"])
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)["code"])


def test_corpus_is_large_multilingual_and_split() -> None:
    assert len(CORPUS) >= 200
    held = [c for c in CORPUS if c["split"] == "holdout"]
    assert len(held) >= len(CORPUS) / 5
    assert {c["lang"] for c in CORPUS} >= {"en", "nl", "de", "it", "fr"}


@pytest.mark.parametrize("split", [
    "train",
    pytest.param("holdout", marks=pytest.mark.xfail(
        strict=True, reason="issue 18's 95 % not reached: round 6 measured once at 78/159 = 49.1 %")),
])
def test_explain_accuracy(split: str) -> None:
    cases = [c for c in CORPUS if c["split"] == split]
    misses = []
    for case in cases:
        got = _explain(case)
        if got != case["code"]:
            misses.append(f"{got} != {case['code']}: {str(case['text'])[:110]!r}")
    accuracy = 1 - len(misses) / len(cases)
    print(f"\nmailport explain on the {split} split: {len(cases) - len(misses)}/{len(cases)} = {accuracy:.3f}")
    if split == "train":  # the held-out misses are not shown: nobody tunes on them by accident
        for miss in misses:
            print(f"  miss: {miss}")
    assert accuracy >= TARGET[split], len(misses) if split != "train" else misses
