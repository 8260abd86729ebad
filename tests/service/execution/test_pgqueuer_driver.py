"""The worker's PgQueuer driver and queue manager.

PgQueuer's own psycopg driver waits for notifications on the connection its queries use,
holding it up to a second at a time, so an idle worker's next dequeue waited behind it:
queries go on one connection, LISTEN on another. And its queue manager's wake-ups, left
unbounded, grew with every job (``execution/_wakeups.py``).
"""

from __future__ import annotations

import asyncio
import gc
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from muster.service.execution._pgqueuer import JobQueue, ListeningDriver
from muster.service.settings import ServiceSettings

pytestmark = pytest.mark.postgres


async def _channels(conn: psycopg.AsyncConnection) -> list[str]:
    cursor = await conn.execute("SELECT pg_listening_channels()")
    return [row[0] for row in await cursor.fetchall()]


async def test_queries_and_listening_use_their_own_connections(pg_url: str, pg_schema: str) -> None:
    queue = JobQueue(ServiceSettings(database={"url": pg_url, "schema": pg_schema}))
    received: asyncio.Queue[str] = asyncio.Queue()
    async with await queue.connect() as conn, await queue.connect() as listening:
        driver = ListeningDriver(conn, listening)
        async with driver:
            await driver.add_listener(queue.db.channel, lambda payload: received.put_nowait(str(payload)))
            assert await _channels(listening) == [queue.db.channel]
            assert await _channels(conn) == []  # the query connection is never the one waiting
            assert await driver.fetch("SELECT 1 AS one") == [{"one": 1}]
            await driver.notify(queue.db.channel, "hello")
            assert await asyncio.wait_for(received.get(), 10) == "hello"
        assert driver.shutdown.is_set()


async def test_the_channel_is_named_after_the_schema(pg_url: str, pg_schema: str) -> None:
    one = JobQueue(ServiceSettings(database={"url": pg_url, "schema": pg_schema}))
    other = JobQueue(ServiceSettings(database={"url": pg_url, "schema": f"{pg_schema}_b"}))
    assert one.db.channel != other.db.channel  # two services in one database wake only their own workers
    assert len(JobQueue(ServiceSettings(database={"url": pg_url, "schema": "s" * 63})).db.channel) <= 63


async def _listening(manager: Any) -> None:
    """Return once the manager hears its channel (its own health probe comes back)."""
    from pgqueuer.errors import FailingListenerError

    for _ in range(20):
        try:
            await manager.listener_healthy(timeout=timedelta(seconds=0.5))
            return
        except FailingListenerError:  # not listening yet: the probe went unheard
            continue
    raise AssertionError("the queue manager never started listening")


async def test_a_queue_managers_wake_ups_stay_bounded_and_still_wake_it(pg_url: str, pg_schema: str) -> None:
    from pgqueuer.core import listeners

    queue = JobQueue(ServiceSettings(database={"url": pg_url, "schema": pg_schema}))
    await queue.ensure_schema()
    seen: list[str] = []
    woken = asyncio.Event()
    async with (
        await queue.connect() as conn,
        await queue.connect() as listening,
        await queue.connect() as feeder,
    ):
        manager = queue.queue_manager(conn, listening)

        async def job(item: Any) -> None:
            seen.append(bytes(item.payload).decode())
            woken.set()

        manager.entrypoint(queue.entrypoint)(job)
        running = asyncio.create_task(manager.run(dequeue_timeout=timedelta(seconds=30), batch_size=2))
        await _listening(manager)
        # Table changes that bring no work (another worker's acknowledgements, a job queued
        # twice), each its own transaction and notification, faster than one manager takes them.
        for _ in range(200):
            await feeder.execute(f"DELETE FROM {queue.db.qualified.queue_table} WHERE false")
        await manager.listener_healthy()  # every notification sent before the probe has arrived
        waiting = [q.qsize() for q in gc.get_objects() if isinstance(q, listeners.PGNoticeEventListener)]
        await queue.enqueue(feeder, ["run-1"])  # and a job still wakes it at once (not after 30 s)
        await asyncio.wait_for(woken.wait(), 10)
        manager.shutdown.set()
        await asyncio.wait_for(running, 30)
    assert seen == ["run-1"]
    assert waiting  # the manager's queue was found...
    assert max(waiting) <= 1  # ...holding one wake-up at most (PgQueuer's own kept a hundred or more)


async def test_one_probe_answers_how_long_an_idle_manager_may_wait(pg_url: str, pg_schema: str) -> None:
    queue = JobQueue(ServiceSettings(database={"url": pg_url, "schema": pg_schema}))
    await queue.ensure_schema()
    table = queue.db.qualified.queue_table
    timeout = timedelta(seconds=30)
    async with await queue.connect() as conn, await queue.connect() as feeder:
        manager = queue.queue_manager(conn, conn)

        async def job(item: Any) -> None:  # pragma: no cover - the manager never runs here
            raise AssertionError

        manager.entrypoint(queue.entrypoint)(job)
        probes: list[str] = []
        real_fetch = manager.queries.driver.fetch

        async def counted(query: str, *args: object) -> list[dict[str, object]]:
            probes.append(query)
            return await real_fetch(query, *args)

        manager.queries.driver.fetch = counted  # type: ignore[method-assign]
        wait = manager._effective_dequeue_timeout
        assert await wait(timeout) == timeout  # nothing queued: sleep until woken
        await queue.enqueue(feeder, ["run-due"])
        assert await wait(timeout) == manager.min_dequeue_poll_interval  # work it has not taken
        await feeder.execute(f"UPDATE {table} SET execute_after = now() + interval '7 seconds'")
        eta = await wait(timeout)
        assert timedelta(seconds=5) < eta <= timedelta(seconds=7)  # until the deferred job is due
        assert await wait(timedelta(seconds=3)) == timedelta(seconds=3)  # due after the wait anyway
        assert len(probes) == 4  # one statement per answer (PgQueuer's own took up to three)
