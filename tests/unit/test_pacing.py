from __future__ import annotations

import pytest

from mailport.core.pacing import ConnectPacer, fair_share


def test_burst_then_steady_rate_per_server() -> None:
    pacer = ConnectPacer(rate=10, burst=3)
    delays = [pacer.delay("imap.a:993", 100.0) for _ in range(6)]
    assert delays[:3] == [0.0, 0.0, 0.0]
    assert delays[3:] == pytest.approx([0.1, 0.2, 0.3])  # spaced 1/rate apart
    assert pacer.delay("imap.b:993", 100.0) == 0.0  # another server has its own bucket
    assert pacer.delay("imap.a:993", 101.0) == 0.0  # refilled after a quiet second


def test_pacer_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        ConnectPacer(rate=0, burst=1)


@pytest.mark.parametrize(("accounts", "workers", "limit", "share"), [
    (1000, 2, 5000, 500), (1000, 3, 5000, 334), (1000, 1, 5000, 1000), (1000, 0, 5000, 1000),
    (1000, 1, 600, 600), (0, 4, 100, 0), (3, 4, 100, 1),
])
def test_fair_share(accounts: int, workers: int, limit: int, share: int) -> None:
    assert fair_share(accounts=accounts, workers=workers, limit=limit) == share
