"""A password or token in memory: a ``str`` whose formatting is masked.

Pure value type, so every layer can carry secrets without depending on the keyring that
encrypts them at rest (``adapters/secrets.py``).
"""

from __future__ import annotations

__all__ = ["Secret"]


class Secret(str):
    """A string whose ``repr``/``str`` formatting is masked, for passing passwords around.

    It *is* a ``str`` (libraries that need the value get it via :meth:`reveal`, or by using it as a
    str), but ``f"{secret}"``, ``repr(secret)`` and logging show ``'********'``.
    """

    __slots__ = ()

    def reveal(self) -> str:
        """The plain value — call this only where the value is handed to a server."""
        return str.__str__(self)

    def __repr__(self) -> str:
        return "Secret('********')"

    def __str__(self) -> str:
        return "********"

    def __format__(self, format_spec: str) -> str:
        return "********"
