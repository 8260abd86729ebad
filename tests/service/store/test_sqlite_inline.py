"""SQLite statements on the event loop's thread (``store/_sqlite_inline.py``): no call waits
for SQLite's lock on the loop while another of this process's transactions holds it."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from muster.service.store import SqlStore
from muster.service.store._sqlite_inline import InlineConnection
from muster.service.store.tables import threads


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> SqlStore:
    store = SqlStore(f"sqlite:///{tmp_path / 'inline.db'}")
    await store.open()
    yield store  # type: ignore[misc]
    await store.close()


async def test_statements_run_on_the_loop_thread_with_no_helper_thread(sqlite_store: SqlStore) -> None:
    before = threading.active_count()
    thread = await sqlite_store.create_thread({"n": 1})
    assert (await sqlite_store.get_thread(thread.id)).metadata == {"n": 1}
    async with sqlite_store.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.driver_connection, InlineConnection)
    assert threading.active_count() == before, "aiosqlite would have started a thread per connection"


async def test_a_write_transaction_that_awaits_midway_makes_the_next_writer_queue(
    sqlite_store: SqlStore,
) -> None:
    """The first writer holds SQLite's lock across an await; the second, started meanwhile,
    must wait in asyncio (not spin in busy_timeout on the loop, which would stall the first
    for good and then fail with 'database is locked')."""
    midway = asyncio.Event()
    resume = asyncio.Event()

    async def slow_writer() -> None:
        async with sqlite_store._tx() as conn:
            await conn.execute(sa.update(threads).values(status="idle"))
            midway.set()
            await resume.wait()  # another task runs now, with the write lock held here

    first = asyncio.create_task(slow_writer())
    await midway.wait()
    second = asyncio.create_task(sqlite_store.create_thread({"second": True}))
    resume.set()  # set before the second writer runs: it is queued behind the first
    await asyncio.wait_for(first, timeout=5)
    created = await asyncio.wait_for(second, timeout=5)
    assert (await sqlite_store.get_thread(created.id)).metadata == {"second": True}


async def test_a_write_transaction_inside_another_is_refused_not_deadlocked(sqlite_store: SqlStore) -> None:
    async with sqlite_store._tx():
        with pytest.raises(RuntimeError, match="inside another"):
            async with sqlite_store._tx():
                pass
    assert (await sqlite_store.create_thread()).id  # the lock was released


async def test_another_process_holding_the_lock_delays_a_write_and_loses_nothing(
    sqlite_store: SqlStore, tmp_path: Path
) -> None:
    """Another connection (as ``muster keys create`` beside a running server would) holds
    the write lock; the store's write waits for it in busy_timeout and then succeeds."""
    other = sqlite3.connect(tmp_path / "inline.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, other.execute, ("COMMIT",))
    release.start()
    try:
        thread = await sqlite_store.create_thread({"after": "the lock"})
    finally:
        release.join()
        other.close()
    assert (await sqlite_store.get_thread(thread.id)).metadata == {"after": "the lock"}
