"""Group commit of accepts: concurrent requests share transactions and keep every promise of
``POST /v1/messages`` (each result its own, durable before it is answered, idempotency across
merged requests), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from outbox_helpers import outbox_runtime, sink_account

from mailport.adapters.group_commit import GroupCommit
from mailport.errors import Conflict, MailportError, StorageError, ValidationError
from mailport.runtime import Runtime
from mailport.services.send import SendRequest
from mailport.services.send.job import _BeginItem


@pytest.fixture
def rt(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = outbox_runtime(tmp_path, database_url)
    yield runtime
    runtime.close()


@pytest.fixture
def tenant(rt: Runtime) -> str:
    return rt.tenants.create(name="Bakkerij").tenant.id


def _invoice(account: str, n: int, to: str = "debiteur@example.org") -> SendRequest:
    return SendRequest(account_id=account, to=[to], subject=f"Factuur {n}",
                       text="Beste klant,\n\nIn de bijlage vindt u de factuur.")


def _one_mailbox(runtime: Runtime, invoices: int) -> tuple[str, str, list[str]]:
    """A tenant, its mailbox on the sink and ``invoices`` invoices submitted to it (their ids)."""
    tenant = runtime.tenants.create(name="Bakkerij").tenant.id
    account = sink_account(runtime, tenant, 2525)
    return tenant, account, [runtime.outbox.submit(tenant, _invoice(account, n)).message.id for n in range(invoices)]


def _count_writes(rt: Runtime) -> list[int]:
    """Wrap submit_many to record the size of every transaction it writes."""
    sizes: list[int] = []
    original = rt.outbox.submit_many

    def counting(tenant_id: str, items: Sequence[Any]) -> Any:
        sizes.append(len(items))
        return original(tenant_id, items)

    rt.outbox.submit_many = counting  # type: ignore[method-assign]
    return sizes


async def test_concurrent_requests_share_transactions_and_each_gets_its_own_result(
        rt: Runtime, tenant: str) -> None:
    account = sink_account(rt, tenant, 2525)
    sizes = _count_writes(rt)
    requests = [_invoice(account, n) for n in range(60)]
    requests[17] = _invoice(account, 17, to="not an address")  # fails alone, later
    results = await asyncio.gather(*(rt.outbox.submit_async(tenant, r) for r in requests[:17]),
                                   *(rt.outbox.submit_async(tenant, r) for r in requests[17:]),
                                   return_exceptions=True)
    assert isinstance(results[17], ValidationError)
    accepted = [r for i, r in enumerate(results) if i != 17]
    assert all(not isinstance(r, BaseException) for r in accepted)
    # each caller got its own message back, in its order
    assert [r.message.subject for r in accepted if not isinstance(r, BaseException)] == \
        [f"Factuur {n}" for n in range(60) if n != 17]
    assert sum(sizes) == 60 and len(sizes) < 60 / 4, sizes  # merged, not one by one
    stored = {m.subject for m in rt.outbox.list_messages(tenant, limit=200)}
    assert stored == {f"Factuur {n}" for n in range(60) if n != 17}


async def test_one_key_in_two_merged_requests_makes_one_message(rt: Runtime, tenant: str) -> None:
    account = sink_account(rt, tenant, 2525)
    first, second, other = await asyncio.gather(
        rt.outbox.submit_async(tenant, _invoice(account, 1), idempotency_key="inv-1"),
        rt.outbox.submit_async(tenant, _invoice(account, 1), idempotency_key="inv-1"),
        rt.outbox.submit_async(tenant, _invoice(account, 2), idempotency_key="inv-1"),
        return_exceptions=True)
    assert not isinstance(first, BaseException) and not isinstance(second, BaseException)
    assert first.message.id == second.message.id
    assert (first.replayed, second.replayed) == (False, True)
    assert isinstance(other, Conflict)  # the same key with another body


async def test_a_client_that_hangs_up_still_gets_its_message_committed(rt: Runtime, tenant: str) -> None:
    account = sink_account(rt, tenant, 2525)
    tasks = [asyncio.create_task(rt.outbox.submit_async(tenant, _invoice(account, n),
                                                        idempotency_key=f"k{n}")) for n in range(20)]
    await asyncio.sleep(0)
    tasks[5].cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.sleep(0.5)
    replay = await rt.outbox.submit_async(tenant, _invoice(account, 5), idempotency_key="k5")
    assert replay.replayed  # it was written although its caller went away


async def test_a_bug_in_one_request_does_not_fail_the_requests_merged_with_it() -> None:
    def write(tenant_id: str, items: Sequence[str]) -> list[str]:
        if "boom" in items and len(items) > 1:
            raise RuntimeError("a bug that one item trips")
        if items == ["boom"]:
            raise RuntimeError("a bug that one item trips")
        return [f"ok {i}" for i in items]

    group: GroupCommit[str, str] = GroupCommit(write, shared_errors=(StorageError,))
    results = await asyncio.gather(group.submit("t", ["a"]), group.submit("t", ["boom"]),
                                   group.submit("t", ["b", "c"]), return_exceptions=True)
    assert results[0] == ["ok a"] and results[2] == ["ok b", "ok c"]
    assert isinstance(results[1], RuntimeError)


async def test_a_storage_outage_fails_every_merged_request_at_once() -> None:
    calls: list[int] = []

    def write(tenant_id: str, items: Sequence[str]) -> list[str]:
        calls.append(len(items))
        raise StorageError("the database is unreachable")

    group: GroupCommit[str, str] = GroupCommit(write, shared_errors=(StorageError,))
    results = await asyncio.gather(*(group.submit("t", [str(n)]) for n in range(10)),
                                   return_exceptions=True)
    assert all(isinstance(r, StorageError) for r in results)
    assert sum(calls) == 10 and len(calls) < 10  # not retried one by one against a dead database


async def test_tenants_are_written_in_their_own_transactions() -> None:
    seen: list[tuple[str, list[str]]] = []

    def write(tenant_id: str, items: Sequence[str]) -> list[MailportError | str]:
        seen.append((tenant_id, list(items)))
        return [f"{tenant_id}:{i}" for i in items]

    group: GroupCommit[str, MailportError | str] = GroupCommit(write)
    results = await asyncio.gather(group.submit("a", ["1"]), group.submit("b", ["2"]),
                                   group.submit("a", ["3"]), group.submit("b", ["4"]))
    assert results == [["a:1"], ["b:2"], ["a:3"], ["b:4"]]
    assert all(len({t for t, _ in [s]}) == 1 for s in seen)
    assert sorted(i for _, items in seen for i in items) == ["1", "2", "3", "4"]


def test_a_batch_of_begins_keeps_the_accounts_concurrency_limit(tmp_path: Path, database_url: str) -> None:
    """Five messages of one mailbox begun in one transaction: only as many start as the
    mailbox's concurrency allows; the others wait (Retry), as they would one by one."""
    from mailport.core.jobs import Retry

    runtime = outbox_runtime(tmp_path, database_url, send_account_concurrency=2)
    try:
        tenant = runtime.tenants.create(name="Bakkerij").tenant.id
        account = sink_account(runtime, tenant, 2525)
        ids = [runtime.outbox.submit(tenant, _invoice(account, n)).message.id for n in range(5)]
        results = runtime.outbox.send_job._begin_many("", [_BeginItem(i, account) for i in ids])
        started = [r for r in results if not isinstance(r, Retry)]
        assert len(started) == 2
        assert sum(isinstance(r, Retry) for r in results) == 3
        assert sorted(runtime.outbox.get(tenant, i).state for i in ids) == ["queued"] * 3 + ["sending"] * 2
    finally:
        runtime.close()


