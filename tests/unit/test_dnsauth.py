"""core.dnsauth: the records to publish and the per-record verdicts, on literal DNS answers."""

from __future__ import annotations

import base64
from functools import cache

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mailport.core.dnsauth import (
    TEXTS,
    DomainAnswers,
    LookupFailed,
    RecordKind,
    Status,
    dkim_record_value,
    evaluate,
    evaluate_spf,
    normalize_domain,
    required_records,
    spf_queries,
    split_txt,
    zone_line,
)
from mailport.errors import ValidationError


@cache
def _key(n: int = 0) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def _records(key: str | None = None):  # type: ignore[no-untyped-def]
    return required_records(domain="Bakkerij-Jansen.NL.", selector="mp1", public_key_der_b64=key or _key(),
                            return_path_prefix="mpb", bounce_host="bounces.mailport.example")


def _good(**changes: object) -> DomainAnswers:
    records = _records()
    values: dict[str, object] = {
        "dkim": (records[0].value,),
        "return_path": ("bounces.mailport.example",),
        "dmarc": ("v=DMARC1; p=none",),
        "apex_txt": ("v=spf1 mx -all", "google-site-verification=abc"),
        "spf": {("MX", "bakkerij-jansen.nl"): ("10 mx.bakkerij-jansen.nl",)},
    }
    values.update(changes)
    return DomainAnswers(**values)  # type: ignore[arg-type]


def _by_kind(answers: DomainAnswers):  # type: ignore[no-untyped-def]
    return {v.kind: v for v in evaluate("bakkerij-jansen.nl", _records(), answers)}


def test_required_records_names_values_and_split() -> None:
    dkim, rp, dmarc, spf = _records()
    assert dkim.name == "mp1._domainkey.bakkerij-jansen.nl" and dkim.type == "TXT"
    assert dkim.value == f"v=DKIM1; k=rsa; p={_key()}"
    assert len(dkim.value) > 255 and all(len(s) <= 255 for s in dkim.strings)
    assert "".join(dkim.strings) == dkim.value and len(dkim.strings) == 2
    assert (rp.name, rp.type, rp.value) == ("mpb.bakkerij-jansen.nl", "CNAME", "bounces.mailport.example")
    assert (dmarc.name, dmarc.value) == ("_dmarc.bakkerij-jansen.nl", "v=DMARC1; p=none")
    assert spf.required is False and [r.required for r in (dkim, rp, dmarc)] == [True] * 3
    assert zone_line(rp) == "mpb.bakkerij-jansen.nl. 3600 IN CNAME bounces.mailport.example."
    assert zone_line(dkim).count('"') == 4


def test_normalize_domain() -> None:
    assert normalize_domain("Bücher.Example.") == "xn--bcher-kva.example"
    for bad in ("", "localhost", "1.2.3.4", "a@b.com", "-x.com", "x..com", "a b.com"):
        with pytest.raises(ValidationError):
            normalize_domain(bad)


def test_split_txt_edges() -> None:
    assert split_txt("a" * 255) == ("a" * 255,)
    assert split_txt("a" * 256) == ("a" * 255, "a")


def test_all_correct() -> None:
    verdicts = _by_kind(_good())
    assert {k: v.status for k, v in verdicts.items()} == {k: Status.PASS for k in RecordKind}
    assert verdicts[RecordKind.SPF].params["count"] == "1"


def test_dkim_compares_the_key_not_the_text() -> None:
    p = _key()
    rewritten = f"k=rsa;v=DKIM1;  p={p[:100]} {p[100:]}"  # reordered, extra spaces, FWS in the key
    assert _by_kind(_good(dkim=(rewritten,)))[RecordKind.DKIM].status is Status.PASS


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        ((), "dns.dkim_missing"),
        (("v=DKIM1; k=rsa; p=",), "dns.dkim_wrong_key"),  # revoked (empty p=)
        (("v=DKIM1; k=rsa; p=not*base64",), "dns.dkim_invalid"),
        (("v=DKIM1; k=ed25519; p=AAAA",), "dns.dkim_invalid"),
        (("unrelated text",), "dns.dkim_invalid"),
    ],
)
def test_dkim_failures(answer: tuple[str, ...], code: str) -> None:
    verdict = _by_kind(_good(dkim=answer))[RecordKind.DKIM]
    assert (verdict.status, verdict.code) == (Status.FAIL, code)


