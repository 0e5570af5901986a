"""Run every benchmark (``bench/bench_*.py``) in turn; each prints its own ``BENCH`` lines.

A benchmark compares against a baseline measured in the same run, so the ratio means something on a
noisy shared machine; absolute numbers are only for reading. ``python bench/run.py discovery send``
runs only the benchmarks whose file name contains one of the words; ``BENCH=name[,name]`` (also
``make bench BENCH=…``) runs only the benchmarks of those names, in whichever file holds them;
arguments after ``--`` go to each script (``python bench/run.py imap -- --only idle,latency``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    extra: list[str] = []
    if "--" in argv:
        argv, extra = argv[:argv.index("--")], argv[argv.index("--") + 1:]
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        scripts = [s for s in scripts if any(word in s.stem for word in argv)]
    wanted = [w for w in os.environ.get("BENCH", "").replace(" ", ",").split(",") if w]
    if wanted:
        scripts = [s for s in scripts if any(w in s.read_text() for w in wanted)]
    failed = []
    for script in scripts:
        print(f"# {script.name}", flush=True)
        started = time.monotonic()
        result = subprocess.run([sys.executable, str(script), *extra], check=False, cwd=HERE.parent)
        print(f"# {script.name}: {'ok' if result.returncode == 0 else 'FAILED'} "
              f"in {time.monotonic() - started:.1f} s", flush=True)
        if result.returncode != 0:
            failed.append(script.name)
    if failed:
        print(f"# failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
