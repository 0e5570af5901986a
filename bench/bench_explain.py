"""Diagnosis benchmark, against a baseline measured in the same run.

- ``explain_ms_per_reply``: ``classify_text`` with the learned layer (what ``mailport explain``
  and every failed send run) over the whole labelled corpus of real server replies
  (``tests/corpus/diagnostics/replies.json``), ms per reply, best of ``--runs``. Baseline: the
  rules alone on the same replies. The target is < 5 ms per reply on this 2-core box (a failed
  send is explained on the worker's loop); it was a timed unit test until session 6, which a
  loaded machine could fail (5.03 ms at load 7.5, 1.4–2.6 ms alone).

Prints ``BENCH <name> <value> <unit> baseline <value> <unit> ratio <r>``.
Run: ``.venv/bin/python bench/bench_explain.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src")]

from mailport.core.diagnostics import classify_text, learned

CORPUS = ROOT / "tests" / "corpus" / "diagnostics" / "replies.json"


def ms_per_reply(texts: list[str], *, learned_layer: bool, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        for text in texts:
            classify_text(text, learned_layer=learned_layer)
        best = min(best, (time.process_time() - started) / len(texts) * 1000)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    texts = [c["text"] for c in json.loads(CORPUS.read_text(encoding="utf-8"))]
    learned.shipped_model()  # read once per process, as a worker does
    rules = ms_per_reply(texts, learned_layer=False, runs=args.runs)
    both = ms_per_reply(texts, learned_layer=True, runs=args.runs)
    print(f"# {len(texts)} replies; target < 5 ms per reply with the learned layer", flush=True)
    print(f"BENCH explain_ms_per_reply {both:.2f} ms baseline {rules:.2f} ms ratio {both / rules:.2f}", flush=True)


if __name__ == "__main__":
    main()