def test_dkim_wrong_key_and_duplicates() -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    wrong = dkim_record_value(base64.b64encode(other).decode())
    assert _by_kind(_good(dkim=(wrong,)))[RecordKind.DKIM].code == "dns.dkim_wrong_key"
    both = _by_kind(_good(dkim=(wrong, _records()[0].value)))[RecordKind.DKIM]
    assert (both.code, both.params["count"]) == ("dns.dkim_multiple", "2")


def test_return_path() -> None:
    assert _by_kind(_good(return_path=()))[RecordKind.RETURN_PATH].code == "dns.return_path_missing"
    wrong = _by_kind(_good(return_path=("elsewhere.example",)))[RecordKind.RETURN_PATH]
    assert (wrong.code, wrong.params["found"]) == ("dns.return_path_wrong_target", "elsewhere.example")
    appended = _by_kind(_good(return_path=("bounces.mailport.example.bakkerij-jansen.nl",)))
    assert appended[RecordKind.RETURN_PATH].code == "dns.return_path_domain_appended"
    assert _by_kind(_good(return_path=("Bounces.Mailport.Example.",)))[RecordKind.RETURN_PATH].ok


@pytest.mark.parametrize(
    ("answer", "code", "status"),
    [
        ((), "dns.dmarc_missing", Status.FAIL),
        (("v=DMARC1; p=reject; rua=mailto:d@x.example",), "dns.record_found", Status.PASS),
        (("v=DMARC1; rua=mailto:d@x.example",), "dns.record_found", Status.PASS),  # RFC 7489 6.6.3
        (("v=DMARC1; p=maybe",), "dns.dmarc_invalid", Status.FAIL),
        (("p=none; v=DMARC1",), "dns.dmarc_missing", Status.FAIL),  # v= must come first
        (("v=DMARC1; p=none", "v=DMARC1; p=reject"), "dns.dmarc_multiple", Status.FAIL),
        (LookupFailed(), "dns.lookup_failed", Status.UNKNOWN),
    ],
)
def test_dmarc(answer: object, code: str, status: Status) -> None:
    verdict = _by_kind(_good(dmarc=answer))[RecordKind.DMARC]
    assert (verdict.code, verdict.status) == (code, status)


def test_dmarc_of_the_organizational_domain_applies() -> None:
    verdict = _by_kind(_good(dmarc=(), organizational_dmarc=("v=DMARC1; p=quarantine",),
                             organizational_domain="jansen.nl"))[RecordKind.DMARC]
    assert (verdict.status, verdict.code, verdict.params["organizational"]) == (
        Status.PASS, "dns.dmarc_inherited", "_dmarc.jansen.nl")


def test_spf_duplicate_and_missing() -> None:
    two = ("v=spf1 mx -all", "v=spf1 include:_spf.google.com ~all")
    verdict = _by_kind(_good(apex_txt=two))[RecordKind.SPF]
    assert (verdict.code, verdict.params["count"], verdict.required) == ("dns.spf_duplicate", "2", False)
    assert _by_kind(_good(apex_txt=("other",)))[RecordKind.SPF].code == "dns.spf_missing"


def _resolve_spf(apex: tuple[str, ...], zone: dict[tuple[str, str], tuple[str, ...]]):  # type: ignore[no-untyped-def]
    """Drive the query rounds the way the adapter does, from a dict standing in for DNS."""
    fetched: dict[tuple[str, str], object] = {}
    rounds = 0
    while wanted := spf_queries("example.com", apex, fetched):  # type: ignore[arg-type]
        rounds += 1
        for key in wanted:
            fetched[key] = zone.get(key, ())
    return evaluate_spf("example.com", apex, fetched), rounds  # type: ignore[arg-type]


def test_spf_counts_lookups_recursively() -> None:
    apex = ("v=spf1 " + " ".join(f"include:s{i}.example.com" for i in range(1, 6)) + " -all",)
    zone = {("TXT", f"s{i}.example.com"): (f"v=spf1 a:h{i}.example.com ip4:192.0.2.{i} -all",) for i in range(1, 6)}
    zone.update({("A", f"h{i}.example.com"): ("192.0.2.1",) for i in range(1, 6)})
    verdict, rounds = _resolve_spf(apex, zone)
    assert (verdict.status, verdict.params["count"], rounds) == (Status.PASS, "10", 2)
    zone[("TXT", "s5.example.com")] = ("v=spf1 a:h5.example.com mx:h5.example.com -all",)
    zone[("MX", "h5.example.com")] = ("10 h5.example.com",)
    verdict, _ = _resolve_spf(apex, zone)
    assert (verdict.code, verdict.params["count"], verdict.params["limit"]) == ("dns.spf_too_many_lookups", "11", "10")


