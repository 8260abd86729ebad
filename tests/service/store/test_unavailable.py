"""A database that cannot be reached: every call raises StoreUnavailableError, never a driver error."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest

from muster.service.exceptions import NotFoundError, StoreUnavailableError
from muster.service.models import SpecRecord, Strategy
from muster.service.store import SqlStore, TurnWrite, upgrade_database
from muster.service.store._rows import now


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    yield port


@pytest.fixture
async def dead_store(closed_port: int) -> AsyncIterator[SqlStore]:
    store = SqlStore(f"postgresql://postgres@127.0.0.1:{closed_port}/test")
    yield store
    await store.close()


async def test_open_and_ping_raise_store_unavailable(dead_store: SqlStore) -> None:
    with pytest.raises(StoreUnavailableError, match="database is unavailable") as info:
        await dead_store.open()
    assert info.value.status == 503
    assert "Traceback" not in str(info.value)
    with pytest.raises(StoreUnavailableError):
        await dead_store.ping()


@pytest.mark.parametrize(
    ("call", "args"),
    [
        ("create_thread", ()),
        ("get_run", ("r",)),
        ("claim_run", ("r", "w")),
        ("record_turn", (TurnWrite(run_id="r", turn=0, messages=[], state={}),)),
        (
            "create_run",
            ("t", SpecRecord(name="s", version=1, component={}, created_at=now()), None, Strategy.REJECT),
        ),
        ("verify_api_key", ("mk_secret",)),
        ("create_api_key", ("name",)),
        ("prune", (now(),)),
        ("put_spec", ("s", {})),
        ("list_specs", ()),
    ],
)
async def test_every_call_raises_store_unavailable(
    dead_store: SqlStore, call: str, args: tuple[object, ...]
) -> None:
    with pytest.raises(StoreUnavailableError):
        await getattr(dead_store, call)(*args)


async def test_upgrade_database_raises_store_unavailable(closed_port: int) -> None:
    with pytest.raises(StoreUnavailableError):
        await upgrade_database(f"postgresql://postgres@127.0.0.1:{closed_port}/test", "muster")


@pytest.mark.postgres
async def test_a_dropped_connection_is_replaced_by_ping(pg_url: str, pg_schema: str) -> None:
    await upgrade_database(pg_url, pg_schema)
    store = SqlStore(pg_url, schema=pg_schema)
    await store.open()
    try:
        async with store.engine.connect() as conn:
            pid = (await conn.exec_driver_sql("select pg_backend_pid()")).scalar()
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("select pg_terminate_backend(%s)", (pid,))
        await store.ping()  # the dead pooled connection is discarded; a new one answers
        thread = await store.create_thread()
        assert (await store.get_thread(thread.id)).id == thread.id
    finally:
        await store.close()


@pytest.mark.postgres
async def test_a_connection_dropped_under_the_psycopg_hot_path_is_replaced(
    pg_url: str, pg_schema: str, caplog: pytest.LogCaptureFixture
) -> None:
    await upgrade_database(pg_url, pg_schema)
    store = SqlStore(pg_url, schema=pg_schema, pool_size=1, max_overflow=0)
    await store.open()
    try:
        thread = await store.create_thread()
        async with store.engine.connect() as conn:
            pid = (await conn.exec_driver_sql("select pg_backend_pid()")).scalar()
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("select pg_terminate_backend(%s)", (pid,))
        # The statement that meets the dead connection (sent through psycopg directly, not
        # through SQLAlchemy) may fail, with a typed 503, once...
        try:
            await store.get_run("missing")
        except (StoreUnavailableError, NotFoundError):
            pass
        for _ in range(3):  # ...then the pool hands out a live connection again
            with pytest.raises(NotFoundError):
                await store.get_run("missing")
            assert (await store.list_runs(thread.id)) == []
        # The dead connection was dropped, not reset: no pool error (a stack trace) logged.
        assert not [r for r in caplog.records if r.name.startswith("sqlalchemy.pool")]
    finally:
        await store.close()


async def test_idle_hot_connections_are_all_dropped_when_one_is_found_dead(
    pg_url: str, pg_schema: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The hot path keeps a few connections out of the pool between calls (``_driver``): when
    the server went away under them (every backend terminated, as in a restart), the first
    call to meet a dead one fails with a typed 503 at most, and takes the others with it."""
    await upgrade_database(pg_url, pg_schema)
    store = SqlStore(pg_url, schema=pg_schema, pool_size=3, max_overflow=3)
    await store.open()
    try:
        missing = [store.get_run("missing") for _ in range(3)]  # three calls at once: three connections
        assert all(
            isinstance(e, NotFoundError) for e in await asyncio.gather(*missing, return_exceptions=True)
        )
        idle = [held.pg.info.backend_pid for held in store._idle]
        assert len(idle) == 3, "the hot path keeps its connections for the next call"
        with psycopg.connect(pg_url, autocommit=True) as admin:
            for pid in idle:
                admin.execute("select pg_terminate_backend(%s)", (pid,))
        with contextlib.suppress(StoreUnavailableError, NotFoundError):
            await store.get_run("missing")
        for _ in range(3):  # no second failure: the other dead ones were dropped with it
            with pytest.raises(NotFoundError):
                await store.get_run("missing")
        live = {held.pg.info.backend_pid for held in store._idle}
        assert live and not live & set(idle)
        assert not [r for r in caplog.records if r.name.startswith("sqlalchemy.pool")]
    finally:
        await store.close()


async def test_the_hot_path_under_load_with_overflow_connections_never_stalls(
    pg_url: str, pg_schema: str
) -> None:
    """A hundred runs' store calls in flight (the service benchmark's store floor: create, claim,
    record, turn, end with NOTIFY, result) on a pool whose overflow connections open and
    close all the time: every run completes. Connections given back in the caller's task
    once left other connections' results unread here, until every connection of the pool
    was held by a call waiting for a result PostgreSQL had already sent."""
    from benchmarks.service.store_floor import RunCalls

    await upgrade_database(pg_url, pg_schema)
    store = SqlStore(pg_url, schema=pg_schema, pool_size=20, max_overflow=20)
    store.notify_channel = "muster_test_stall"
    await store.open()
    try:
        calls = await RunCalls.prepare(store)

        async def lane(i: int) -> int:
            for _ in range(12):
                await calls.run(f"lane:{i}")
            return 12

        finished = await asyncio.wait_for(asyncio.gather(*(lane(i) for i in range(100))), timeout=120)
        assert sum(finished) == 100 * 12
    finally:
        await store.close()
