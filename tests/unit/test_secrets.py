"""SecretBox: keyring parsing, owner binding, rotation, and that secrets never leak into text."""

from __future__ import annotations

import logging
from base64 import urlsafe_b64encode

import pytest

from mailport.adapters.secrets import Secret, SecretBox, generate_key
from mailport.errors import ConfigurationError, SecretError

KEY_A = "a1:" + urlsafe_b64encode(bytes(range(32))).decode()
KEY_B = "b2:" + urlsafe_b64encode(bytes(range(32, 64))).decode()
AAD = "tenant-1:account-7:password"


def test_round_trip_and_token_names_its_key() -> None:
    box = SecretBox(KEY_A)
    token = box.encrypt("hunter2 ünïcode", aad=AAD)
    assert token.startswith("v1.a1.")
    assert "hunter2" not in token
    assert box.decrypt(token, aad=AAD) == "hunter2 ünïcode"
    assert box.key_id_of(token) == "a1"


def test_each_encryption_uses_a_fresh_nonce() -> None:
    box = SecretBox(KEY_A)
    assert box.encrypt("same", aad=AAD) != box.encrypt("same", aad=AAD)


def test_ciphertext_copied_to_another_owner_fails() -> None:
    box = SecretBox(KEY_A)
    token = box.encrypt("hunter2", aad=AAD)
    with pytest.raises(SecretError) as info:
        box.decrypt(token, aad="tenant-2:account-7:password")
    assert "hunter2" not in str(info.value)


def test_tampered_token_fails() -> None:
    box = SecretBox(KEY_A)
    token = box.encrypt("hunter2", aad=AAD)
    body = token.rsplit(".", 1)[1]
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(SecretError):
        box.decrypt(token.rsplit(".", 1)[0] + "." + flipped, aad=AAD)


def test_first_key_encrypts_all_keys_decrypt_and_rotation() -> None:
    old = SecretBox(KEY_A)
    token = old.encrypt("hunter2", aad=AAD)
    both = SecretBox(f"{KEY_B},{KEY_A}")
    assert both.primary_key_id == "b2"
    assert both.decrypt(token, aad=AAD) == "hunter2"
    assert both.needs_rotation(token)
    rotated = both.rotate(token, aad=AAD)
    assert both.key_id_of(rotated) == "b2"
    assert not both.needs_rotation(rotated)
    assert both.rotate(rotated, aad=AAD) == rotated
    # After the old key is dropped, only the rotated token still opens.
    new_only = SecretBox(KEY_B)
    assert new_only.decrypt(rotated, aad=AAD) == "hunter2"
    with pytest.raises(SecretError) as info:
        new_only.decrypt(token, aad=AAD)
    assert "a1" in str(info.value)


def test_same_id_with_different_key_material_fails_cleanly() -> None:
    token = SecretBox(KEY_A).encrypt("hunter2", aad=AAD)
    impostor = "a1:" + KEY_B.split(":", 1)[1]
    with pytest.raises(SecretError):
        SecretBox(impostor).decrypt(token, aad=AAD)


@pytest.mark.parametrize(
    "token", ["", "garbage", "v2.a1.AAAA", "v1.a1.!!!!", "v1.a1.AAAA", "v1..x.y"]
)
def test_malformed_tokens_are_secret_errors(token: str) -> None:
    with pytest.raises(SecretError):
        SecretBox(KEY_A).decrypt(token, aad=AAD)


@pytest.mark.parametrize(
    "keyring",
    ["", " , ", "nokeyid", "a1:short", "bad id!:" + KEY_A.split(":", 1)[1], f"{KEY_A},{KEY_A}"],
)
def test_malformed_keyrings_are_configuration_errors(keyring: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        SecretBox(keyring)
    # The key material must never be echoed back.
    assert KEY_A.split(":", 1)[1] not in str(info.value)


def test_generate_key_is_usable() -> None:
    key = generate_key("k9")
    assert key.startswith("k9:")
    box = SecretBox(key)
    assert box.decrypt(box.encrypt("x", aad="o"), aad="o") == "x"
    assert generate_key() != generate_key()


def test_secret_is_masked_everywhere_but_reveal(caplog: pytest.LogCaptureFixture) -> None:
    secret = Secret("hunter2")
    assert secret.reveal() == "hunter2"
    assert type(secret.reveal()) is str
    assert "hunter2" not in repr(secret)
    assert "hunter2" not in str(secret)
    assert "hunter2" not in f"{secret}"
    assert "hunter2" not in "%s" % secret  # noqa: UP031 - logging formats this way
    assert "hunter2" not in repr({"password": secret})
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("password is %s / %r", secret, secret)
    assert "hunter2" not in caplog.text
