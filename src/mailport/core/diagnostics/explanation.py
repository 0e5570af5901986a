"""A diagnosis put into words: title and steps in the user's language.

:func:`describe` takes the translate function as an argument so that core never loads catalogs;
:func:`mailport.diagnosis_text.explain` passes the one for the user's language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mailport.core.diagnostics.catalog import CODES
from mailport.core.diagnostics.evidence import Diagnosis

__all__ = ["Explanation", "describe"]


@dataclass(frozen=True, slots=True)
class Explanation:
    """What the API, the CLI and the UI show for a diagnosis."""

    code: str
    title: str
    steps: tuple[str, ...]
    provider: str | None
    retryable: bool
    server_text: str | None

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape shared by ``POST /v1/diagnostics/explain`` and ``explain --json``."""
        return {
            "code": self.code,
            "title": self.title,
            "steps": list(self.steps),
            "provider": self.provider,
            "retryable": self.retryable,
            "server_text": self.server_text,
        }


def describe(diagnosis: Diagnosis, *, translate: Callable[[str], str]) -> Explanation:
    """Title and steps for ``diagnosis`` (its provider variant if it has one), translated."""
    info = CODES.get(diagnosis.code, CODES["unknown"])
    advice = info.advice(diagnosis.provider)
    return Explanation(
        code=info.code,
        title=translate(advice.title or info.title),
        steps=tuple(translate(step) for step in advice.steps),
        provider=diagnosis.provider,
        retryable=diagnosis.retryable,
        server_text=diagnosis.server_text,
    )
