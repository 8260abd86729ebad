"""Claims of one loop tick go to PostgreSQL as one statement, each caller getting its own answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from store_helpers import COMPONENT, text

from muster.service.models import RunStatus, SpecRecord, Strategy
from muster.service.store import SqlStore, upgrade_database
from muster.service.store._claims import ClaimBatcher
from muster.service.store._rows import now

TASK = [text("go", "user")]


class Counting:
    """The store's hot-path connection, counting the statements sent through it."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.calls = 0

    @asynccontextmanager
    async def driver(self) -> AsyncIterator[Any]:
        self.calls += 1
        async with self.store._driver() as pg:
            yield pg


pytestmark = pytest.mark.postgres  # claims are batched on PostgreSQL only


@pytest.fixture
async def pg_only(pg_url: str, pg_schema: str) -> AsyncIterator[SqlStore]:
    await upgrade_database(pg_url, pg_schema)
    store = SqlStore(pg_url, schema=pg_schema)
    await store.open()
    yield store
    await store.close()


@pytest.fixture
async def spec(pg_only: SqlStore) -> SpecRecord:
    return await pg_only.put_spec("team", COMPONENT)


async def test_the_claims_of_one_tick_are_one_statement(pg_only: SqlStore, spec: SpecRecord) -> None:
    store = pg_only
    runs = [
        await store.create_run((await store.create_thread()).id, spec, TASK, Strategy.REJECT)
        for _ in range(5)
    ]
    counting = Counting(store)
    batcher = ClaimBatcher(counting.driver, now)
    rows = await asyncio.gather(*(batcher.claim(run.id, "w1", None) for run in runs))
    assert counting.calls == 1
    assert [row["id"] if row else None for row in rows] == [run.id for run in runs]
    assert all(row is not None and row["start_previous"] is None for row in rows)
    for run in runs:
        claimed = await store.get_run(run.id)
        assert claimed.status is RunStatus.RUNNING and claimed.worker == "w1"
    # Claimed already: a second tick's claims find nothing to take.
    assert await asyncio.gather(*(batcher.claim(run.id, "w1", None) for run in runs)) == [None] * 5
    assert counting.calls == 2


async def test_a_run_asked_for_twice_in_a_tick_is_claimed_once(pg_only: SqlStore, spec: SpecRecord) -> None:
    store = pg_only
    run = await store.create_run((await store.create_thread()).id, spec, TASK, Strategy.REJECT)
    batcher = ClaimBatcher(store._driver, now)
    first, second = await asyncio.gather(batcher.claim(run.id, "w1", None), batcher.claim(run.id, "w1", None))
    assert first is not None and first["id"] == run.id
    assert second is None


async def test_a_run_that_must_wait_is_left_while_the_others_are_claimed(
    pg_only: SqlStore, spec: SpecRecord
) -> None:
    store = pg_only
    busy = await store.create_thread()
    ahead = await store.create_run(busy.id, spec, TASK, Strategy.ENQUEUE)
    behind = await store.create_run(busy.id, spec, TASK, Strategy.ENQUEUE)
    other = await store.create_run((await store.create_thread()).id, spec, TASK, Strategy.ENQUEUE)
    answers = await asyncio.gather(*(store.claim_run_start(r.id, "w1") for r in (behind, ahead, other)))
    assert [a[0].id if a else None for a in answers] == [None, ahead.id, other.id]
    assert (await store.get_run(behind.id)).status is RunStatus.PENDING


async def test_a_failed_statement_fails_every_claim_in_it(pg_only: SqlStore, spec: SpecRecord) -> None:
    store = pg_only
    runs = [
        await store.create_run((await store.create_thread()).id, spec, TASK, Strategy.REJECT)
        for _ in range(3)
    ]

    @asynccontextmanager
    async def broken() -> AsyncIterator[Any]:
        raise ConnectionError("the database went away")
        yield  # pragma: no cover

    batcher = ClaimBatcher(broken, now)
    answers = await asyncio.gather(*(batcher.claim(r.id, "w1", None) for r in runs), return_exceptions=True)
    assert all(isinstance(a, ConnectionError) for a in answers)
    for run in runs:
        assert (await store.get_run(run.id)).status is RunStatus.PENDING