def test_a_worker_begins_a_mailboxs_sends_ahead_only_while_no_other_worker_holds_them(
        tmp_path: Path, database_url: str) -> None:
    """A worker may begin as many sends again as the mailbox's limit ahead of its free SMTP
    slots (its ``_Gate`` keeps the transactions within the limit), told that no other worker
    holds any; another worker's begin then counts all of them and is refused. On SQLite as on
    PostgreSQL."""
    from datetime import timedelta

    from mailport.core.jobs import Retry
    from mailport.services.send.job import _Attempt

    runtime = outbox_runtime(tmp_path, database_url, send_account_concurrency=2)
    try:
        _, account, ids = _one_mailbox(runtime, 6)
        runtime.queue.claim(worker_id="w1", now=runtime.clock.now(), lease=timedelta(minutes=1), limit=10)
        job = runtime.outbox.send_job
        assert job._ahead == 2
        results = job._begin_many("", [_BeginItem(i, account, "w1") for i in ids[:5]])
        begun = [r for r in results if isinstance(r, _Attempt)]
        assert len(begun) == 2 + job._ahead
        assert {a.others for a in begun} == {0}
        [refused] = job._begin_many("", [_BeginItem(ids[5], account, "w2")])
        assert isinstance(refused, Retry) and refused.error == "account.concurrency"
    finally:
        runtime.close()


