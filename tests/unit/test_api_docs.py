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
