"""Documentation generated from code must match the code."""

from pathlib import Path

from mailport.settings_doc import END, START, settings_table

ROOT = Path(__file__).resolve().parents[2]


def test_readme_settings_table_is_current() -> None:
    text = (ROOT / "README.md").read_text()
    current = text.split(START, 1)[1].split(END, 1)[0].strip()
    assert current == settings_table(), "run: .venv/bin/python -m mailport.settings_doc README.md"


def test_readme_starts_with_the_two_commands() -> None:
    lines = [line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("make ")]
    assert lines[0].startswith("make serve") and lines[1].startswith("make test")
