"""Accuracy of ``mailport explain`` on real provider replies (``tests/corpus/diagnostics``), per split.

Rounds 1-6 of the replies collected for issue 18 were each measured once as the held-out split,
then spent as training data (``tests/corpus/diagnostics/README.md``; round 6: 78/159 = 49.1 %).
Session 4 grew the corpus to 1100 replies in three batches, each measured once before it was trained
on (61.9 %, 78.6 %, 72.4 %); session 6 to 1290 with two more (117/160 = 73.1 %, 23/30 = 76.7 %); session 7
to 1441 with one (its labels committed first, then ``measure_batch.py session7`` once: 130/151 = 86.1 %,
rules alone 121/151 = 80.1 %; English 122/132, nl/de/fr/it 8/19); session 8 to 1542 with one more (committed
first, then ``measure_batch.py session8`` once: 78/101 = 77.2 %, rules alone 64/101; English 57/67, nl/de/fr/it
21/34); session 9 to 1572 with one more (committed first, then ``measure_batch.py session9`` once: 23/30 = 76.7 %,
rules alone 16/30; English 19/25, nl/de/fr/it 4/5: the brief's 50 seed-language replies were not found). There is no
held-out split now: every estimate is under the issue's 95 % (session 9, replaying every fresh
measurement as it happened: 76.0 % of 1188; provider-grouped cross-validation of the model: 73.9 %, of rules + model,
an upper bound: 93.2 %, in the seed languages 86.0 %, ``test_explain_learned.py``), so no fresh round was spent on a
measurement known to fall short. The
held-out cases are strict expected failures until a fresh, untuned round reaches the bar. The training
split's figure is in-sample (the rules were written and the learned layer trained on it): it is no
estimate. Run with ``-s`` to see the numbers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from click.testing import CliRunner

from mailport.cli import app

# The click command built once: typer's runner rebuilds it from the app's signatures on every invoke
# (95 % of the ~0.15 s each of 1441 runs took); what is tested is the command, not that rebuild.
# click's runner drives typer's vendored click command alike (typer._click is click's code).
COMMAND = typer.main.get_command(app)

CORPUS: list[dict[str, str | None]] = json.loads(
    (Path(__file__).resolve().parents[1] / "corpus" / "diagnostics" / "replies.json").read_text(encoding="utf-8"))
TARGET = {"train": 0.95, "holdout": 0.95}


def _explain(case: dict[str, str | None]) -> str:
    args = ["explain", "--json"] + (["--email", str(case["email"])] if case.get("email") else [])
    result = CliRunner().invoke(COMMAND, args, input=case["text"])  # type: ignore[arg-type]
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)["code"])


NO_ROUND = ("issue 18's 95 % not reached: round 6 spent after one measurement (78/159 = 49.1 %); session 4's batches "
            "measured once before training (61.9 %, 78.6 %, 72.4 %), session 6's (73.1 %, 76.7 %), session 7's "
            "(130/151 = 86.1 %; nl/de/fr/it 8/19), session 8's (78/101 = 77.2 %; nl/de/fr/it 21/34), session 9's "
            "(23/30 = 76.7 %; nl/de/fr/it 4/5); no fresh round written because every estimate is under 95 %: "
            "session 9, replay of every fresh measurement 76.0 % (1188 replies), grouped CV model 73.9 %, upper bound "
            "93.2 % (seed languages 86.0 %) (README)")


def test_corpus_is_large_and_multilingual() -> None:
    assert len(CORPUS) >= 200
    assert {c["lang"] for c in CORPUS} >= {"en", "nl", "de", "it", "fr"}


@pytest.mark.xfail(strict=True, reason=NO_ROUND)
def test_corpus_keeps_a_fifth_held_out() -> None:
    held = [c for c in CORPUS if c["split"] == "holdout"]
    assert len(held) >= len(CORPUS) / 5


@pytest.mark.parametrize("split", [
    "train",
    pytest.param("holdout", marks=pytest.mark.xfail(strict=True, reason=NO_ROUND)),
])
def test_explain_accuracy(split: str) -> None:
    cases = [c for c in CORPUS if c["split"] == split]
    assert cases, f"no {split} split"
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
