"""A PostgreSQL store given a ``notify_channel`` announces its writes inside their transactions."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from store_helpers import COMPONENT, text, turn

from muster.service.exceptions import ConflictError
from muster.service.models import RunStatus, Strategy
from muster.service.notify.postgres import PostgresNotifier
from muster.service.store import SqlStore, upgrade_database
from muster.service.store.base import events_from_notices, result_from_notice

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pair(pg_url: str, pg_schema: str) -> AsyncIterator[tuple[SqlStore, PostgresNotifier]]:
    await upgrade_database(pg_url, pg_schema)
    store = SqlStore(pg_url, schema=pg_schema)
    await store.open()
    listener = PostgresNotifier(pg_url, f"muster_test_{uuid.uuid4().hex[:8]}")
    await listener.start()
    store.notify_channel = listener.channel
    yield store, listener
    await listener.close()
    await store.close()


async def test_turns_ends_and_releases_are_announced_at_commit(
    pair: tuple[SqlStore, PostgresNotifier],
) -> None:
    store, listener = pair
    spec = await store.put_spec("team", COMPONENT)
    threads = [await store.create_thread() for _ in range(3)]  # a thread's runs are claimed in turn
    runs = [await store.create_run(t.id, spec, [text("go", "user")], Strategy.ENQUEUE) for t in threads]
    first, second, third = (r.id for r in runs)
    for run_id in (first, second, third):
        assert await store.claim_run(run_id, "w1") is not None
    with listener.subscribe(first) as a, listener.subscribe(second) as b, listener.subscribe(third) as c:
        for sub in (a, b, c):
            sub.clear()
        await store.record_turn(turn(first, 0, "x"))  # the pipelined write
        assert await a.wait(10) and not a.ended
        a.clear()
        await store.finish_run(first, RunStatus.SUCCEEDED, turn=turn(first, 1, "y", finished=True))
        assert await a.wait(10) and a.ended
        await store.finish_run(second, RunStatus.CANCELLED)  # the portable end, no turn
        assert await b.wait(10) and b.ended
        assert await store.release_run(third, "w1")
        assert await c.wait(10) and not c.ended


async def test_writes_carry_their_events_and_an_end_its_result_when_they_fit(
    pair: tuple[SqlStore, PostgresNotifier],
) -> None:
    store, listener = pair
    spec = await store.put_spec("team", COMPONENT)
    small, large = [
        await store.create_run((await store.create_thread()).id, spec, [text("go", "user")], Strategy.ENQUEUE)
        for _ in range(2)
    ]
    for run in (small, large):
        assert await store.claim_run(run.id, "w1") is not None
    with listener.subscribe(small.id) as a, listener.subscribe(large.id) as b:
        await store.record_turn(turn(small.id, 0, "x"))
        assert await a.wait(10) and not a.ended
        carried = events_from_notices(a.clear(), 0)
        assert carried == await store.read_events(small.id)  # what a stream would have read
        await store.finish_run(small.id, RunStatus.SUCCEEDED, turn=turn(small.id, 1, "y", finished=True))
        assert await a.wait(10) and a.ended
        notices = a.clear()
        assert events_from_notices(notices, 1) == await store.read_events(small.id, after=1)
        assert events_from_notices(notices, 0) is None  # event 1 is not in them: a gap
        result = result_from_notice(notices[-1])
        assert result == await store.run_result(small.id)  # what a waiter would have read
        assert result is not None and result[0].status is RunStatus.SUCCEEDED
        # Over 7,000 bytes: the events are left out, then the result too; readers read the store.
        await store.record_turn(turn(large.id, 0, "z" * 7500))
        assert await b.wait(10)
        assert b.clear() == [""]
        await store.finish_run(
            large.id, RunStatus.SUCCEEDED, turn=turn(large.id, 1, "z" * 8000, finished=True)
        )
        assert await b.wait(10) and b.ended
        assert b.clear() == [""]
    # Events too large beside a small result: the result is kept, the events left out.
    run = await store.create_run(
        (await store.create_thread()).id, spec, [text("go", "user")], Strategy.ENQUEUE
    )
    assert await store.claim_run(run.id, "w1") is not None
    with listener.subscribe(run.id) as c:
        big = turn(run.id, 0, "y", finished=True, events=[("timing", {"spans": "q" * 7500})])
        await store.finish_run(run.id, RunStatus.SUCCEEDED, turn=big)
        assert await c.wait(10) and c.ended
        notices = c.clear()
        assert events_from_notices(notices, 0) is None
        assert result_from_notice(notices[-1]) == await store.run_result(run.id)


async def test_a_refused_write_announces_nothing(pair: tuple[SqlStore, PostgresNotifier]) -> None:
    store, listener = pair
    spec = await store.put_spec("team", COMPONENT)
    thread = await store.create_thread()
    run = await store.create_run(thread.id, spec, [text("go", "user")], Strategy.ENQUEUE)
    with listener.subscribe(run.id) as sub:
        sub.clear()
        with pytest.raises(ConflictError, match="not running"):
            await store.record_turn(turn(run.id, 0, "x"))  # pending: refused, rolled back
        assert not await sub.wait(0.5)


async def test_the_hot_path_survives_a_column_added_under_it(
    pair: tuple[SqlStore, PostgresNotifier], pg_url: str, pg_schema: str
) -> None:
    # psycopg prepares a statement after a few uses; a prepared ``SELECT *`` would fail with
    # "cached plan must not change result type" once a migration adds a column.
    import psycopg

    store, _ = pair
    spec = await store.put_spec("team", COMPONENT)
    thread = await store.create_thread()
    run = await store.create_run(thread.id, spec, [text("go", "user")], Strategy.ENQUEUE)
    for _ in range(8):
        assert (await store.get_run(run.id)).id == run.id
    with psycopg.connect(pg_url, autocommit=True, options=f"-c search_path={pg_schema}") as conn:
        conn.execute("ALTER TABLE runs ADD COLUMN added_later integer")
    for _ in range(3):
        assert (await store.get_run(run.id)).status == RunStatus.PENDING
    claimed = await store.claim_run_start(run.id, "w1")
    assert claimed is not None and claimed[0].status == RunStatus.RUNNING
