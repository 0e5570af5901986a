"""The configuration reference, generated from :class:`Settings` so the docs cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

from mailport.settings import Settings

START, END = "<!-- settings-table:start -->", "<!-- settings-table:end -->"


def settings_table() -> str:
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        if isinstance(default, list):
            default = ",".join(default)
        shown = f"`{default}`" if default not in ("", None) else "(empty)"
        if name == "data_dir":
            shown = "(see meaning)"  # depends on where mailport is installed
        if name in ("secret_key", "admin_key"):
            shown = "(generated in development)"
        rows.append(f"| `MAILPORT_{name.upper()}` | {shown} | {field.description or ''} |")
    return "\n".join(rows)


def render_into(path: Path) -> bool:
    """Rewrite the table between the markers in ``path``; True if the file changed."""
    text = path.read_text()
    new = re.sub(
        re.escape(START) + r".*?" + re.escape(END),
        lambda _: f"{START}\n{settings_table()}\n{END}",
        text,
        flags=re.DOTALL,
    )
    if new != text:
        path.write_text(new)
        return True
    return False


if __name__ == "__main__":
    import sys

    for arg in sys.argv[1:] or ["README.md"]:
        print(f"{arg}: {'updated' if render_into(Path(arg)) else 'up to date'}")
