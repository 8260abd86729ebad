"""API keys are remembered per process for a few seconds; revocation still takes effect."""

from __future__ import annotations

from typing import Any

from api_kit import API_KEY, make_settings, running_api

from muster.service.api.auth import KeyCache
from muster.service.models import ApiKey


def _key(name: str = "k") -> ApiKey:
    return ApiKey.model_validate(
        {"id": name, "name": name, "prefix": "mk_abcd", "created_at": "2026-01-01T00:00:00Z"}
    )


def test_cache_keeps_a_live_key_for_its_ttl_only() -> None:
    now = [100.0]
    cache = KeyCache(ttl=5.0, clock=lambda: now[0])
    assert cache.get("secret-one") is None
    cache.put("secret-one", _key())
    assert cache.get("secret-one") is not None
    assert cache.get("secret-two") is None  # another secret is not that key
    now[0] += 5.01
    assert cache.get("secret-one") is None  # expired: the store is asked again


def test_cache_is_bounded_and_ttl_zero_turns_it_off() -> None:
    cache = KeyCache(ttl=5.0, size=2)
    for i in range(3):
        cache.put(f"secret-{i}", _key(str(i)))
    assert cache.get("secret-2") is not None  # the newest survives the reset
    assert sum(cache.get(f"secret-{i}") is not None for i in range(3)) <= 2
    off = KeyCache(ttl=0.0)
    off.put("secret", _key())
    assert off.get("secret") is None


async def test_revoked_key_is_refused_once_the_cache_forgets_it(database: Any) -> None:
    settings = make_settings(database, security={"api_key_cache_seconds": 0})
    async with running_api(settings, database) as api:
        store = api.app.state.muster.store
        key, secret = await store.create_api_key("short-lived")
        headers = {"Authorization": f"Bearer {secret}"}
        assert (await api.client.post("/v1/threads", json={}, headers=headers)).status_code == 201
        await store.revoke_api_key(key.id)
        refused = await api.client.post("/v1/threads", json={}, headers=headers)
        assert refused.status_code == 401
        # The test key still works: only the revoked one is refused.
        assert (await api.client.post("/v1/threads", json={})).status_code == 201
        assert API_KEY not in refused.text


async def test_cached_key_serves_without_a_store_lookup(database: Any) -> None:
    async with running_api(make_settings(database), database) as api:
        store = api.app.state.muster.store
        calls = 0
        verify = store.verify_api_key

        async def counting(secret: str) -> Any:
            nonlocal calls
            calls += 1
            return await verify(secret)

        store.verify_api_key = counting
        for _ in range(3):
            assert (await api.client.post("/v1/threads", json={})).status_code == 201
        assert calls <= 1  # the first request may look it up; the others come from the cache
