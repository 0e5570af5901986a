"""Generate ``mailport/client/_sync_client.py`` from ``_async_client.py`` (the httpcore approach).

    python scripts/unasync_client.py           # write the sync client
    python scripts/unasync_client.py --check   # exit 1 if it is out of date
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

CLIENT = Path(__file__).resolve().parent.parent / "src" / "mailport" / "client"
SOURCE = CLIENT / "_async_client.py"
TARGET = CLIENT / "_sync_client.py"

# Order matters: the specific spellings before the generic ``Async*`` class-name rule.
SUBSTITUTIONS: list[tuple[str, str]] = [
    (
        (r'"""The asynchronous client — the source the synchronous one is generated from\.\n\nEdit this file,'
        r' then run ``python scripts/unasync_client\.py`` to regenerate ``_sync_client\.py``\n'
        r'\(a test fails when the two drift apart\)\.\n"""'),
        ('"""The synchronous client — GENERATED from ``_async_client.py`` by scripts/unasync_client.py.\n\n'
        'Do not edit: change the async client and regenerate.\n"""'),
    ),
    (r"import asyncio\nimport builtins\n", "import builtins\nimport time\n"),
    # An async generator cannot ``yield from``; the sync one should.
    (r"for (\w+) in page:\n(\s+)yield \1\n", r"yield from page\n"),
    (r"\basyncio\.sleep\b", "time.sleep"),
    (r"\basync def\b", "def"),
    (r"\basync with\b", "with"),
    (r"\basync for\b", "for"),
    (r"\bawait ", ""),
    (r"\b__aenter__\b", "__enter__"),
    (r"\b__aexit__\b", "__exit__"),
    (r"\baclose\b", "close"),
    (r"\bAsync([A-Z]\w*)", r"\1"),
]


def render(source: str) -> str:
    for pattern, replacement in SUBSTITUTIONS:
        source = re.sub(pattern, replacement, source)
    return source


def main(argv: list[str]) -> int:
    expected = render(SOURCE.read_text(encoding="utf-8"))
    if "--check" in argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != expected:
            print(f"{TARGET} is out of date: run python scripts/unasync_client.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(expected, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
