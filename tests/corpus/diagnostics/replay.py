"""Replay the held-out rounds as they happened, with the learned layer added.

For round r (4, 5, 6, and 7, 8 and 9 for session 4's three batches, 10 and 11 for session 6's two, 12 for
session 7's batch, 13 for session 8's, 14 for session 9's, which were measured like rounds but are no held-out
rounds: README "Session 4", "Session 6", "Session 7", "Session 8", "Session 9"): the rules exactly as they were
when round r's labels were committed (before any rule had seen it; ``git archive`` of that commit), and the learned
model trained only on the replies of the rounds before r. The
rules' answer stands unless it is ``unknown``; then the model answers if its (tempered) posterior reaches the shipped
threshold. This is the honest estimate of "rules + model" on replies from providers neither has seen.

    .venv/bin/python tests/corpus/diagnostics/replay.py [--threshold=0.7] [--original-labels] [--misses]
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

from mailport.core.diagnostics import classifier, learned
from mailport.core.diagnostics.classifier import THRESHOLD

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
# round -> the commit that added its labels (README's table)
ROUNDS = {4: "8baecdc", 5: "0913391", 6: "7d7998d", 7: "42c455d", 8: "a524aaf", 9: "a13de57", 10: "479c71b",
          11: "151a64f", 12: "daad3f5", 13: "e1c117d", 14: "b390bcb"}
OLD_RULES = (
    "import json, sys\nfrom mailport.core.diagnostics import classify_text\n"
    "cases = json.load(sys.stdin)\n"
    "print(json.dumps([classify_text(c['text'], email=c.get('email')).code for c in cases]))\n"
)


def round_of(case: dict[str, object]) -> int:
    if case.get("session9"):
        return 14
    if case.get("session8"):
        return 13
    if case.get("session7"):
        return 12
    if case.get("session6b"):
        return 11
    if case.get("session6"):
        return 10
    if case.get("session4c"):
        return 9
    if case.get("session4b"):
        return 8
    if case.get("session4"):
        return 7
    return next((r for r in range(1, 7) if case.get(f"round{r}_holdout")), 0)


def status_only(text: str) -> str | None:
    """What the generic reading of the reply's codes alone gives (today's status tables): a rule's
    answer equal to it is treated as status-only. An approximation for the historical rules, which
    do not say what an answer rests on (rounds 4-6 predate ``rules_with_basis``)."""
    return classifier._by_enhanced_or_basic(classifier._flatten(text), classifier._smtp_code(text))


def registry_fallback(text: str) -> str | None:
    """Only the status codes added in session 5 from the RFCs (RFC 3463, 5248, 7293, 7372): the
    historical rules could not have read them, and no round was looked at to write them."""
    match = classifier._ENHANCED_RE.search(classifier._flatten(text))
    if match is None:
        return None
    klass, key = match.group(1), f"{match.group(2)}.{match.group(3)}"
    if key in SESSION5_ANY:
        return classifier._ENHANCED[key]
    if klass == "5" and key in SESSION5_PERMANENT:
        return classifier._ENHANCED_PERMANENT[key]
    if klass == "4" and key in classifier._ENHANCED_TRANSIENT:
        return classifier._ENHANCED_TRANSIENT[key]
    return None


SESSION5_ANY = ("1.3", "7.10", "7.20", "7.21", "7.22", "7.23", "7.24", "7.26")
SESSION5_PERMANENT = ("4.7", "7.17", "7.18")


def answers(rules: str, prediction: learned.Prediction, text: str, threshold: float) -> tuple[str, str]:
    """(rules then model where they say unknown; the shipped policy): the model also where the rules
    only read a generic status (unless the model says unknown), then session 5's registry codes."""
    sure = prediction.probability >= threshold
    old = prediction.code if rules == "unknown" and sure else rules
    status = rules != "unknown" and rules == status_only(text) and prediction.code != "unknown"
    new = prediction.code if sure and (rules == "unknown" or status) else rules
    if new == "unknown" and rules == "unknown":
        new = registry_fallback(text) or "unknown"
    return old, new


def main(argv: list[str]) -> None:
    threshold = float(next((a.split("=")[1] for a in argv if a.startswith("--threshold=")), THRESHOLD))
    totals = [0, 0, 0, 0]
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
        right = [0, 0, 0]
        for case, answer in zip(cases, rules, strict=True):
            old, new = answers(answer, model.predict(case["text"]), case["text"], threshold)
            for i, got in enumerate((answer, old, new)):
                right[i] += got == case["code"]
            if "--misses" in argv and new != case["code"]:
                print(f"  miss r{number} {new} != {case['code']}: {case['text'][:100]!r}")
        n = len(cases)
        print(f"round {number} ({n} replies, rules of {commit}, model on {len(before)} earlier replies): "
              f"rules {right[0]}/{n} = {right[0] / n:.3f}, rules then model {right[1]}/{n} = "
              f"{right[1] / n:.3f}, shipped policy {right[2]}/{n} = {right[2] / n:.3f}")
        totals = [totals[0] + n, *(t + r for t, r in zip(totals[1:], right, strict=True))]
    n = totals[0]
    print(f"all ({n}, threshold {threshold}): rules {totals[1]}/{n} = {totals[1] / n:.3f}, "
          f"rules then model {totals[2]}/{n} = {totals[2] / n:.3f}, "
          f"shipped policy {totals[3]}/{n} = {totals[3] / n:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
