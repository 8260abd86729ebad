"""LRUStore: bounded size, recency on read, spec round trip."""

from __future__ import annotations

import threading

import pytest

from muster.cache_store import CacheStore, InMemoryStore, LRUStore
from muster.core.exceptions import ComponentLoadError


def test_evicts_least_recently_used() -> None:
    store: LRUStore[int] = LRUStore(max_size=2)
    store.set("a", 1)
    store.set("b", 2)
    assert store.get("a") == 1  # "a" is now the most recent
    store.set("c", 3)
    assert store.get("b") is None
    assert store.get("a") == 1
    assert store.get("c") == 3
    assert len(store) == 2


def test_overwrite_refreshes_and_does_not_grow() -> None:
    store: LRUStore[int] = LRUStore(max_size=2)
    store.set("a", 1)
    store.set("b", 2)
    store.set("a", 10)
    store.set("c", 3)
    assert "b" not in store
    assert store.get("a") == 10


def test_default_delete_clear() -> None:
    store: LRUStore[str] = LRUStore()
    assert store.get("missing", "fallback") == "fallback"
    store.set("k", "v")
    store.delete("k")
    store.delete("k")
    assert store.get("k") is None
    store.set("k", "v")
    store.clear()
    assert len(store) == 0


def test_rejects_non_positive_size() -> None:
    with pytest.raises(ValueError, match="max_size"):
        LRUStore(max_size=0)
    with pytest.raises(ComponentLoadError, match="max_size"):
        LRUStore.load_component({"provider": "muster.cache_store.memory.LRUStore", "config": {"max_size": 0}})


def test_is_a_cache_store_and_round_trips_its_spec() -> None:
    store: LRUStore[int] = LRUStore(max_size=3)
    assert isinstance(store, CacheStore)
    loaded = CacheStore.load_component(store.dump_component())
    assert isinstance(loaded, LRUStore) and loaded.max_size == 3
    assert isinstance(CacheStore.load_component(InMemoryStore().dump_component()), InMemoryStore)


def test_concurrent_threads_keep_the_bound() -> None:
    store: LRUStore[int] = LRUStore(max_size=50)
    start = threading.Barrier(4)

    def hammer(offset: int) -> None:
        start.wait()
        for i in range(2000):
            store.set(f"{offset}-{i}", i)
            store.get(f"{offset}-{i // 2}")

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store) == 50


@pytest.mark.parametrize("store", [InMemoryStore[int](), LRUStore[int](max_size=4)], ids=["dict", "lru"])
async def test_in_memory_stores_answer_async_calls_on_the_loop_without_a_thread(
    store: CacheStore[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_threads(*args: object, **kwargs: object) -> None:
        raise AssertionError("an in-memory store must not hop to a thread")

    monkeypatch.setattr("asyncio.to_thread", no_threads)
    await store.aset("a", 1)
    assert await store.aget("a") == 1
    assert await store.aget("b", 2) == 2
