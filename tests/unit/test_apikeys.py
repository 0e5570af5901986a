from mailport.core import apikeys


def test_roundtrip_and_hash_check() -> None:
    key = apikeys.format_key(key_id="abcdefghijkl", secret="S" * 43)
    parsed = apikeys.parse_key(key)
    assert parsed is not None and parsed.key_id == "abcdefghijkl"
    stored = apikeys.hash_secret(parsed.secret)
    assert apikeys.secret_matches("S" * 43, stored)
    assert not apikeys.secret_matches("T" * 43, stored)


def test_malformed_keys_are_rejected() -> None:
    for value in ["", "mpk_short_x", "Bearer x", "mpk_abcdefghijkl_" + "S" * 42, "mpx_abcdefghijkl_" + "S" * 43]:
        assert apikeys.parse_key(value) is None
