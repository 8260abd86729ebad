"""API keys: random secrets shown once, stored as sha256, verified, revoked; configured keys added once."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from muster.service.exceptions import ConflictError, InvalidRequestError, NotFoundError
from muster.service.settings import ServiceSettings
from muster.service.store import SqlStore, ensure_api_keys
from muster.service.store.tables import api_keys


async def test_a_created_key_verifies_and_only_its_hash_is_stored(store: SqlStore) -> None:
    key, secret = await store.create_api_key("ci")
    assert secret.startswith("mk_") and len(secret) == 3 + 43
    assert key.prefix == secret[:8] and key.name == "ci" and key.revoked_at is None
    assert await store.verify_api_key(secret) == key
    async with store.engine.connect() as conn:
        row = (await conn.execute(sa.select(api_keys))).mappings().one()
    assert row["hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {str(v) for v in row.values()}


async def test_wrong_secrets_do_not_verify(store: SqlStore) -> None:
    _, secret = await store.create_api_key("ci")
    assert await store.verify_api_key(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    assert await store.verify_api_key("") is None
    assert await store.verify_api_key("mk_" + "x" * 43) is None


async def test_revoked_keys_stop_verifying_and_stay_listed(store: SqlStore) -> None:
    key, secret = await store.create_api_key("old")
    other, _ = await store.create_api_key("new")
    revoked = await store.revoke_api_key(key.id)
    assert revoked.revoked_at is not None
    assert (await store.revoke_api_key(key.id)).revoked_at == revoked.revoked_at
    assert await store.verify_api_key(secret) is None
    assert [(k.id, k.revoked_at is not None) for k in await store.list_api_keys()] == [
        (key.id, True),
        (other.id, False),
    ]
    with pytest.raises(NotFoundError, match="api key 'nope'"):
        await store.revoke_api_key("nope")


async def test_given_secrets_are_checked_and_unique(store: SqlStore) -> None:
    key, secret = await store.create_api_key("env", "a-long-enough-secret")
    assert secret == "a-long-enough-secret" and key.prefix == "a-long-e"
    with pytest.raises(ConflictError):
        await store.create_api_key("again", "a-long-enough-secret")
    with pytest.raises(InvalidRequestError, match="at least 16") as info:
        await store.create_api_key("short", "abc")
    assert info.value.field == "secret"
    with pytest.raises(InvalidRequestError):
        await store.create_api_key("", None)
    assert len(await store.list_api_keys()) == 1


async def test_ensure_api_keys_adds_configured_keys_once_and_never_revives_one(store: SqlStore) -> None:
    settings = ServiceSettings(security={"api_keys": [SecretStr("k" * 20), SecretStr("j" * 20)]})  # type: ignore[arg-type]
    assert await ensure_api_keys(store, settings) == 2
    assert await ensure_api_keys(store, settings) == 0
    keys = await store.list_api_keys()
    assert len(keys) == 2 and {k.name for k in keys} == {"MUSTER_API_KEYS"}
    assert await store.verify_api_key("k" * 20) is not None
    await store.revoke_api_key(keys[0].id)
    assert await ensure_api_keys(store, settings) == 0
    assert sum(k.revoked_at is None for k in await store.list_api_keys()) == 1


async def test_ensure_api_keys_refuses_a_short_configured_key(store: SqlStore) -> None:
    settings = ServiceSettings(security={"api_keys": [SecretStr("short")]})  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="at least 16"):
        await ensure_api_keys(store, settings)
