"""SQLiteStore and DiskCacheStore: JSON round trips, corrupt entries, never pickle."""

from __future__ import annotations

import logging
import pickle
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import diskcache
import pytest

from muster.cache_store import CacheStore, CacheValueError
from muster.cache_store.diskcache import DiskCacheStore
from muster.cache_store.sqlite import SQLiteStore
from muster.models import CreateResult, RequestUsage

RESULT = CreateResult(finish_reason="stop", content="hi", usage=RequestUsage(2, 3), cached=False)


@pytest.fixture(params=["sqlite", "diskcache"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CacheStore[Any]]:
    if request.param == "sqlite":
        with SQLiteStore[Any](tmp_path / "c.sqlite") as s:
            yield s
    else:
        with diskcache.Cache(str(tmp_path / "dc")) as cache:
            yield DiskCacheStore(cache)


def test_json_values_round_trip(store: CacheStore[Any]) -> None:
    store.set("plain", {"a": [1, 2.5, None, True, "ü"]})
    assert store.get("plain") == {"a": [1, 2.5, None, True, "ü"]}
    store.set("model", ["chunk", RESULT])
    assert store.get("model") == ["chunk", RESULT.model_dump(mode="json")]
    store.set("plain", "replaced")
    assert store.get("plain") == "replaced"
    assert store.get("absent", "dflt") == "dflt"


def test_unserialisable_value_is_refused(store: CacheStore[Any]) -> None:
    with pytest.raises(CacheValueError) as info:
        store.set("k", object())
    assert info.value.value_type == "object"
    assert isinstance(info.value, TypeError)
    assert store.get("k") is None


def test_sqlite_corrupt_row_is_a_logged_miss(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "c.sqlite"
    with SQLiteStore[Any](path) as s:
        s.set("k", {"fine": 1})
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE muster_cache SET value = ? WHERE key = 'k'", ("{broken",))
    with SQLiteStore[Any](path) as s, caplog.at_level(logging.WARNING, logger="muster.cache_store"):
        assert s.get("k", "miss") == "miss"
    assert "corrupt" in caplog.text


def test_sqlite_closed_connection_is_a_logged_miss(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    s: SQLiteStore[Any] = SQLiteStore(tmp_path / "c.sqlite")
    s.set("k", 1)
    s.close()
    with caplog.at_level(logging.WARNING, logger="muster.cache_store"):
        assert s.get("k") is None
        s.set("k", 2)  # logged, not raised
    assert "failed" in caplog.text


def test_sqlite_spec_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    with SQLiteStore[Any](path) as s:
        s.set("k", [1, 2])
        spec = s.dump_component()
    loaded = CacheStore.load_component(spec)
    assert isinstance(loaded, SQLiteStore)
    assert loaded.get("k") == [1, 2]
    loaded.close()


def test_diskcache_never_writes_pickle(tmp_path: Path) -> None:
    with diskcache.Cache(str(tmp_path / "dc")) as cache:
        DiskCacheStore[Any](cache).set("k", {"nested": ["x"]})
        # A str stored by diskcache comes back as the very text we wrote: no pickle layer.
        assert cache.get("k") == '{"nested":["x"]}'


def test_diskcache_foreign_pickled_entry_is_ignored(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with diskcache.Cache(str(tmp_path / "dc")) as cache:
        cache.set("k", {"a pickled": "dict"})
        with caplog.at_level(logging.WARNING, logger="muster.cache_store"):
            assert DiskCacheStore[Any](cache).get("k") is None
    assert "not JSON" in caplog.text


class _Exploding:
    def __reduce__(self) -> tuple[Any, ...]:
        return (pytest.fail, ("a pickle was loaded",))


def test_diskcache_from_spec_refuses_to_unpickle(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    directory = str(tmp_path / "dc")
    with diskcache.Cache(directory) as planted:
        planted.set("k", pickle.loads(pickle.dumps({"ok": 1})))  # any non-str value is pickled
        planted.set("evil", _Exploding())
    loaded = CacheStore.load_component(
        {"provider": "muster.cache_store.diskcache.DiskCacheStore", "config": {"directory": directory}}
    )
    assert isinstance(loaded, DiskCacheStore)
    with caplog.at_level(logging.WARNING, logger="muster.cache_store"):
        assert loaded.get("evil") is None
        assert loaded.get("k") is None
    assert "never unpickles" in caplog.text
    loaded.set("fresh", [1])
    assert loaded.get("fresh") == [1]
    assert loaded.dump_component().config == {"directory": directory}
    loaded.cache.close()


def test_diskcache_corrupt_text_is_a_miss(tmp_path: Path) -> None:
    with diskcache.Cache(str(tmp_path / "dc")) as cache:
        cache.set("k", "{not json")
        assert DiskCacheStore[Any](cache).get("k", "miss") == "miss"


def test_autogen_provider_path_loads(tmp_path: Path) -> None:
    loaded = CacheStore.load_component(
        {
            "provider": "autogen_ext.cache_store.diskcache.DiskCacheStore",
            "config": {"directory": str(tmp_path / "dc")},
        }
    )
    assert isinstance(loaded, DiskCacheStore)
    loaded.cache.close()


async def test_async_methods_run_the_store_in_a_worker_thread(
    store: CacheStore[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[int] = []
    sync_get, sync_set = store.get, store.set

    def get(key: str, default: Any = None) -> Any:
        threads.append(threading.get_ident())
        return sync_get(key, default)

    def set_(key: str, value: Any) -> None:
        threads.append(threading.get_ident())
        sync_set(key, value)

    monkeypatch.setattr(store, "get", get)
    monkeypatch.setattr(store, "set", set_)
    await store.aset("k", ["chunk", RESULT])
    assert await store.aget("k") == ["chunk", RESULT.model_dump(mode="json")]
    assert await store.aget("absent", "dflt") == "dflt"
    assert len(threads) == 3 and threading.get_ident() not in threads