def test_a_send_the_server_answered_frees_its_slot_but_counts_as_sent(tmp_path: Path, database_url: str) -> None:
    """Once the server answered, a send's slot is free while its outcome is being written (the
    message is still ``sending`` in the database): the next begin does not count it in flight,
    but counts it in the rate window, as if already recorded."""
    from datetime import timedelta

    from mailport.core.jobs import Retry

    def claim(runtime: Runtime) -> None:  # the jobs run: a sending message's job holds a slot
        runtime.queue.claim(worker_id="w1", now=runtime.clock.now(), lease=timedelta(minutes=1), limit=10)

    runtime = outbox_runtime(tmp_path, database_url, send_account_concurrency=1)
    try:
        _, account, (first, second) = _one_mailbox(runtime, 2)
        job = runtime.outbox.send_job
        claim(runtime)
        assert not isinstance(job._begin_many("", [_BeginItem(first, account)])[0], Retry)
        [refused] = job._begin_many("", [_BeginItem(second, account)])
        assert isinstance(refused, Retry) and refused.error == "account.concurrency"
        job._transmitted[first] = account  # answered; its outcome not written yet
        assert not isinstance(job._begin_many("", [_BeginItem(second, account)])[0], Retry)
    finally:
        runtime.close()
    runtime = outbox_runtime(tmp_path / "rate", database_url, send_account_concurrency=5,
                             send_account_rate_per_minute=1)
    try:
        _, account, (first, second) = _one_mailbox(runtime, 2)
        job = runtime.outbox.send_job
        claim(runtime)
        assert not isinstance(job._begin_many("", [_BeginItem(first, account)])[0], Retry)
        job._transmitted[first] = account
        [refused] = job._begin_many("", [_BeginItem(second, account)])
        assert isinstance(refused, Retry) and refused.error == "account.rate_limited"
    finally:
        runtime.close()


