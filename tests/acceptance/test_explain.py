"""`POST /v1/diagnostics/explain` and `mailport explain`: the user's language, the right code."""

import json
import os
import subprocess
import sys
from typing import Any

GMAIL_534 = ("534-5.7.9 Application-specific password required. Learn more at\n"
             "534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor")


def _key(api: Any, admin_headers: dict[str, str]) -> dict[str, str]:
    key = api.post("/v1/tenants", json={"name": "T"}, headers=admin_headers).json()["api_key"]
    return {"Authorization": f"Bearer {key}"}


def test_explain_api_uses_the_callers_language(api: Any, admin_headers: dict[str, str]) -> None:
    headers = _key(api, admin_headers)
    en = api.post("/v1/diagnostics/explain", json={"text": GMAIL_534, "email": "x@gmail.com"}, headers=headers).json()
    de = api.post("/v1/diagnostics/explain", json={"text": GMAIL_534, "email": "x@gmail.com"},
                  headers={**headers, "Accept-Language": "de-AT,de;q=0.9,en;q=0.5"}).json()
    it = api.post("/v1/diagnostics/explain?lang=it", json={"text": GMAIL_534}, headers=headers).json()
    assert set(en) == {"code", "title", "steps", "provider", "retryable", "server_text"}
    assert en["code"] == de["code"] == it["code"] == "auth.app_password_required"
    assert en["provider"] == "gmail" and any("myaccount.google.com/apppasswords" in s for s in de["steps"])
    assert len({en["title"], de["title"], it["title"]}) == 3
    assert en["retryable"] is False and "5.7.9" in en["server_text"]


def test_unknown_text_is_unknown_not_a_guess(api: Any, admin_headers: dict[str, str]) -> None:
    resp = api.post("/v1/diagnostics/explain", json={"text": "the flux capacitor hummed"},
                    headers=_key(api, admin_headers))
    assert resp.json()["code"] == "unknown" and resp.json()["server_text"] == "the flux capacitor hummed"


def test_explain_cli_json_and_stdin() -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run([sys.executable, "-m", "mailport.cli", "explain", "--json", "--lang", "fr", "-"],
                            check=False, input="+OK Dovecot ready.\n", capture_output=True, text=True, env=env,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["code"] == "net.wrong_service"
