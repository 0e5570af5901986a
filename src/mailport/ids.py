"""Identifiers: short, prefixed, unguessable (``acc_3k9x…``), so a leaked id names its kind."""

from __future__ import annotations

import os
import threading

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


class _RandomPool(threading.local):
    """Bytes from the OS random source, read 4 KiB at a time per thread.

    Accepting a batch makes three random values per message; one ``getrandom`` call each was a
    tenth of the accept profile (every call gives up the GIL and waits to get it back behind the
    other request threads). The bytes are the OS's CSPRNG output either way; a forked child must
    not reuse its parent's unread bytes, so the pool is emptied after ``fork``.
    """

    def __init__(self) -> None:
        self.buffer = b""
        self.offset = 0

    def take(self, n: int) -> bytes:
        if self.offset + n > len(self.buffer):
            self.buffer, self.offset = os.urandom(max(4096, n)), 0
        chunk = self.buffer[self.offset:self.offset + n]
        self.offset += n
        return chunk


_pool = _RandomPool()


def _forget_after_fork() -> None:
    global _pool
    _pool = _RandomPool()


os.register_at_fork(after_in_child=_forget_after_fork)


def random_bytes(n: int) -> bytes:
    """``n`` bytes from the OS CSPRNG (pooled; see :class:`_RandomPool`)."""
    return _pool.take(n)


def random_hex(n: int = 16) -> str:
    """``secrets.token_hex(n)`` from the pool."""
    return _pool.take(n).hex()


def new_id(prefix: str, *, length: int = 20) -> str:
    """``prefix_`` + ``length`` base-36 characters from the OS random source.

    20 characters carry ~103 bits; drawing them from a single random integer (not one
    ``secrets.choice`` per character) keeps id creation off the hot path's profile.
    """
    # 6 random bits per character against log2(36) ≈ 5.17 needed: each digit is uniform to ~1e-5.
    bits = length * 6
    value = int.from_bytes(_pool.take((bits + 7) // 8), "big") >> (-bits % 8)
    chars = []
    for _ in range(length):
        value, digit = divmod(value, 36)
        chars.append(_ALPHABET[digit])
    return prefix + "_" + "".join(chars)
