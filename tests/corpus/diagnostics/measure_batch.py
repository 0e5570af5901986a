"""Measure ``mailport explain`` once on a batch of replies before it is used for training.

    .venv/bin/python tests/corpus/diagnostics/measure_batch.py session4 [--misses]

Runs every reply flagged ``<batch>: true`` in ``replies.json`` through ``mailport explain --json``
(the rules and the learned model as shipped, i.e. trained without the batch) and prints the
accuracy, with the rules-alone figure beside it. Meant to be run once per batch, right after its
labels are committed and before anything is tuned on it: that first figure is an honest estimate
of ``explain`` on replies from sources it has not seen (README.md).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from mailport.cli import app
from mailport.core.diagnostics.classifier import rules_with_basis

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> None:
    batch = argv[0]
    cases = [c for c in json.loads((HERE / "replies.json").read_text(encoding="utf-8")) if c.get(batch)]
    right = rules_right = 0
    misses: list[str] = []
    by_lang: Counter[str] = Counter()
    lang_right: Counter[str] = Counter()
    for case in cases:
        args = ["explain", "--json"] + (["--email", str(case["email"])] if case.get("email") else [])
        result = CliRunner().invoke(app, args, input=str(case["text"]))
        got = str(json.loads(result.stdout)["code"])
        rules = rules_with_basis(str(case["text"]), email=case.get("email"))[0].code
        by_lang[str(case["lang"])] += 1
        if got == case["code"]:
            right += 1
            lang_right[str(case["lang"])] += 1
        else:
            misses.append(f"  miss {got} != {case['code']}: {str(case['text'])[:100]!r}")
        rules_right += rules == case["code"]
    n = len(cases)
    print(f"{batch}: {n} replies; explain (rules + model) {right}/{n} = {right / n:.3f}; "
          f"rules alone {rules_right}/{n} = {rules_right / n:.3f}")
    print("  per language: " + ", ".join(f"{k} {lang_right[k]}/{v}" for k, v in sorted(by_lang.items())))
    if "--misses" in argv:
        print("\n".join(misses))


if __name__ == "__main__":
    main(sys.argv[1:])
