"""Specs (versioned by body) and threads, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC
from typing import Any

import pytest
from store_helpers import COMPONENT

from muster.service.exceptions import InvalidRequestError, NotFoundError
from muster.service.models import Strategy, ThreadStatus
from muster.service.store import SqlStore

TASK = [{"type": "TextMessage", "source": "user", "content": "go"}]


async def test_put_spec_versions_only_a_different_body(store: SqlStore) -> None:
    first = await store.put_spec("team", {"provider": "x", "config": {"a": 1, "b": 2}})
    same = await store.put_spec("team", {"config": {"b": 2, "a": 1}, "provider": "x"})  # key order ignored
    second = await store.put_spec("team", {"provider": "x", "config": {"a": 2}})
    assert (first.version, same.version, second.version) == (1, 1, 2)
    assert same.created_at == first.created_at
    assert (await store.get_spec("team")).component == {"provider": "x", "config": {"a": 2}}
    assert (await store.get_spec("team", 1)).component["config"] == {"a": 1, "b": 2}
    assert first.created_at.tzinfo is not None and first.created_at.utcoffset() == UTC.utcoffset(None)


async def test_list_specs_gives_the_latest_version_of_each_name(store: SqlStore) -> None:
    await store.put_spec("b", {"v": 1})
    await store.put_spec("a", {"v": 1})
    await store.put_spec("b", {"v": 2})
    listed = await store.list_specs()
    assert [(s.name, s.version, s.component) for s in listed] == [("a", 1, {"v": 1}), ("b", 2, {"v": 2})]


async def test_concurrent_puts_of_one_name_get_distinct_versions(store: SqlStore) -> None:
    records = await asyncio.gather(*(store.put_spec("team", {"n": i}) for i in range(6)))
    assert sorted(r.version for r in records) == [1, 2, 3, 4, 5, 6]


async def test_unknown_spec_or_version_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFoundError, match="spec 'nope' does not exist"):
        await store.get_spec("nope")
    await store.put_spec("team", {"v": 1})
    with pytest.raises(NotFoundError, match="team@7"):
        await store.get_spec("team", 7)


async def test_a_spec_name_is_checked(store: SqlStore) -> None:
    with pytest.raises(InvalidRequestError) as info:
        await store.put_spec("", {"v": 1})
    assert info.value.field == "name"
    assert await store.list_specs() == []


async def test_thread_round_trip(store: SqlStore) -> None:
    created = await store.create_thread({"user": "ada", "tags": ["x"]})
    loaded = await store.get_thread(created.id)
    assert loaded == created
    assert loaded.status == ThreadStatus.IDLE and len(loaded.id) == 32
    assert loaded.created_at.tzinfo is not None
    assert await store.thread_state(created.id) is None
    assert await store.list_messages(created.id) == []
    assert await store.list_runs(created.id) == []


@pytest.mark.parametrize(
    "call",
    ["get_thread", "thread_state", "list_messages", "list_runs"],
)
async def test_unknown_thread_is_not_found(store: SqlStore, call: str) -> None:
    with pytest.raises(NotFoundError, match="thread 'missing' does not exist"):
        await getattr(store, call)("missing")


@pytest.mark.parametrize(("after", "limit", "field"), [(-1, 10, "after"), (0, 0, "limit"), (0, -5, "limit")])
async def test_pages_are_checked(store: SqlStore, after: int, limit: int, field: str) -> None:
    thread = await store.create_thread()
    with pytest.raises(InvalidRequestError) as info:
        await store.list_messages(thread.id, after=after, limit=limit)
    assert info.value.field == field
    with pytest.raises(InvalidRequestError):
        await store.read_events("any", after=after, limit=limit)


async def test_a_run_on_a_known_spec_takes_the_latest_version_another_replica_stored(
    store: SqlStore, database: Any
) -> None:
    first = await store.put_spec("team", COMPONENT)
    assert store.known_spec("team") == first and store.known_spec("other") is None
    replica = SqlStore(database.url, schema=database.schema)  # a second API replica
    await replica.open()
    try:
        newer = await replica.put_spec("team", {**COMPONENT, "description": "v2"})
    finally:
        await replica.close()
    assert newer.version == first.version + 1
    assert store.known_spec("team") == first  # this process has not seen it
    thread = await store.create_thread()
    run = await store.create_run(thread.id, first, TASK, Strategy.REJECT, latest=True)
    assert run.spec_version == newer.version  # resolved as the run was created
    pinned = await store.create_run(thread.id, first, TASK, Strategy.ENQUEUE)
    assert pinned.spec_version == first.version  # without ``latest``, the version given