async def test_a_send_jobs_end_commits_with_its_outcome(tmp_path: Path, database_url: str) -> None:
    """The finish transaction also ends the job (done, or ready again at its retry time) while
    this worker still holds it; the worker then has nothing left to write (Settled)."""
    from datetime import timedelta

    from sqlalchemy import text

    from mailport.core.jobs import Done, Retry, Settled
    from mailport.core.outbox import RecipientResult
    from mailport.services.send.job import _Attempt

    runtime = outbox_runtime(tmp_path, database_url)
    try:
        tenant = runtime.tenants.create(name="Bakkerij").tenant.id
        account = sink_account(runtime, tenant, 2525)
        ids = [runtime.outbox.submit(tenant, _invoice(account, n)).message.id for n in range(2)]
        now = runtime.clock.now()
        claimed = runtime.queue.claim(worker_id="w1", now=now, lease=timedelta(minutes=1), limit=10,
                                      kinds=["send"])
        jobs = {str(c.payload["message_id"]): c for c in claimed}
        job = runtime.outbox.send_job
        attempts = [a for a in job._begin_many("", [_BeginItem(i, account) for i in ids]) if isinstance(a, _Attempt)]
        replies = [(250, "2.0.0 OK"), (451, "4.3.0 try later")]
        outcomes = [job._classify(a, [RecipientResult(recipient=r, smtp_code=code, text=text) for r in a.recipients])
                    for a, (code, text) in zip(attempts, replies, strict=True)]
        results = job._finish_many("", [(a, o, jobs[a.message_id]) for a, o in zip(attempts, outcomes, strict=True)])
        assert isinstance(results[0], Settled) and isinstance(results[0].result, Done)
        assert isinstance(results[1], Settled) and isinstance(results[1].result, Retry)
        with runtime.db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, state, locked_by FROM jobs WHERE kind = 'send'")).all()
        states = {int(r[0]): (r[1], r[2]) for r in rows}
        assert states[jobs[ids[0]].id] == ("done", None)
        assert states[jobs[ids[1]].id] == ("ready", None)
        assert [runtime.outbox.get(tenant, i).state for i in ids] == ["sent", "deferred"]
    finally:
        runtime.close()


async def test_a_finish_and_the_next_begin_share_one_transaction(tmp_path: Path, database_url: str) -> None:
    """A mailbox with one slot: the send the server answered is finished and the next one begun
    in one write (one transaction, results in the order asked); the begin counts the finished
    send as sent, not in flight, so it starts; a second begin beside them is still refused."""
    from datetime import timedelta

    from mailport.core.jobs import Done, Retry, Settled
    from mailport.core.outbox import RecipientResult
    from mailport.services.send.job import _Attempt

    runtime = outbox_runtime(tmp_path, database_url, send_account_concurrency=1)
    try:
        tenant, account, (first, second, third) = _one_mailbox(runtime, 3)
        claimed = runtime.queue.claim(worker_id="w1", now=runtime.clock.now(), lease=timedelta(minutes=1),
                                      limit=10, kinds=["send"])
        jobs = {str(c.payload["message_id"]): c for c in claimed}
        job = runtime.outbox.send_job
        [attempt] = job._begin_many("", [_BeginItem(first, account)])
        assert isinstance(attempt, _Attempt)
        outcome = job._classify(attempt, [RecipientResult(recipient=r, smtp_code=250, text="2.0.0 OK")
                                          for r in attempt.recipients])
        job._transmitted[first] = account  # answered: its slot is free, its outcome being written
        transactions = 0
        real_session = runtime.db.session

        def counting_session() -> Any:
            nonlocal transactions
            transactions += 1
            return real_session()

        runtime.db.session = counting_session  # type: ignore[method-assign]
        try:
            results = await job._begins._group.submit("", [  # one moment's writes, as the worker makes them
                ("begin", _BeginItem(second, account)), ("finish", (attempt, outcome, jobs[first])),
                ("begin", _BeginItem(third, account))])
        finally:
            runtime.db.session = real_session  # type: ignore[method-assign]
        assert transactions == 1
        begins = [results[0], results[2]]
        assert isinstance(results[1], Settled) and isinstance(results[1].result, Done)
        [begun] = [r for r in begins if isinstance(r, _Attempt)]  # one slot: one of the two starts
        [refused] = [r for r in begins if not isinstance(r, _Attempt)]
        assert isinstance(refused, Retry) and refused.error == "account.concurrency"
        assert runtime.outbox.get(tenant, first).state == "sent"
        assert runtime.outbox.get(tenant, begun.message_id).state == "sending"
        assert sorted(runtime.outbox.get(tenant, i).state for i in (second, third)) == ["queued", "sending"]
    finally:
        runtime.close()


