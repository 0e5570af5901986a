"""Provider-grouped cross-validation of ``mailport explain`` on the training corpus.

The replies of one provider (or one issue tracker, one client's translations …) are never in a
training fold and a test fold at once: a fold's test replies come from providers the learned model
has never seen, which is what a fresh round of real replies is like. The rules are hand-written
against the whole training corpus, so their score here is their *training* accuracy; only the
learned layer is really cross-validated (the README says what that means for the estimate).

    .venv/bin/python tests/corpus/diagnostics/crossval.py [--rounds] [--misses] [--original-labels]
        [--threshold=0.7] [--fraction=0.5]

``--original-labels``: the labels before session 4's relabelling (``relabelled_from``).
``--fraction``: train each fold's model on that share of its training replies only (chosen by a hash
of the text, so the same share every run): the learning curve (README "Session 6").
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from mailport.core.diagnostics import learned
from mailport.core.diagnostics.classifier import combine, rules_with_basis

HERE = Path(__file__).resolve().parent
K = 5

# Source words -> provider group (several sources quote the same provider's replies).
_GROUPS: list[tuple[str, str]] = [
    (r"google|gmail|gsuite|workspace", "google"),
    (r"microsoft|outlook|exchange|office ?365|hotmail|live\.com|aka\.ms|msdn|windows", "microsoft"),
    (r"yahoo|aol", "yahoo"), (r"icloud|apple", "apple"), (r"zoho", "zoho"),
    (r"thunderbird|mozilla", "thunderbird"), (r"godaddy|secureserver", "godaddy"),
    (r"gmx|web\.de|1und1|1&1|ionos", "united-internet"), (r"t-online|telekom", "t-online"),
    (r"orange|wanadoo|la ?poste|laposte", "orange"), (r"libero|italiaonline", "libero"),
    (r"aruba", "aruba"), (r"kpn|xs4all|planet\.nl", "kpn"), (r"ziggo|upc", "ziggo"),
    (r"postfix", "postfix"), (r"exim", "exim"), (r"dovecot", "dovecot"), (r"sendmail", "sendmail"),
    (r"rackspace|emailsrvr", "rackspace"), (r"mimecast", "mimecast"), (r"trend ?micro", "trendmicro"),
    (r"sisimai", "sisimai"), (r"nodemailer", "nodemailer"), (r"phpmailer", "phpmailer"),
    (r"roundcube", "roundcube"), (r"mailkit|mimekit", "mailkit"), (r"strato", "strato"),
]


def group_of(source: str) -> str:
    low = source.lower()
    for pattern, group in _GROUPS:
        if re.search(pattern, low):
            return group
    first = re.sub(r"^https?://", "", low).split()[0] if low.split() else low
    host = first.split("/")[0].strip(":;,")
    parts = host.split(".")
    return parts[-2] if len(parts) >= 2 else host


def fold_of(group: str) -> int:
    return int(hashlib.sha256(group.encode()).hexdigest(), 16) % K


Case = dict[str, str | None]


def evaluate(cases: list[Case], train: list[Case], threshold: float) -> dict[str, list[tuple[Case, str]]]:
    """Per policy: (case, answer) for every case, the model trained on ``train`` only."""
    model = learned.train((str(c["text"]), str(c["code"])) for c in train)
    results: dict[str, list[tuple[Case, str]]] = {}
    for case in cases:
        text, email = str(case["text"]), case.get("email")
        diagnosis, basis = rules_with_basis(text, email=email)
        prediction = model.predict(text)
        for policy in ("rules", "model", "rules>model(unknown)", "rules>model(unknown,status)"):
            answer = combine(diagnosis, basis, prediction, text=text, email=email, policy=policy,
                             threshold=threshold).code
            results.setdefault(policy, []).append((case, answer))
    return results


def report(title: str, results: dict[str, list[tuple[Case, str]]]) -> None:
    print(title)
    for policy, pairs in results.items():
        right = sum(1 for case, got in pairs if got == case["code"])
        # The seed languages apart from English (session 9's brief: the weak spot is nl/de/fr/it).
        en = [got == case["code"] for case, got in pairs if case["lang"] == "en"]
        seed = [got == case["code"] for case, got in pairs if case["lang"] != "en"]
        print(f"  {policy:32s} {right}/{len(pairs)} = {right / len(pairs):.3f}"
              f"   (en {sum(en)}/{len(en)}, nl/de/fr/it {sum(seed)}/{len(seed)})")


def main(argv: list[str]) -> None:
    corpus: list[Case] = json.loads((HERE / "replies.json").read_text(encoding="utf-8"))
    if "--original-labels" in argv:
        for case in corpus:
            case["code"] = case.get("relabelled_from", case["code"])
    train = [c for c in corpus if c["split"] == "train"]
    groups = Counter(group_of(str(c["source"])) for c in train)
    print(f"{len(train)} training replies, {len(groups)} provider groups, {K} folds by group")
    threshold = float(next((a.split("=")[1] for a in argv if a.startswith("--threshold=")), "0"))
    fraction = float(next((a.split("=")[1] for a in argv if a.startswith("--fraction=")), "1"))
    merged: dict[str, list[tuple[Case, str]]] = {}
    for fold in range(K):
        test = [c for c in train if fold_of(group_of(str(c["source"]))) == fold]
        rest = [c for c in train if fold_of(group_of(str(c["source"]))) != fold
                and int(hashlib.sha256(str(c["text"]).encode()).hexdigest(), 16) % 1000 < fraction * 1000]
        for policy, pairs in evaluate(test, rest, threshold).items():
            merged.setdefault(policy, []).extend(pairs)
    report(f"grouped {K}-fold cross-validation (threshold {threshold}, fraction {fraction}):", merged)
    if "--misses" in argv:
        chosen = next((a.split("=")[1] for a in argv if a.startswith("--policy=")), "rules>model(unknown)")
        for case, got in merged[chosen]:
            if got != case["code"]:
                print(f"  miss [{group_of(str(case['source']))}] {got} != {case['code']}: {str(case['text'])[:100]!r}")
    if "--rounds" in argv:  # train on the rounds before, test on the next: how the rounds went
        key: Callable[[Case], int] = lambda c: next(
            (r for r in range(1, 7) if c.get(f"round{r}_holdout")), 0)
        for r in range(2, 7):
            before = [c for c in train if key(c) < r]
            then = [c for c in train if key(c) == r]
            if then:
                report(f"round {r} (model trained on the replies before it; rules are today's):",
                       evaluate(then, before, threshold))


if __name__ == "__main__":
    main(sys.argv[1:])
