"""Per-field accuracy of ``mailport bounce-parse --json`` on the bounce corpus, both splits.

The corpus (``tests/corpus/bounces``, built by its ``build.py`` from the mail systems' documented
formats; the truth in ``truth.json``) has a held-out fifth that was never looked at while tuning
the parser. Printed per split: detection (is it a bounce), recipients (the exact set), status
(RFC 3463, per recipient), hard/soft (per recipient), and precision and recall of ``hard`` —
precision matters most, since a wrong "hard" puts a customer on the suppression list.
Run with ``-s`` to see the table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailport.cli import app

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "bounces"
TRUTH: dict[str, dict[str, object]] = json.loads((CORPUS / "truth.json").read_text())
TARGETS = {"detected": 0.97, "status": 0.95, "hard_soft": 0.90, "hard_precision": 0.97}


@dataclass
class Score:
    samples: int = 0
    detected: int = 0
    bounces: int = 0
    recipients_right: int = 0
    rows: int = 0
    status_right: int = 0
    hard_right: int = 0
    hard_true_pos: int = 0
    hard_said: int = 0
    hard_truth: int = 0
    misses: list[str] = field(default_factory=list)

    def ratio(self, name: str) -> float:
        num, den = {
            "detected": (self.detected, self.samples),
            "recipient": (self.recipients_right, self.bounces),
            "status": (self.status_right, self.rows),
            "hard_soft": (self.hard_right, self.rows),
            "hard_precision": (self.hard_true_pos, self.hard_said),
            "hard_recall": (self.hard_true_pos, self.hard_truth),
        }[name]
        return num / den if den else 1.0


def _parse(path: Path) -> dict[str, object]:
    result = CliRunner().invoke(app, ["bounce-parse", str(path), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _score(split: str) -> Score:
    score = Score()
    for name, truth in sorted(TRUTH.items()):
        if truth["split"] != split:
            continue
        got = _parse(CORPUS / "samples" / name)
        score.samples += 1
        is_bounce = truth["kind"] == "bounce"
        if got["is_bounce"] == is_bounce:
            score.detected += 1
        else:
            score.misses.append(f"{name}: detected {got['is_bounce']}")
        expected = {str(r["recipient"]).lower(): r for r in truth["recipients"]}  # type: ignore[union-attr]
        parsed = {str(r["recipient"]).lower(): r for r in got["recipients"]}  # type: ignore[union-attr]
        if is_bounce:
            score.bounces += 1
            if set(expected) == set(parsed):
                score.recipients_right += 1
            else:
                score.misses.append(f"{name}: recipients {sorted(parsed)}")
        for address, row in parsed.items():
            if row["hard"]:
                score.hard_said += 1
                if address in expected and expected[address]["hard"]:
                    score.hard_true_pos += 1
        for address, want in expected.items():
            score.rows += 1
            score.hard_truth += bool(want["hard"])
            have = parsed.get(address)
            if have is None:
                continue
            if have["status"] == want["status"]:
                score.status_right += 1
            else:
                score.misses.append(f"{name}: status {have['status']} != {want['status']}")
            if have["hard"] == want["hard"]:
                score.hard_right += 1
            else:
                score.misses.append(f"{name}: hard {have['hard']} != {want['hard']}")
    return score


@pytest.mark.parametrize("split", ["train", "holdout"])
def test_bounce_parse_accuracy(split: str) -> None:
    score = _score(split)
    names = ["detected", "recipient", "status", "hard_soft", "hard_precision", "hard_recall"]
    print(f"\nbounce-parse --json on the {split} split ({score.samples} samples, {score.bounces} bounces, "
          f"{score.rows} failed recipients)")
    for name in names:
        print(f"  {name:15s} {score.ratio(name):.3f}")
    for miss in score.misses:
        print(f"  miss: {miss}")
    assert score.samples >= (240 if split == "train" else 60)
    for name, target in TARGETS.items():
        assert score.ratio(name) >= target, (name, score.ratio(name), score.misses)
