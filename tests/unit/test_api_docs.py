"""docs/api.md is rendered from the OpenAPI document and must match it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_api_reference_is_current() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "render_api_docs.py"), "--check"],
                            capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr + "\nrun: .venv/bin/python scripts/render_api_docs.py"


def test_every_operation_has_curl_and_python_examples() -> None:
    text = (ROOT / "docs" / "api.md").read_text()
    sections = text.split("\n### `")[1:]
    operations = [s for s in sections if s.split("`", 1)[0].split(" ", 1)[0] in
                  {"GET", "POST", "PUT", "PATCH", "DELETE"}]
    assert len(operations) >= 50
    for section in operations:
        title = section.split("`", 1)[0]
        assert "```sh\ncurl -X " in section and "```python\n" in section, title


def test_the_message_request_fields_are_documented() -> None:
    """Issue 16 item 20: ``POST /v1/messages`` lists its request fields, not only its responses."""
    text = (ROOT / "docs" / "api.md").read_text()
    section = text.split("\n### `POST /v1/messages`", 1)[1].split("\n### `", 1)[0]
    table = section.split("| field | type | required | meaning |", 1)[1]
    fields = {line.split("`")[1] for line in table.splitlines() if line.startswith("| `")}
    assert {"method", "account", "from", "to", "cc", "bcc", "subject", "text", "html", "attachments",
            "send_at", "metadata"} <= fields, fields


def _curl_blocks() -> list[str]:
    text = (ROOT / "docs" / "api.md").read_text()
    return [block.split("\n```", 1)[0] for block in text.split("```sh\n")[1:]]


def test_the_curl_examples_run_as_pasted() -> None:
    """Found by following the reference literally: a raw ``ä`` in a URL is a malformed request
    (uvicorn answers a bare 400), a ``{address}`` left in a path is a 422, and a POST whose body
    the document did not describe went out empty."""
    blocks = _curl_blocks()
    urls = [line.split("'")[1] for block in blocks for line in block.splitlines() if line.startswith("curl ")]
    assert len(urls) >= 50
    assert [u for u in urls if not u.replace("…", "").isascii()] == []  # "acc_…" is a placeholder
    assert [u for u in urls if "{" in u] == []
    for path in ("/v1/messages/batch'", "/v1/platform/reply-to/confirm'"):
        block = next(b for b in blocks if path in b.splitlines()[0])
        assert "\n  -d '{" in block, block
    discover = next(b for b in blocks if "/v1/discover'" in b.splitlines()[0])
    assert "--data-urlencode 'email=bestellung@bäckerei-müller.de'" in discover
