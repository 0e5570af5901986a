"""An own sending domain's DNS: the records to publish, and verdicts on what DNS answered.

Pure: the DNS answers come in as plain values (looked up by :mod:`mailport.adapters.dns`), the
verdicts go out as values with a stable ``code``; texts are English msgids marked with
:func:`N_` and translated outside ``core`` (``mailport`` gettext domain).

The three required records (GUIDE §3 "Own domain")::

    <selector>._domainkey.<domain>  TXT    "v=DKIM1; k=rsa; p=<SPKI base64>"   (≤255-char strings)
    <prefix>.<domain>               CNAME  <platform bounce host>              (return path)
    _dmarc.<domain>                 TXT    "v=DMARC1; p=none"                  (any valid record)

plus the informational apex SPF check (one ``v=spf1`` record, at most 10 DNS-querying terms
counted recursively through ``include``/``redirect``, at most 2 void lookups — RFC 7208 §4.6.4).
DKIM compares the *parsed* ``p=`` key, never the string: providers re-split, re-quote and
re-order tags, and all of that is fine.

SPF works in rounds because ``core`` cannot ask DNS itself: :func:`spf_queries` says which
``(rtype, name)`` answers it still needs to follow the tree, the adapter fetches them, and once it
returns nothing new :func:`evaluate_spf` counts.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Final, Literal

import idna
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_der_public_key

from mailport.errors import ValidationError

__all__ = [
    "DEFAULT_SPF",
    "MAX_SPF_LOOKUPS",
    "MAX_SPF_VOID_LOOKUPS",
    "MAX_TXT_STRING",
    "N_",
    "TEXTS",
    "Answer",
    "DomainAnswers",
    "LookupFailed",
    "RecordKind",
    "RecordVerdict",
    "RequiredRecord",
    "SpfAnswers",
    "Status",
    "dkim_record_value",
    "evaluate",
    "evaluate_dkim",
    "evaluate_dmarc",
    "evaluate_return_path",
    "evaluate_spf",
    "merge_spf",
    "normalize_domain",
    "required_records",
    "spf_queries",
    "split_txt",
    "zone_line",
]

MAX_TXT_STRING: Final = 255
MAX_SPF_LOOKUPS: Final = 10
MAX_SPF_VOID_LOOKUPS: Final = 2
_MAX_SPF_FETCHES: Final = 40  # a hostile tree must not keep the adapter busy forever


def N_(message: str) -> str:
    """Mark ``message`` for extraction (``mailport`` domain) without translating it here."""
    return message


class RecordKind(StrEnum):
    DKIM = "dkim"
    RETURN_PATH = "return_path"
    DMARC = "dmarc"
    SPF = "spf"


class Status(StrEnum):
    """``pass``: as required; ``fail``: the user must change DNS; ``unknown``: DNS did not
    answer (a timeout or SERVFAIL says nothing about the record — never degrade on it)."""

    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class LookupFailed:
    """A lookup that got no usable answer (timeout, SERVFAIL …); ``code`` is the diagnosis."""

    code: str = "net.dns_failure"


Answer = tuple[str, ...] | LookupFailed
"""What one lookup gave: the records (TXT strings joined per record, or CNAME target), ``()``
for NXDOMAIN/NODATA, or :class:`LookupFailed`."""


# --------------------------------------------------------------------------- records to publish


@dataclass(frozen=True, slots=True, kw_only=True)
class RequiredRecord:
    """One record the user publishes; ``strings`` is a TXT value cut into ≤255-char strings."""

    kind: RecordKind
    type: Literal["TXT", "CNAME"]
    name: str
    value: str
    required: bool = True
    replaces: str | None = None
    """The record already published that ``value`` replaces (an SPF record merged with ours)."""

    @property
    def strings(self) -> tuple[str, ...]:
        return split_txt(self.value) if self.type == "TXT" else (self.value,)

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "type": self.type,
            "name": self.name,
            "value": self.value,
            "strings": list(self.strings),
            "zone_line": zone_line(self),
            "required": self.required,
            "replaces": self.replaces,
        }


_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_SELECTOR = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def normalize_domain(value: str, *, field_name: str = "domain") -> str:
    """A domain in lower-case ASCII (IDNA 2008 A-labels), or :class:`ValidationError`.

    Refuses what cannot be a sending domain: IP literals, single labels, bad labels.
    """
    if not isinstance(value, str):
        raise ValidationError(f"{field_name} must be a string", field=field_name)
    text = value.strip().rstrip(".").lower()
    if not text or any(ch.isspace() or ord(ch) < 32 for ch in text) or "@" in text:
        raise ValidationError(f"{field_name} is not a domain name", field=field_name)
    try:
        ascii_name = idna.encode(text, uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError) as exc:
        raise ValidationError(f"{field_name} is not a valid domain name", field=field_name) from exc
    labels = ascii_name.split(".")
    if len(labels) < 2 or len(ascii_name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValidationError(f"{field_name} is not a valid domain name", field=field_name)
    if labels[-1].isdigit():
        raise ValidationError(f"{field_name} must be a domain name, not an address", field=field_name)
    return ascii_name


def split_txt(value: str, limit: int = MAX_TXT_STRING) -> tuple[str, ...]:
    """``value`` cut into character-strings of at most ``limit`` bytes (a TXT string's maximum).

    DNS joins the strings of one record without a separator, so the cut may fall anywhere.
    """
    data = value.encode("ascii")
    if not data:
        return ("",)
    return tuple(data[i : i + limit].decode("ascii") for i in range(0, len(data), limit))


def dkim_record_value(public_key_der_b64: str) -> str:
    """The DKIM TXT value for an RSA key (``p=`` is the SubjectPublicKeyInfo in base64)."""
    key = "".join(public_key_der_b64.split())
    if not key or _decode_b64(key) is None:
        raise ValidationError("the DKIM public key is not base64", field="public_key")
    return f"v=DKIM1; k=rsa; p={key}"


DEFAULT_SPF: Final = "v=spf1 mx -all"
_SPF_ALL = re.compile(r"^[+?~-]?all$", re.IGNORECASE)


def merge_spf(existing: str | None, mechanism: str = "mx") -> str:
    """The SPF record to publish given the one the domain has: ``existing`` with ``mechanism``
    added in front of its ``all`` (or ``redirect=``), keeping every sender it already allows and
    its own ``all`` qualifier. Without a record: :data:`DEFAULT_SPF`. A domain may have only one
    SPF record, so a second ``v=spf1 …`` beside the existing one would break both."""
    if not existing or not existing.strip().lower().startswith("v=spf1"):
        return DEFAULT_SPF
    terms = existing.split()
    if any(t.lower().lstrip("+") == mechanism for t in terms[1:]):
        return " ".join(terms)
    at = next((i for i, t in enumerate(terms) if i and (_SPF_ALL.match(t) or t.lower().startswith("redirect="))),
              len(terms))
    return " ".join([*terms[:at], mechanism, *terms[at:]])


def required_records(
    *,
    domain: str,
    selector: str,
    public_key_der_b64: str,
    return_path_prefix: str,
    bounce_host: str,
    dmarc_value: str = "v=DMARC1; p=none",
    existing_spf: str | None = None,
) -> tuple[RequiredRecord, ...]:
    """The three records to publish for ``domain`` (+ the informational SPF, ``required=False``).

    The SPF suggestion is :func:`merge_spf` of ``existing_spf`` (the domain's record, as the last
    check found it): never a second record beside it. Mail from the platform is SPF-aligned
    through the return-path CNAME, not through the apex record.
    """
    spf_value = merge_spf(existing_spf)
    domain = normalize_domain(domain)
    if not _SELECTOR.match(selector):
        raise ValidationError("the DKIM selector must be letters, digits and dashes", field="selector")
    if not _LABEL.match(return_path_prefix):
        raise ValidationError("the return-path prefix must be one DNS label", field="return_path_prefix")
    target = normalize_domain(bounce_host, field_name="bounce_host")
    return (
        RequiredRecord(
            kind=RecordKind.DKIM, type="TXT", name=f"{selector}._domainkey.{domain}",
            value=dkim_record_value(public_key_der_b64),
        ),
        RequiredRecord(
            kind=RecordKind.RETURN_PATH, type="CNAME", name=f"{return_path_prefix}.{domain}", value=target
        ),
        RequiredRecord(kind=RecordKind.DMARC, type="TXT", name=f"_dmarc.{domain}", value=dmarc_value),
        RequiredRecord(kind=RecordKind.SPF, type="TXT", name=domain, value=spf_value, required=False,
                       replaces=existing_spf if existing_spf and existing_spf != spf_value else None),
    )


def zone_line(record: RequiredRecord) -> str:
    """The record in BIND zone-file syntax, ready to paste (TXT strings quoted one by one)."""
    if record.type == "CNAME":
        return f"{record.name}. 3600 IN CNAME {record.value}."
    quoted = " ".join('"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"' for s in record.strings)
    return f"{record.name}. 3600 IN TXT {quoted}"


# --------------------------------------------------------------------------- verdicts


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordVerdict:
    """What DNS says about one record: ``status``, a stable ``code`` (see :data:`TEXTS`),
    what was found, and ``params`` for the texts (``{name}``, ``{expected}``, ``{count}`` …)."""

    kind: RecordKind
    name: str
    status: Status
    code: str
    required: bool = True
    found: tuple[str, ...] = ()
    params: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    @property
    def ok(self) -> bool:
        return self.status is Status.PASS

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "name": self.name,
            "status": self.status.value,
            "code": self.code,
            "required": self.required,
            "found": list(self.found),
            "params": dict(self.params),
        }


def _failed(kind: RecordKind, name: str, answer: LookupFailed, *, required: bool = True) -> RecordVerdict:
    return RecordVerdict(
        kind=kind, name=name, status=Status.UNKNOWN, code="dns.lookup_failed", required=required,
        params={"name": name, "reason": answer.code},
    )


def _tags(value: str) -> dict[str, str] | None:
    """A DKIM/DMARC tag-list (``a=b; c=d``) → dict; ``None`` if malformed or a tag repeats."""
    tags: dict[str, str] = {}
    for part in value.split(";"):
        if not part.strip():
            continue
        name, sep, tag_value = part.partition("=")
        name = name.strip()
        if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name) or name.lower() in tags:
            return None
        tags[name.lower()] = tag_value.strip()
    return tags


def _decode_b64(text: str) -> bytes | None:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def _public_numbers(der: bytes) -> tuple[int, int] | None:
    try:
        key = load_der_public_key(der)
    except (ValueError, TypeError):
        return None
    if not isinstance(key, RSAPublicKey):
        return None
    numbers = key.public_numbers()
    return numbers.n, numbers.e


def evaluate_dkim(record: RequiredRecord, answer: Answer) -> RecordVerdict:
    """Our key published at ``<selector>._domainkey``? Compares the key, not the text."""
    name = record.name
    if isinstance(answer, LookupFailed):
        return _failed(record.kind, name, answer)
    params = {"name": name}
    dkim = [txt for txt in answer if "p=" in txt.replace(" ", "") or txt.strip().lower().startswith("v=dkim1")]
    if not dkim:
        code = "dns.dkim_missing" if not answer else "dns.dkim_invalid"
        return RecordVerdict(kind=record.kind, name=name, status=Status.FAIL, code=code, found=answer, params=params)
    if len(dkim) > 1:
        return RecordVerdict(kind=record.kind, name=name, status=Status.FAIL, code="dns.dkim_multiple",
                             found=answer, params={**params, "count": str(len(dkim))})
    published = dkim[0]
    tags = _tags(published)
    if tags is None or "p" not in tags or tags.get("v", "DKIM1") != "DKIM1" or tags.get("k", "rsa").lower() != "rsa":
        return RecordVerdict(kind=record.kind, name=name, status=Status.FAIL, code="dns.dkim_invalid",
                             found=answer, params=params)
    expected_key = _decode_b64(_tags(record.value)["p"])  # type: ignore[index]  # ours is well-formed
    found_key = _decode_b64(tags["p"])
    if found_key is None or not found_key:
        code = "dns.dkim_wrong_key" if tags["p"] == "" else "dns.dkim_invalid"
        return RecordVerdict(kind=record.kind, name=name, status=Status.FAIL, code=code, found=answer, params=params)
    same = found_key == expected_key or (
        expected_key is not None
        and _public_numbers(found_key) is not None
        and _public_numbers(found_key) == _public_numbers(expected_key)
    )
    if not same:
        return RecordVerdict(kind=record.kind, name=name, status=Status.FAIL, code="dns.dkim_wrong_key",
                             found=answer, params=params)
    return RecordVerdict(kind=record.kind, name=name, status=Status.PASS, code="dns.record_found",
                         found=answer, params=params)


def evaluate_return_path(record: RequiredRecord, answer: Answer, *, domain: str) -> RecordVerdict:
    """The return-path CNAME pointing at the platform's bounce host?"""
    name = record.name
    if isinstance(answer, LookupFailed):
        return _failed(record.kind, name, answer)
    expected = record.value.lower().rstrip(".")
    params = {"name": name, "expected": expected}
    targets = tuple(t.lower().rstrip(".") for t in answer)
    if not targets:
        return RecordVerdict(kind=record.kind, name=name, status=Status.FAIL, code="dns.return_path_missing",
                             params=params)
    if targets[0] == expected:
        return RecordVerdict(kind=record.kind, name=name, status=Status.PASS, code="dns.record_found",
                             found=targets, params=params)
    # DNS panels append the zone to names not ending in a dot: "bounce.host.example.com".
    code = "dns.return_path_domain_appended" if targets[0] == f"{expected}.{domain}" else "dns.return_path_wrong_target"
    return RecordVerdict(kind=record.kind, name=name, status=Status.FAIL, code=code, found=targets,
                         params={**params, "found": targets[0]})


_DMARC_POLICIES = {"none", "quarantine", "reject"}


def _dmarc_valid(value: str) -> bool:
    tags = _tags(value)
    if tags is None or not value.lstrip().startswith("v=") or tags.get("v") != "DMARC1":
        return False
    policy = tags.get("p")
    if policy is None:
        # RFC 7489 §6.6.3: no p= but a rua= is treated as p=none.
        return "rua" in tags
    return policy.lower() in _DMARC_POLICIES and tags.get("sp", "none").lower() in _DMARC_POLICIES


def evaluate_dmarc(
    record: RequiredRecord, answer: Answer, *, organizational: Answer | None = None,
    organizational_name: str | None = None,
) -> RecordVerdict:
    """Any valid DMARC record at ``_dmarc.<domain>`` — or, for a subdomain, at the
    organizational domain's ``_dmarc`` (RFC 7489 §6.6.3 falls back to it)."""
    name = record.name
    if isinstance(answer, LookupFailed):
        return _failed(record.kind, name, answer)
    params = {"name": name, "expected": record.value}
    dmarc = tuple(t for t in answer if t.strip().lower().startswith("v=dmarc1"))
    if len(dmarc) > 1:
        return RecordVerdict(kind=record.kind, name=name, status=Status.FAIL, code="dns.dmarc_multiple",
                             found=dmarc, params={**params, "count": str(len(dmarc))})
    if dmarc:
        if _dmarc_valid(dmarc[0]):
            return RecordVerdict(kind=record.kind, name=name, status=Status.PASS, code="dns.record_found",
                                 found=dmarc, params=params)
        return RecordVerdict(kind=record.kind, name=name, status=Status.FAIL, code="dns.dmarc_invalid",
                             found=dmarc, params=params)
    if organizational is not None and organizational_name and not isinstance(organizational, LookupFailed):
        inherited = [t for t in organizational if t.strip().lower().startswith("v=dmarc1")]
        if len(inherited) == 1 and _dmarc_valid(inherited[0]):
            return RecordVerdict(kind=record.kind, name=name, status=Status.PASS, code="dns.dmarc_inherited",
                                 found=tuple(inherited), params={**params, "organizational": organizational_name})
    return RecordVerdict(kind=record.kind, name=name, status=Status.FAIL, code="dns.dmarc_missing", params=params)


# --------------------------------------------------------------------------- SPF

SpfAnswers = Mapping[tuple[str, str], Answer]
"""Fetched answers for SPF, keyed ``(rtype, name)``: ``("TXT", "_spf.example.com")`` …"""

_QUERYING = {"include", "a", "mx", "ptr", "exists"}
_NON_QUERYING = {"all", "ip4", "ip6"}
_MODIFIER = re.compile(r"^([A-Za-z][A-Za-z0-9_.-]*)=(.*)$")


def _spf_records(answer: Answer) -> list[str]:
    if isinstance(answer, LookupFailed):
        return []
    return [t for t in answer if t.lower() == "v=spf1" or t.lower().startswith("v=spf1 ")]


@dataclass(frozen=True, slots=True)
class _Term:
    kind: str  # include a mx ptr exists redirect
    target: str | None  # domain asked (None: a macro, cannot be followed)
    rtype: str  # what the lookup asks for


def _parse_spf(record: str, current: str) -> list[_Term] | None:
    """The DNS-querying terms of one SPF record; ``None`` when the record is malformed."""
    terms: list[_Term] = []
    for token in record.split()[1:]:
        modifier = _MODIFIER.match(token)
        if modifier and modifier.group(1).lower() not in _QUERYING | _NON_QUERYING:
            if modifier.group(1).lower() == "redirect":
                terms.append(_Term("redirect", _spf_target(modifier.group(2)), "TXT"))
            continue  # exp= and unknown modifiers do not query (exp only on failure)
        mechanism = token[1:] if token[:1] in "+-~?" else token
        cut = re.search(r"[:/]", mechanism)
        name = (mechanism[: cut.start()] if cut else mechanism).lower()
        sep = cut.group() if cut else ""
        argument = mechanism[cut.end():] if cut else ""
        if name in _NON_QUERYING:
            continue
        if name not in _QUERYING:
            return None
        if name in ("include", "exists") and sep != ":":
            return None
        domain = argument.split("/", 1)[0] if sep == ":" else current
        rtype = {"include": "TXT", "a": "A", "mx": "MX", "ptr": "PTR", "exists": "A"}[name]
        terms.append(_Term(name, _spf_target(domain), rtype))
    return terms


def _spf_target(domain: str) -> str | None:
    if "%" in domain or not domain:
        return None  # macros expand per message; they count but cannot be followed here
    try:
        return normalize_domain(domain)
    except ValidationError:
        return None


def spf_queries(domain: str, apex: Answer, fetched: SpfAnswers) -> list[tuple[str, str]]:
    """The ``(rtype, name)`` lookups still needed to count ``domain``'s SPF tree (none: done)."""
    wanted: list[tuple[str, str]] = []
    seen: set[str] = set()
    queue: list[tuple[str, Answer]] = [(domain, apex)]
    budget = _MAX_SPF_FETCHES - len(fetched)
    while queue and budget > len(wanted):
        current, answer = queue.pop(0)
        if current in seen:
            continue
        seen.add(current)
        records = _spf_records(answer)
        if len(records) != 1:
            continue
        terms = _parse_spf(records[0], current) or []
        for term in terms:
            if term.target is None or term.kind == "ptr":
                continue
            key = (term.rtype, term.target)
            if key in fetched:
                if term.kind in ("include", "redirect"):
                    queue.append((term.target, fetched[key]))
            elif key not in wanted:
                wanted.append(key)
    return wanted[: max(budget, 0)]


def evaluate_spf(domain: str, apex: Answer, fetched: SpfAnswers) -> RecordVerdict:
    """The informational apex SPF check: one record, ≤10 lookups, ≤2 void lookups, well-formed."""
    kind = RecordKind.SPF
    if isinstance(apex, LookupFailed):
        return _failed(kind, domain, apex, required=False)
    params: dict[str, str] = {"name": domain}
    records = _spf_records(apex)

    def verdict(status: Status, code: str, **extra: str) -> RecordVerdict:
        return RecordVerdict(kind=kind, name=domain, status=status, code=code, required=False,
                             found=tuple(records), params={**params, **extra})

    if not records:
        return verdict(Status.FAIL, "dns.spf_missing")
    if len(records) > 1:
        return verdict(Status.FAIL, "dns.spf_duplicate", count=str(len(records)))
    lookups = 0
    voids = 0
    invalid: str | None = None
    unknown = False
    stack: list[tuple[str, str, int]] = [(domain, records[0], 0)]
    while stack:
        current, record, depth = stack.pop()
        terms = _parse_spf(record, current)
        if terms is None:
            invalid = invalid or current
            continue
        for term in terms:
            lookups += 1
            if lookups > MAX_SPF_LOOKUPS * 3 or depth > 10:
                stack.clear()  # a loop or absurd tree: the count is already far too high
                break
            if term.target is None or term.kind == "ptr":
                continue
            answer = fetched.get((term.rtype, term.target))
            if answer is None:
                unknown = True
                continue
            if isinstance(answer, LookupFailed):
                unknown = True
                continue
            if not answer:
                voids += 1
            if term.kind in ("include", "redirect"):
                nested = _spf_records(answer)
                if len(nested) != 1:
                    invalid = invalid or term.target  # include of a domain without one SPF record
                    continue
                stack.append((term.target, nested[0], depth + 1))
    if invalid is not None:
        return verdict(Status.FAIL, "dns.spf_invalid", where=invalid)
    if lookups > MAX_SPF_LOOKUPS:
        return verdict(Status.FAIL, "dns.spf_too_many_lookups", count=str(lookups), limit=str(MAX_SPF_LOOKUPS))
    if voids > MAX_SPF_VOID_LOOKUPS:
        return verdict(Status.FAIL, "dns.spf_void_lookups", count=str(voids), limit=str(MAX_SPF_VOID_LOOKUPS))
    if unknown:
        return verdict(Status.UNKNOWN, "dns.lookup_failed", reason="net.dns_failure", count=str(lookups))
    return verdict(Status.PASS, "dns.record_found", count=str(lookups))


# --------------------------------------------------------------------------- all together


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainAnswers:
    """Everything looked up for one check of a domain."""

    dkim: Answer
    return_path: Answer
    dmarc: Answer
    apex_txt: Answer
    spf: SpfAnswers = field(default_factory=dict)
    organizational_dmarc: Answer | None = None
    organizational_domain: str | None = None


def evaluate(
    domain: str, records: Sequence[RequiredRecord], answers: DomainAnswers
) -> tuple[RecordVerdict, ...]:
    """One verdict per record of :func:`required_records`, in the same order."""
    by_kind = {r.kind: r for r in records}
    verdicts: list[RecordVerdict] = []
    for record in records:
        if record.kind is RecordKind.DKIM:
            verdicts.append(evaluate_dkim(record, answers.dkim))
        elif record.kind is RecordKind.RETURN_PATH:
            verdicts.append(evaluate_return_path(record, answers.return_path, domain=domain))
        elif record.kind is RecordKind.DMARC:
            organizational_name = (
                f"_dmarc.{answers.organizational_domain}" if answers.organizational_domain else None
            )
            verdicts.append(evaluate_dmarc(record, answers.dmarc, organizational=answers.organizational_dmarc,
                                           organizational_name=organizational_name))
        elif record.kind is RecordKind.SPF:
            verdicts.append(evaluate_spf(domain, answers.apex_txt, answers.spf))
    assert set(by_kind) == {v.kind for v in verdicts}
    return tuple(verdicts)


# --------------------------------------------------------------------------- texts

TEXTS: Final[Mapping[str, tuple[str, str]]] = MappingProxyType({
    "dns.record_found": (
        N_("{name}: found and correct"),
        N_("Nothing to do."),
    ),
    "dns.lookup_failed": (
        N_("{name}: DNS did not answer"),
        N_("The DNS servers of your domain did not answer in time or reported an error. Try the "
           "check again in a few minutes; if it keeps failing, ask your DNS provider."),
    ),
    "dns.dkim_missing": (
        N_("DKIM record missing at {name}"),
        N_("Add a TXT record with the name {name} and the value shown (paste all of it; it may "
           "be split into several quoted parts). DNS changes can take up to an hour to show."),
    ),
    "dns.dkim_wrong_key": (
        N_("The DKIM record at {name} holds a different key"),
        N_("Replace the value of the TXT record {name} with the value shown here. The key there "
           "now is not ours (perhaps from another service or an older setup)."),
    ),
    "dns.dkim_invalid": (
        N_("The DKIM record at {name} is not readable"),
        N_("Delete the TXT record {name} and add it again, pasting the value shown exactly; check "
           "that no quotes or spaces were added inside the key."),
    ),
    "dns.dkim_multiple": (
        N_("There are {count} DKIM records at {name}"),
        N_("Keep only one TXT record named {name}, with the value shown here, and delete the others."),
    ),
    "dns.return_path_missing": (
        N_("Return-path record missing at {name}"),
        N_("Add a CNAME record with the name {name} pointing to {expected}."),
    ),
    "dns.return_path_wrong_target": (
        N_("The return-path record {name} points to {found}"),
        N_("Change the CNAME record {name} so that it points to {expected}."),
    ),
    "dns.return_path_domain_appended": (
        N_("The return-path record {name} points to {found}"),
        N_("Your DNS provider added your domain name to the target. Enter the target with a dot "
           "at the end ({expected}.) or as your provider's help describes, so it points to {expected}."),
    ),
    "dns.dmarc_missing": (
        N_("DMARC record missing at {name}"),
        N_("Add a TXT record with the name {name} and the value {expected}."),
    ),
    "dns.dmarc_invalid": (
        N_("The DMARC record at {name} is not valid"),
        N_("Replace the TXT record {name} with a valid DMARC record, for example {expected}."),
    ),
    "dns.dmarc_multiple": (
        N_("There are {count} DMARC records at {name}"),
        N_("Receivers ignore DMARC when there is more than one record. Keep one TXT record at "
           "{name} and delete the others."),
    ),
    "dns.dmarc_inherited": (
        N_("{name}: the DMARC record of {organizational} applies"),
        N_("Nothing to do."),
    ),
    "dns.spf_missing": (
        N_("No SPF record at {name} (optional)"),
        N_("Optional: publish one TXT record at {name} that lists the servers sending for your "
           "domain, starting with v=spf1."),
    ),
    "dns.spf_duplicate": (
        N_("There are {count} SPF records at {name}"),
        N_("A domain may have only one SPF record; with more, receivers treat SPF as broken. "
           "Merge them into one TXT record starting with v=spf1 and delete the others."),
    ),
    "dns.spf_too_many_lookups": (
        N_("The SPF record at {name} needs {count} DNS lookups (at most {limit} allowed)"),
        N_("Receivers stop after {limit} lookups and treat SPF as broken. Remove include: entries "
           "of services you no longer use, or replace some with ip4:/ip6: ranges."),
    ),
    "dns.spf_void_lookups": (
        N_("The SPF record at {name} refers to {count} names that do not exist"),
        N_("Remove the include:, a: or mx: entries that point to names without records (at most "
           "{limit} are tolerated)."),
    ),
    "dns.spf_invalid": (
        N_("The SPF record at {name} is not valid (at {where})"),
        N_("Check the SPF record for typing errors and includes of domains that have no SPF "
           "record; receivers treat a broken SPF record as an error."),
    ),
})
"""Title and fix per verdict code (English msgids; ``str.format`` with the verdict's params)."""
