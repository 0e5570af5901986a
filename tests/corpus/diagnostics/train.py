"""Write ``src/mailport/core/diagnostics/learned_model.json``: the learned layer of ``mailport
explain``, trained on the training split of ``replies.json`` (never on the held-out split).

    .venv/bin/python tests/corpus/diagnostics/train.py

Deterministic: the same corpus always gives the same file; ``tests/unit/test_explain_learned.py``
fails when the shipped model is not the one this script builds from the corpus.
"""

from __future__ import annotations

import json
from pathlib import Path

from mailport.core.diagnostics import learned

HERE = Path(__file__).resolve().parent
TARGET = HERE.parents[2] / "src" / "mailport" / "core" / "diagnostics" / "learned_model.json"


def build() -> str:
    corpus = json.loads((HERE / "replies.json").read_text(encoding="utf-8"))
    return learned.train((c["text"], c["code"]) for c in corpus if c["split"] == "train").to_json()


if __name__ == "__main__":
    TARGET.write_text(build(), encoding="utf-8")
    print(f"{TARGET}: {TARGET.stat().st_size} bytes")
