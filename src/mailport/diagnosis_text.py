"""Diagnoses in the user's language: :func:`explain` joins the pure catalog in
:mod:`mailport.core.diagnostics` with the ``diagnostics`` gettext domain of :mod:`mailport.i18n`.

This is what the API (``POST /v1/diagnostics/explain``), the CLI (``mailport explain``) and the
UI call; services keep the :class:`~mailport.core.diagnostics.Diagnosis` and explain it only
when showing it.
"""

from __future__ import annotations

from mailport.core.diagnostics import (
    CODES,
    Diagnosis,
    Explanation,
    classify_text,
    describe,
    provider_variant,
)
from mailport.i18n import DIAGNOSTICS_DOMAIN, normalize, translations

__all__ = ["Explanation", "explain", "explain_code", "explain_text"]


def explain(diagnosis: Diagnosis, lang: str) -> Explanation:
    """Title and steps of ``diagnosis`` in ``lang`` (unsupported languages get English)."""
    catalog = translations(normalize(lang) or "en", DIAGNOSTICS_DOMAIN)
    return describe(diagnosis, translate=catalog.gettext)


def explain_text(
    text: str, *, lang: str, email: str | None = None, provider: str | None = None, host: str | None = None
) -> Explanation:
    """Classify free text (a pasted server reply or error) and explain it: ``mailport explain``.
    A person reads the answer, so the learned layer helps where the rules know nothing. The
    account's address, provider id or server host, where given, select that provider's documented
    meaning of the reply first and its own steps."""
    return explain(classify_text(text, email=email, provider=provider, host=host, learned_layer=True), lang)


def explain_code(
    code: str, lang: str, *, server_text: str | None = None, email: str | None = None,
    provider: str | None = None,
) -> Explanation | None:
    """Explain a stored diagnosis code (a verification stage, a failed send), or ``None`` for a
    code the catalog does not know (internal codes such as ``request.*``)."""
    info = CODES.get(code)
    if info is None:
        return None
    diagnosis = Diagnosis(
        code=code, severity=info.severity, retryable=info.retryable,
        provider=provider_variant(email=email, provider=provider), server_text=server_text,
    )
    return explain(diagnosis, lang)