def test_sqlite_writers_in_two_processes_take_turns_without_busy_errors(tmp_path: Path) -> None:
    """Two processes hammering one SQLite file with write transactions: every one commits
    (no 'database is locked', no lost write) because they queue on the turn file."""
    import subprocess
    import sys
    import textwrap

    from mailport.adapters.storage.database import Database

    url = f"sqlite:///{tmp_path / 'turns.db'}"
    db = Database(url)
    db.migrate()
    db.dispose()
    script = textwrap.dedent(f"""
        import sys
        from sqlalchemy import text
        from mailport.adapters.storage.database import Database
        db = Database({url!r})
        for n in range(300):
            with db.session() as s:
                s.execute(text("INSERT INTO tenants (id, name, created_at) VALUES (:i, :i, '2026-12-06')"),
                          {{"i": sys.argv[1] + str(n)}})
        db.dispose()
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, f"p{k}_"], stderr=subprocess.PIPE)
             for k in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()[-2000:]
    db = Database(url)
    with db.reading() as s:
        from sqlalchemy import text

        assert s.execute(text("SELECT count(*) FROM tenants")).scalar() == 600
    db.dispose()


def test_a_sqlite_transaction_holds_the_turn_for_other_processes(tmp_path: Path) -> None:
    """While one process is inside a transaction, the database's turn file is locked for every
    other process (which then waits in the kernel, not in SQLite's sleeping busy handler); it is
    free again the moment the transaction ends — or its process dies."""
    import fcntl
    import subprocess
    import sys
    import textwrap

    from mailport.adapters.storage.database import Database

    path = tmp_path / "turns.db"
    Database(f"sqlite:///{path}").dispose()
    script = textwrap.dedent(f"""
        import time
        from mailport.adapters.storage.database import Database
        db = Database({f"sqlite:///{path}"!r})
        with db.session() as s:
            print("inside", flush=True)
            time.sleep(1.5)
        print("outside", flush=True)
        time.sleep(30)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "inside"
        with open(str(path) + ".turns", "a") as turn:
            try:
                fcntl.flock(turn, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = False
            except BlockingIOError:
                held = True
            assert held, "another process could take the turn during a transaction"
            assert proc.stdout.readline().strip() == "outside"
            fcntl.flock(turn, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again
            fcntl.flock(turn, fcntl.LOCK_UN)
    finally:
        proc.kill()
        proc.wait()



async def test_a_begin_refused_for_another_workers_slot_waits_for_it(tmp_path: Path, database_url: str) -> None:
    """The mailbox's one slot is held by a send of another worker process: a begin with one of
    this process's slots waits in memory for it (not a Retry back to the queue), and starts once
    that send's outcome is recorded."""
    from datetime import timedelta

    from mailport.core.outbox import RecipientResult
    from mailport.services.send.job import _Attempt

    runtime = outbox_runtime(tmp_path, database_url, send_account_concurrency=1)
    try:
        tenant, account, (first, second) = _one_mailbox(runtime, 2)
        job = runtime.outbox.send_job
        runtime.queue.claim(worker_id="w1", now=runtime.clock.now(), lease=timedelta(minutes=1), limit=10)
        [elsewhere] = job._begin_many("", [_BeginItem(first, account)])  # as if begun by the other process
        assert isinstance(elsewhere, _Attempt)
        waiting = asyncio.create_task(job._begin(_BeginItem(second, account), wait=True))
        await asyncio.sleep(0.2)
        assert not waiting.done()  # refused at least once, and still waiting
        outcome = job._classify(elsewhere, [RecipientResult(recipient=r, smtp_code=250, text="2.0.0 OK")
                                            for r in elsewhere.recipients])
        await asyncio.to_thread(job._finish_many, "", [(elsewhere, outcome, None)])
        begun = await waiting
        assert isinstance(begun, _Attempt) and begun.message_id == second
        assert runtime.outbox.get(tenant, second).state == "sending"
    finally:
        runtime.close()
