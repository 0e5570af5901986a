"""``mailport serve``'s embedded worker runs as a child process that yields the CPU to the API."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dbfixtures import make_runtime
from mailport.runtime import WorkerChild


def test_the_worker_child_runs_at_a_lower_priority_than_the_api(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path, None)
    child = WorkerChild.start([sys.executable, "-c", "import sys; sys.stdin.read()"], runtime)
    try:
        mine = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, child.proc.pid) == min(19, mine + 5)
    finally:
        child.stop(10.0)
        runtime.close()
