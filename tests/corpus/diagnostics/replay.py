"""Replay the held-out rounds as they happened, with the learned layer added.

For round r (4, 5, 6, and 7, 8 and 9 for session 4's three batches, which were measured like rounds
but are no held-out rounds: README "Session 4"): the rules exactly as they were when round r's
labels were committed (before any rule had seen it; ``git archive`` of that commit), and the learned
model trained only on the replies of the rounds before r. The rules' answer stands unless it is
``unknown``; then the model answers if its (tempered) posterior reaches the shipped threshold. This
is the honest estimate of "rules + model" on replies from providers neither has seen.

    .venv/bin/python tests/corpus/diagnostics/replay.py [--threshold=0.7] [--original-labels]
    (needs git; writes only under /tmp)

``--original-labels`` scores (and trains the model) on the labels before session 4's relabelling
(``relabelled_from``, README "Combined diagnoses"): the figure comparable with earlier replays.

The features are today's (``learned.features``): the replay tells whether a change to them helps on
replies neither layer had seen.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from mailport.core.diagnostics import learned
from mailport.core.diagnostics.classifier import THRESHOLD

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
# round -> the commit that added its labels (README's table)
ROUNDS = {4: "8baecdc", 5: "0913391", 6: "7d7998d", 7: "42c455d", 8: "a524aaf", 9: "a13de57"}
OLD_RULES = (
    "import json, sys\nfrom mailport.core.diagnostics import classify_text\n"
    "cases = json.load(sys.stdin)\n"
    "print(json.dumps([classify_text(c['text'], email=c.get('email')).code for c in cases]))\n"
)


def round_of(case: dict[str, object]) -> int:
    if case.get("session4c"):
        return 9
    if case.get("session4b"):
        return 8
    if case.get("session4"):
        return 7
    return next((r for r in range(1, 7) if case.get(f"round{r}_holdout")), 0)


def main(argv: list[str]) -> None:
    threshold = float(next((a.split("=")[1] for a in argv if a.startswith("--threshold=")), THRESHOLD))
    totals = [0, 0, 0]
    corpus = json.loads((HERE / "replies.json").read_text(encoding="utf-8"))
    if "--original-labels" in argv:
        for case in corpus:
            case["code"] = case.get("relabelled_from", case["code"])
    for number, commit in ROUNDS.items():
        cases = [c for c in corpus if round_of(c) == number]
        before = [c for c in corpus if round_of(c) < number]
        with tempfile.TemporaryDirectory() as tmp:
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "src"], check=True,
                                     capture_output=True)
            subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
            done = subprocess.run([sys.executable, "-c", OLD_RULES], input=json.dumps(cases), text=True,
                                  capture_output=True, check=True, env={"PYTHONPATH": f"{tmp}/src",
                                                                        "PATH": "/usr/bin:/bin"})
        rules = json.loads(done.stdout)
        model = learned.train((c["text"], c["code"]) for c in before)
        combined = []
        for case, answer in zip(cases, rules, strict=True):
            prediction = model.predict(case["text"])
            use = answer == "unknown" and prediction.probability >= threshold
            combined.append(prediction.code if use else answer)
        right_rules = sum(a == c["code"] for a, c in zip(rules, cases, strict=True))
        right_both = sum(a == c["code"] for a, c in zip(combined, cases, strict=True))
        n = len(cases)
        print(f"round {number} ({n} replies, rules of {commit}, model on {len(before)} earlier replies): "
              f"rules {right_rules}/{n} = {right_rules / n:.3f}, rules then model {right_both}/{n} = "
              f"{right_both / n:.3f}")
        totals = [totals[0] + n, totals[1] + right_rules, totals[2] + right_both]
    n, right_rules, right_both = totals
    print(f"all ({n}, threshold {threshold}): rules {right_rules}/{n} = {right_rules / n:.3f}, "
          f"rules then model {right_both}/{n} = {right_both / n:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
