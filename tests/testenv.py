"""Where the tests run: one definition of "in CI" and of "this part of the lab is missing".

On a developer's machine a missing lab part (Chromium, PostgreSQL, the ISPDB test data) skips
the tests that need it; in CI (``CI`` set to a true value) it fails them, because CI must run
everything.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

__all__ = ["in_ci", "unavailable"]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def unavailable(reason: str) -> NoReturn:
    """Skip with ``reason`` — or fail when running in CI, where every part must be present."""
    if in_ci():
        pytest.fail(f"CI: {reason}", pytrace=False)
    pytest.skip(reason)
