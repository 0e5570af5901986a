"""The pieces around an own domain's mail: VERP return paths, DKIM signing (dkimpy, verified
against a dict standing in for DNS) and the platform smarthost URL."""

from __future__ import annotations

from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mailport.adapters.dkim import DkimSigner, generate_key, public_key_b64
from mailport.adapters.platform import (
    load_platform_dkim_key,
    parse_platform_url,
    platform_transport,
)
from mailport.core.dnsauth import dkim_record_value
from mailport.core.returnpath import parse_verp, verp_address
from mailport.errors import ConfigurationError, ValidationError
from mailport.settings import Settings

MESSAGE = (b"From: Shop <facturen@shop.test>\r\nTo: klant@example.org\r\nSubject: Factuur\r\n"
           b"Date: Mon, 23 Nov 2026 12:00:00 +0000\r\nMessage-ID: <m1@shop.test>\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nIn de bijlage.\r\n")


def test_verp_round_trip() -> None:
    address = verp_address(token="msg_3k9x.1", host="MP-Bounces.Shop.Test.")
    assert address == "bounces+msg_3k9x.1@mp-bounces.shop.test"
    assert parse_verp(address) == "msg_3k9x.1"
    assert parse_verp(f" <{address}> ") == "msg_3k9x.1" and parse_verp("BOUNCES+msg_1@x.test") == "msg_1"
    for other in ("info@shop.test", "bounces@shop.test", "bounce+x@shop.test", "bounces+@x.test", "bounces+a b@x",
                  "", "bounces+x"):
        assert parse_verp(other) is None, other
    for bad_token in ("", "a@b", "a b", "x" * 65, "-start"):
        with pytest.raises(ValidationError):
            verp_address(token=bad_token, host="shop.test")
    with pytest.raises(ValidationError):
        verp_address(token="ok", host="not a host")


@pytest.fixture(scope="module")
def key() -> object:
    return generate_key()


def test_generated_key_is_rsa_2048_and_signs_verifiably(key: object) -> None:
    pem = key.private_pem  # type: ignore[attr-defined]
    loaded = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(loaded, rsa.RSAPrivateKey) and loaded.key_size == 2048
    assert "PRIVATE" not in repr(key) and public_key_b64(pem) == key.public_der_b64  # type: ignore[attr-defined]

    record = dkim_record_value(key.public_der_b64).encode()  # type: ignore[attr-defined]
    signed = DkimSigner(domain="shop.test", selector="mp-1", private_pem=pem).sign(MESSAGE)
    assert signed.startswith(b"DKIM-Signature: ") and signed.endswith(MESSAGE)
    assert b"c=relaxed/relaxed" in signed and b"a=rsa-sha256" in signed and b"d=shop.test" in signed
    dns = {b"mp-1._domainkey.shop.test.": record}
    assert dkim.verify(signed, dnsfunc=lambda name, timeout=5: dns.get(name)) is True
    # relaxed/relaxed survives re-folded whitespace, but not a changed body
    assert dkim.verify(signed.replace(b"Subject: Factuur", b"Subject:   Factuur"),
                       dnsfunc=lambda name, timeout=5: dns.get(name)) is True
    assert dkim.verify(signed.replace(b"In de bijlage.", b"Betaal elders."),
                       dnsfunc=lambda name, timeout=5: dns.get(name)) is False


def test_signer_accepts_pkcs8_and_refuses_garbage(key: object) -> None:
    loaded = serialization.load_pem_private_key(key.private_pem.encode(), password=None)  # type: ignore[attr-defined]
    pkcs8 = loaded.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()
    assert DkimSigner(domain="shop.test", selector="s", private_pem=pkcs8).sign(MESSAGE).startswith(b"DKIM-Signature")
    with pytest.raises(ConfigurationError) as broken:
        DkimSigner(domain="shop.test", selector="s",
                   private_pem="-----BEGIN PRIVATE KEY-----\nAAAA\n-----END").sign(MESSAGE)
    assert "AAAA" not in str(broken.value)
    with pytest.raises(ValidationError):
        DkimSigner(domain="shop.test", selector="s", private_pem=pkcs8).sign(b"no headers")


def test_platform_url() -> None:
    tls = parse_platform_url("smtps://relay%40ops.example:p%40ss%3Aword@relay.example:2465")
    assert (tls.endpoint.host, tls.endpoint.port, tls.endpoint.security) == ("relay.example", 2465, "tls")
    assert tls.endpoint.username == "relay@ops.example" and tls.password.reveal() == "p@ss:word"  # type: ignore[union-attr]
    assert "ss" not in repr(tls)
    starttls = parse_platform_url("smtp://relay.example")
    assert (starttls.endpoint.port, starttls.endpoint.security, starttls.password) == (587, "starttls", None)
    for bad in ("http://relay.example", "smtp://", "relay.example:25", "smtps://h:notaport"):
        with pytest.raises(ConfigurationError):
            parse_platform_url(bad)


def test_transport_choice_and_production_rules(tmp_path: Path) -> None:
    dev = Settings(data_dir=tmp_path, platform_smtp_url="capture")
    assert platform_transport(Settings(data_dir=tmp_path), db=None, clock=None, resolver=None) is None  # type: ignore[arg-type]
    assert type(platform_transport(dev, db=None, clock=None, resolver=None)).__name__ == "CaptureTransport"  # type: ignore[arg-type]
    prod = Settings(env="production", data_dir=tmp_path, platform_smtp_url="capture")
    with pytest.raises(ConfigurationError, match="development"):
        platform_transport(prod, db=None, clock=None, resolver=None)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="KEY_FILE"):
        load_platform_dkim_key(Settings(env="production", data_dir=tmp_path))
    generated = load_platform_dkim_key(dev)
    assert generated == load_platform_dkim_key(dev)  # generated once, then kept
    assert oct((tmp_path / "platform-dkim.pem").stat().st_mode & 0o777) == "0o600"
    key_file = tmp_path / "ops.pem"
    key_file.write_text(generated)
    assert load_platform_dkim_key(Settings(env="production", data_dir=tmp_path,
                                           platform_dkim_key_file=str(key_file))) == generated
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_platform_dkim_key(Settings(data_dir=tmp_path, platform_dkim_key_file=str(tmp_path / "nope.pem")))
