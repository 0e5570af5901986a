"""``mailport bounce-parse FILE --json``: the exact JSON shape of the issue."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from mailport.cli import app

CORPUS = Path(__file__).with_name("bounce_corpus")
runner = CliRunner()


def test_bounce_parse_json_shape() -> None:
    result = runner.invoke(app, ["bounce-parse", str(CORPUS / "postfix_user_unknown.eml"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "is_bounce": True,
        "recipients": [{"recipient": "nobody@customer.example", "status": "5.1.1", "hard": True,
                        "reason": "the mailbox does not exist"}],
        "original_message_id": "<inv-2026-0042.a1b2c3@shop.example>",
    }


def test_bounce_parse_not_a_bounce_and_stdin() -> None:
    raw = (CORPUS / "arf_complaint.eml").read_bytes()
    result = runner.invoke(app, ["bounce-parse", "-", "--json"], input=raw)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"is_bounce": False, "recipients": [],
                                         "original_message_id": "<inv-70@shop.example>"}


def test_bounce_parse_human_output_and_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["bounce-parse", str(CORPUS / "office365_quota.eml")])
    assert result.exit_code == 0 and "full@contoso.example" in result.stdout and "soft" in result.stdout
    result = runner.invoke(app, ["bounce-parse", str(tmp_path / "missing.eml")])
    assert result.exit_code == 2
