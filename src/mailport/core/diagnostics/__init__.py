"""Diagnostics: stable codes for every way talking to a mail server fails, and the classifier
that maps evidence (replies, OAuth errors, exceptions) to them.

Pure: no I/O. The texts are English msgids; :mod:`mailport.diagnosis_text` translates them.
"""

from mailport.core.diagnostics.catalog import CODES, N_, VARIANTS, CodeInfo, Severity, Variant
from mailport.core.diagnostics.classifier import classify, classify_exception, classify_text
from mailport.core.diagnostics.evidence import Diagnosis, Evidence, scrub
from mailport.core.diagnostics.explanation import Explanation, describe
from mailport.core.diagnostics.provider_codes import PROVIDER_CODES, ProviderCode
from mailport.core.diagnostics.providers import provider_family, provider_variant
from mailport.core.diagnostics.remote_error import remote_error, remote_error_class

__all__ = [
    "CODES",
    "N_",
    "PROVIDER_CODES",
    "VARIANTS",
    "CodeInfo",
    "Diagnosis",
    "Evidence",
    "Explanation",
    "ProviderCode",
    "Severity",
    "Variant",
    "classify",
    "classify_exception",
    "classify_text",
    "describe",
    "provider_family",
    "provider_variant",
    "remote_error",
    "remote_error_class",
    "scrub",
]
