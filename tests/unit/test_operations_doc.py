"""docs/operations.md: its configuration reference is the settings model's, and it covers what an
operator needs."""

from __future__ import annotations

from pathlib import Path

from mailport.settings import Settings
from mailport.settings_doc import END, START, settings_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def test_configuration_reference_is_current() -> None:
    text = DOC.read_text()
    current = text.split(START, 1)[1].split(END, 1)[0].strip()
    assert current == settings_table(), "run: .venv/bin/python -m mailport.settings_doc docs/operations.md"


def test_every_setting_is_documented_once() -> None:
    text = DOC.read_text()
    for name in Settings.model_fields:
        assert text.count(f"| `MAILPORT_{name.upper()}` |") == 1, name


def test_the_operator_topics_are_there() -> None:
    text = DOC.read_text()
    for heading in ("Configuration reference", "N API processes and N workers on PostgreSQL",
                    "Upgrades and migrations", "Key rotation", "Backups", "Metrics and alerts", "Capacity"):
        assert heading in text, heading
    assert "mailport secrets rotate" in text and "CAPACITY_PLACEHOLDER" not in text
