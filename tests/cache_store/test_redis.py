"""RedisStore against the real server on 127.0.0.1:6379 (marked ``redis``)."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
import redis.asyncio
from redis.backoff import NoBackoff
from redis.retry import Retry

from muster.cache_store import CacheStore
from muster.cache_store.redis import RedisStore
from muster.models import CreateResult, RequestUsage, UserMessage
from muster.models.cache import ChatCompletionCache
from muster.models.replay import ReplayChatCompletionClient

pytestmark = pytest.mark.redis


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    conn = redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2)
    try:
        conn.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis server on 127.0.0.1:6379")
    yield conn
    conn.close()


@pytest.fixture
async def async_client(client: redis.Redis) -> AsyncIterator[redis.asyncio.Redis]:
    conn = redis.asyncio.Redis(host="127.0.0.1", port=6379, socket_timeout=2)
    yield conn
    await conn.aclose()


def _dead_sync_client() -> redis.Redis:
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    return redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))


@pytest.fixture
def prefix(client: redis.Redis) -> Iterator[str]:
    value = f"muster-test:{uuid.uuid4().hex}:"
    yield value
    keys = list(client.scan_iter(match=value + "*"))
    if keys:
        client.delete(*keys)


def test_round_trip_as_json(client: redis.Redis, prefix: str) -> None:
    store: RedisStore[Any] = RedisStore(client, key_prefix=prefix)
    result = CreateResult(finish_reason="stop", content="x", usage=RequestUsage(1, 2), cached=False)
    store.set("k", ["chunk", result])
    assert store.get("k") == ["chunk", result.model_dump(mode="json")]
    assert client.get(prefix + "k") == b'["chunk",' + result.model_dump_json().encode() + b"]"
    assert store.get("absent", "d") == "d"
    assert client.ttl(prefix + "k") == -1  # no expiry by default


def test_ttl_is_set_on_the_server(client: redis.Redis, prefix: str) -> None:
    store: RedisStore[Any] = RedisStore(client, ttl=120, key_prefix=prefix)
    store.set("k", 1)
    assert 119_000 <= client.pttl(prefix + "k") <= 120_000
    fractional: RedisStore[Any] = RedisStore(client, ttl=timedelta(milliseconds=2500), key_prefix=prefix)
    fractional.set("f", 1)
    assert 2_000 < client.pttl(prefix + "f") <= 2_500


def test_rejects_non_positive_ttl(client: redis.Redis) -> None:
    with pytest.raises(ValueError, match="ttl"):
        RedisStore(client, ttl=0)


def test_corrupt_entry_is_a_logged_miss(
    client: redis.Redis, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    client.set(prefix + "bad", b"\x80\x04not json")
    store: RedisStore[Any] = RedisStore(client, key_prefix=prefix)
    with caplog.at_level(logging.WARNING, logger="muster.cache_store"):
        assert store.get("bad", "miss") == "miss"
    assert "corrupt" in caplog.text


def test_decode_responses_client_works(prefix: str) -> None:
    conn = redis.Redis(host="127.0.0.1", port=6379, decode_responses=True)
    try:
        store: RedisStore[Any] = RedisStore(conn, key_prefix=prefix)
        store.set("k", {"a": 1})
        assert store.get("k") == {"a": 1}
    finally:
        conn.delete(prefix + "k")
        conn.close()


def test_unreachable_server_is_a_logged_miss(caplog: pytest.LogCaptureFixture) -> None:
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    store: RedisStore[Any] = RedisStore(dead)
    with caplog.at_level(logging.WARNING, logger="muster.cache_store"):
        assert store.get("k") is None
        store.set("k", 1)
    assert caplog.text.count("failed") == 2


def test_spec_round_trip(client: redis.Redis, prefix: str) -> None:
    store: RedisStore[Any] = RedisStore(client, ttl=30, key_prefix=prefix)
    spec = store.dump_component()
    assert spec.config["ttl"] == 30 and spec.config["key_prefix"] == prefix
    assert spec.config["host"] == "127.0.0.1"
    loaded = CacheStore.load_component(spec)
    assert isinstance(loaded, RedisStore)
    loaded.set("k", "v")
    assert store.get("k") == "v"
    loaded.cache.close()


async def test_chat_cache_on_redis_survives_a_new_wrapper(client: redis.Redis, prefix: str) -> None:
    messages = [UserMessage(content="cache me", source="u")]
    first = ChatCompletionCache(
        ReplayChatCompletionClient(["stored answer"]), RedisStore(client, key_prefix=prefix)
    )
    await first.create(messages)
    second = ChatCompletionCache(ReplayChatCompletionClient([]), RedisStore(client, key_prefix=prefix))
    hit = await second.create(messages)
    assert hit.cached is True and hit.content == "stored answer"


async def test_async_methods_use_the_async_client(
    client: redis.Redis, async_client: redis.asyncio.Redis, prefix: str
) -> None:
    # The sync client is dead: every success below went through the async one.
    store: RedisStore[Any] = RedisStore(
        _dead_sync_client(), ttl=120, key_prefix=prefix, async_redis_instance=async_client
    )
    result = CreateResult(finish_reason="stop", content="x", usage=RequestUsage(1, 2), cached=False)
    await store.aset("k", ["chunk", result])
    assert await store.aget("k") == ["chunk", result.model_dump(mode="json")]
    assert await store.aget("absent", "d") == "d"
    # Same bytes and expiry as the sync path writes, so sync and async users share entries.
    assert client.get(prefix + "k") == b'["chunk",' + result.model_dump_json().encode() + b"]"
    assert 119_000 <= client.pttl(prefix + "k") <= 120_000
    client.set(prefix + "bad", b"\x80not json")
    assert await store.aget("bad", "miss") == "miss"


async def test_async_methods_without_an_async_client_run_the_sync_one_in_a_thread(
    client: redis.Redis, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store: RedisStore[Any] = RedisStore(client, key_prefix=prefix)
    threads: list[int] = []
    sync_get = client.get

    def get(name: str) -> Any:
        threads.append(threading.get_ident())
        return sync_get(name)

    monkeypatch.setattr(client, "get", get)
    await store.aset("k", {"a": 1})
    assert await store.aget("k") == {"a": 1}
    assert len(threads) == 1 and threads[0] != threading.get_ident()


async def test_async_failures_are_logged_misses(caplog: pytest.LogCaptureFixture) -> None:
    dead = redis.asyncio.Redis(
        host="127.0.0.1", port=1, socket_connect_timeout=0.5, retry=redis.asyncio.retry.Retry(NoBackoff(), 0)
    )
    store: RedisStore[Any] = RedisStore(_dead_sync_client(), async_redis_instance=dead)
    try:
        with caplog.at_level(logging.WARNING, logger="muster.cache_store"):
            assert await store.aget("k") is None
            await store.aset("k", 1)
    finally:
        await dead.aclose()
    messages = [record.getMessage() for record in caplog.records if record.name == "muster.cache_store.redis"]
    assert len(messages) == 2
    assert "read of 'k' failed" in messages[0] and "write of 'k' failed" in messages[1]


async def test_chat_cache_uses_the_async_client(
    client: redis.Redis, async_client: redis.asyncio.Redis, prefix: str
) -> None:
    messages = [UserMessage(content="cache me", source="u")]

    def store() -> RedisStore[Any]:
        return RedisStore(_dead_sync_client(), key_prefix=prefix, async_redis_instance=async_client)

    first = ChatCompletionCache(ReplayChatCompletionClient(["stored answer"]), store())
    assert (await first.create(messages)).cached is False
    second = ChatCompletionCache(ReplayChatCompletionClient([]), store())
    hit = await second.create(messages)
    assert hit.cached is True and hit.content == "stored answer"