def test_spf_eleven_includes_and_redirect_and_voids() -> None:
    apex = ("v=spf1 " + " ".join(f"include:s{i}.example.com" for i in range(11)) + " -all",)
    zone = {("TXT", f"s{i}.example.com"): ("v=spf1 ip4:192.0.2.0/24 -all",) for i in range(11)}
    assert _resolve_spf(apex, zone)[0].code == "dns.spf_too_many_lookups"
    redirect = ("v=spf1 redirect=_spf.example.com",)
    assert _resolve_spf(redirect, {("TXT", "_spf.example.com"): ("v=spf1 mx a ~all",),
                                   ("MX", "_spf.example.com"): ("mx",), ("A", "_spf.example.com"): ("1",)})[0].ok
    voids = ("v=spf1 a:gone1.example.com a:gone2.example.com exists:gone3.example.com ip4:192.0.2.1 -all",)
    verdict = _resolve_spf(voids, {})[0]
    assert (verdict.code, verdict.params["count"]) == ("dns.spf_void_lookups", "3")


def test_spf_include_without_spf_is_invalid_and_loops_terminate() -> None:
    verdict = _resolve_spf(("v=spf1 include:nothing.example.com -all",), {})[0]
    assert (verdict.code, verdict.params["where"]) == ("dns.spf_invalid", "nothing.example.com")
    loop = {("TXT", "l.example.com"): ("v=spf1 include:l.example.com -all",)}
    assert _resolve_spf(("v=spf1 include:l.example.com -all",), loop)[0].code == "dns.spf_too_many_lookups"
    assert _resolve_spf(("v=spf1 bogus:x -all",), {})[0].code == "dns.spf_invalid"


def test_spf_unanswered_lookup_is_unknown() -> None:
    fetched = {("TXT", "s.example.com"): LookupFailed()}
    verdict = evaluate_spf("example.com", ("v=spf1 include:s.example.com -all",), fetched)
    assert verdict.status is Status.UNKNOWN


def test_every_code_has_a_title_and_fix_that_format() -> None:
    params = {k: "x" for k in ("name", "expected", "found", "count", "limit", "where", "reason", "organizational")}
    codes = {"dns.record_found", "dns.lookup_failed", "dns.dkim_missing", "dns.dkim_wrong_key", "dns.dkim_invalid",
             "dns.dkim_multiple", "dns.return_path_missing", "dns.return_path_wrong_target",
             "dns.return_path_domain_appended", "dns.dmarc_missing", "dns.dmarc_invalid", "dns.dmarc_multiple",
             "dns.dmarc_inherited", "dns.spf_missing", "dns.spf_duplicate", "dns.spf_too_many_lookups",
             "dns.spf_void_lookups", "dns.spf_invalid"}
    assert set(TEXTS) == codes
    for title, fix in TEXTS.values():
        assert title.format(**params) and fix.format(**params)


def test_the_spf_suggestion_merges_with_the_record_the_domain_has() -> None:
    """Issue 16 item 14: never a second SPF record, never drop the business's other senders."""
    from mailport.core.dnsauth import DEFAULT_SPF, merge_spf

    assert merge_spf(None) == DEFAULT_SPF
    assert merge_spf("v=spf1 include:_spf.google.com ~all") == "v=spf1 include:_spf.google.com mx ~all"
    assert merge_spf("v=spf1 include:spf.protection.outlook.com -all") == \
        "v=spf1 include:spf.protection.outlook.com mx -all"
    assert merge_spf("v=spf1 a mx ~all") == "v=spf1 a mx ~all"  # already there: unchanged
    assert merge_spf("v=spf1 redirect=_spf.example.net") == "v=spf1 mx redirect=_spf.example.net"
    assert merge_spf("v=spf1 ip4:192.0.2.1") == "v=spf1 ip4:192.0.2.1 mx"
