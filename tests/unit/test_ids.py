"""Ids and tokens from the pooled OS random source: unique, well-formed, never repeated by a fork."""

from __future__ import annotations

import os
import re
import threading

from mailport.ids import new_id, random_hex


def test_ids_are_prefixed_base36_and_unique() -> None:
    ids = [new_id("msg") for _ in range(20_000)]
    assert all(re.fullmatch(r"msg_[0-9a-z]{20}", i) for i in ids)
    assert len(set(ids)) == len(ids)
    # every base-36 digit shows up in every position (a stuck bit would leave some out)
    for position in range(4, 24):
        assert len({i[position] for i in ids}) == 36


def test_tokens_from_threads_do_not_collide() -> None:
    found: list[str] = []
    lock = threading.Lock()

    def draw() -> None:
        mine = [random_hex(16) for _ in range(2_000)]
        with lock:
            found.extend(mine)

    threads = [threading.Thread(target=draw) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(found) == 16_000 and len(set(found)) == 16_000
    assert all(re.fullmatch(r"[0-9a-f]{32}", t) for t in found)


def test_a_forked_child_does_not_reuse_the_parents_pool() -> None:
    random_hex(16)  # the parent's pool now holds unread bytes a careless child would hand out
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.write(write, random_hex(16).encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.waitpid(pid, 0)
    assert child != random_hex(16)
