import io
import json
import logging

import pytest

from mailport.logs import JsonFormatter, RedactingFilter, redact, register_secret


@pytest.mark.parametrize(
    "line",
    [
        "login failed password=hunter2secret for user",
        'payload {"password": "hunter2secret"}',
        "Authorization: Bearer hunter2secret.token",
        "C: AUTH PLAIN AGh1bnRlcjJzZWNyZXQ=",
        "refresh_token=hunter2secret&x=1",
    ],
)
def test_credential_shapes_are_masked(line: str) -> None:
    out = redact(line)
    assert "hunter2secret" not in out and "AGh1bnRlcjJzZWNyZXQ=" not in out
    assert "[redacted]" in out


def test_registered_secret_is_masked_anywhere() -> None:
    register_secret("Zq9-very-unusual-value")
    assert redact("server said: Zq9-very-unusual-value is wrong") == "server said: [redacted] is wrong"


def test_api_keys_are_masked() -> None:
    key = "mpk_abcdefghijkl_" + "A" * 43
    assert key not in redact(f"got key {key}")


def test_filter_masks_args_extras_and_json_output() -> None:
    register_secret("s3cr3t-pw-for-test")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("auth with %s failed", "s3cr3t-pw-for-test", extra={"detail": "pw s3cr3t-pw-for-test"})
        try:
            raise RuntimeError("boom s3cr3t-pw-for-test")
        except RuntimeError:
            logger.exception("crash")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "s3cr3t-pw-for-test" not in text
    first = json.loads(text.splitlines()[0])
    assert first["msg"] == "auth with [redacted] failed" and first["detail"] == "pw [redacted]"
