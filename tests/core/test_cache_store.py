"""InMemoryStore: the default cache store contract."""

from __future__ import annotations

from muster.core import CacheStore, ComponentLoader, InMemoryStore


def test_get_returns_default_then_value() -> None:
    store: InMemoryStore[int] = InMemoryStore()
    assert store.get("a") is None
    assert store.get("a", 7) == 7
    store.set("a", 1)
    store.set("a", 2)
    assert store.get("a", 7) == 2


def test_is_a_cache_store_and_round_trips_as_component() -> None:
    store: InMemoryStore[str] = InMemoryStore()
    store.set("k", "v")
    spec = store.dump_component()
    assert spec.provider == "muster.core.InMemoryStore"
    assert spec.component_type == "cache_store"
    loaded = ComponentLoader.load_component(spec, CacheStore)
    assert isinstance(loaded, InMemoryStore)
    # the content is deliberately not part of the spec
    assert loaded.get("k") is None


def test_autogen_provider_loads() -> None:
    spec = {"provider": "autogen_core.InMemoryStore", "component_type": "cache_store", "config": {}}
    assert isinstance(InMemoryStore.load_component(spec), InMemoryStore)
