"""The worker's PgQueuer driver: queries on one connection, LISTEN on another.

PgQueuer's own psycopg driver waits for notifications on the connection its queries use,
holding it up to a second at a time, so an idle worker's next dequeue waited behind it.
"""

from __future__ import annotations

import asyncio

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
