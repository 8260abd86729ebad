"""Specs and API keys: the store's catalog, beside the runs (``sql.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from ..exceptions import ConflictError, InvalidRequestError, NotFoundError
from ..models import ApiKey, SpecRecord
from ._database import SqlDatabase
from ._pgpaths import LATEST_SPEC_VERSION, fetch_one
from ._rows import canonical_digest, new_id, now, plain, to_api_key, to_spec
from .keys import check_secret, digest_matches, generate_secret, hash_secret, key_prefix
from .tables import api_keys, specs

__all__ = ["CatalogStore"]

_SPEC_CACHE_SIZE = 256
_SPEC_LOCK_SPACE = 0x6D73_7063  # "mspc": the advisory-lock space of spec names


class CatalogStore(SqlDatabase):
    """Versioned specs and hashed API keys (see ``Store``).

    A spec version, once stored, never changes, so the versions this process has read
    are kept (at most ``_SPEC_CACHE_SIZE``): a worker reads each version once, not once
    per run. "The latest version" is always asked of the database.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._spec_cache: dict[tuple[str, int], SpecRecord] = {}
        self._latest_seen: dict[str, SpecRecord] = {}

    def known_spec(self, name: str) -> SpecRecord | None:
        """The version of spec ``name`` this process last saw as its latest, or ``None``; no I/O.

        It may be stale (another replica stored a newer one): for a run created with
        ``latest=True``, which takes the latest version at its creation.
        """
        return self._latest_seen.get(name)

    async def put_spec(self, name: str, component: Mapping[str, Any]) -> SpecRecord:
        """Store ``component`` under ``name``: a new version if it differs from the latest."""
        if not name or len(name) > 200:
            raise InvalidRequestError("a spec name has 1 to 200 characters", field="name")
        body, digest = plain(component), canonical_digest(component)
        for _ in range(5):  # a concurrent put of the same name took the version: look again
            try:
                async with self._tx() as conn:
                    if self.backend == "postgresql":  # puts of one name queue instead of colliding
                        await conn.execute(
                            sa.text("SELECT pg_advisory_xact_lock(:space, hashtext(:name))"),
                            {"space": _SPEC_LOCK_SPACE, "name": name},
                        )
                    latest = (
                        (
                            await conn.execute(
                                sa.select(specs)
                                .where(specs.c.name == name)
                                .order_by(specs.c.version.desc())
                                .limit(1)
                            )
                        )
                        .mappings()
                        .first()
                    )
                    if latest is not None and latest["digest"] == digest:
                        return self._saw_latest(to_spec(latest))
                    row = {
                        "name": name,
                        "version": (latest["version"] + 1) if latest is not None else 1,
                        "component": body,
                        "digest": digest,
                        "created_at": now(),
                    }
                    await conn.execute(sa.insert(specs).values(row))
                return self._saw_latest(to_spec(row))
            except sa.exc.IntegrityError:
                continue
        raise ConflictError(f"spec {name!r} is being written concurrently; retry", field="name")

    async def get_spec(self, name: str, version: int | None = None) -> SpecRecord:
        """The latest (or the given) version of spec ``name``."""
        cache = self._spec_cache
        latest = version is None
        if version is None and self.backend == "postgresql":
            async with self._driver() as pg:
                row = await fetch_one(pg, LATEST_SPEC_VERSION, (name,))
            if row is None:
                raise NotFoundError("spec", name)
            version = int(row["version"])  # then the cache, or the row of that version
        if version is not None and (name, version) in cache:
            record = cache[name, version]  # a version never changes once stored
            return self._saw_latest(record) if latest else record
        query = sa.select(specs).where(specs.c.name == name)
        if version is None:
            query = query.order_by(specs.c.version.desc()).limit(1)
        else:
            query = query.where(specs.c.version == version)
        ident = name if version is None else f"{name}@{version}"
        record = to_spec(await self._one(query, "spec", ident))
        if len(cache) >= _SPEC_CACHE_SIZE:
            cache.clear()
        cache[record.name, record.version] = record
        return self._saw_latest(record) if latest else record

    def _saw_latest(self, record: SpecRecord) -> SpecRecord:
        if len(self._latest_seen) >= _SPEC_CACHE_SIZE:
            self._latest_seen.clear()
        self._latest_seen[record.name] = record
        return record

    async def list_specs(self) -> list[SpecRecord]:
        """The latest version of every spec, by name."""
        latest = sa.select(specs.c.name, sa.func.max(specs.c.version).label("version")).group_by(specs.c.name)
        latest_sq = latest.subquery()
        query = (
            sa.select(specs)
            .join(
                latest_sq, sa.and_(specs.c.name == latest_sq.c.name, specs.c.version == latest_sq.c.version)
            )
            .order_by(specs.c.name)
        )
        async with self._tx(write=False) as conn:
            return [to_spec(r) for r in (await conn.execute(query)).mappings()]

    async def create_api_key(self, name: str, secret: str | None = None) -> tuple[ApiKey, str]:
        """Store a key, hashed; returns it and its secret (shown to the caller once)."""
        if not name or len(name) > 200:
            raise InvalidRequestError("a key name has 1 to 200 characters", field="name")
        secret = generate_secret() if secret is None else check_secret(secret)
        row = {
            "id": new_id(),
            "name": name,
            "prefix": key_prefix(secret),
            "hash": hash_secret(secret),
            "created_at": now(),
            "revoked_at": None,
        }
        try:
            async with self._tx() as conn:
                await conn.execute(sa.insert(api_keys).values(row))
        except sa.exc.IntegrityError as exc:
            raise ConflictError("an API key with this secret already exists", field="secret") from exc
        return to_api_key(row), secret

    async def verify_api_key(self, secret: str) -> ApiKey | None:
        """The live key with this secret, or ``None``."""
        query = sa.select(api_keys).where(
            api_keys.c.prefix == key_prefix(secret), api_keys.c.revoked_at.is_(None)
        )
        async with self._tx(write=False) as conn:
            candidates = (await conn.execute(query)).mappings().all()
        for row in candidates:
            if digest_matches(secret, row["hash"]):
                return to_api_key(row)
        return None

    async def revoke_api_key(self, key_id: str) -> ApiKey:
        """Revoke a key (revoking twice keeps the first date)."""
        async with self._tx() as conn:
            await conn.execute(
                sa.update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now())
            )
            row = (await conn.execute(sa.select(api_keys).where(api_keys.c.id == key_id))).mappings().first()
        if row is None:
            raise NotFoundError("api key", key_id)
        return to_api_key(row)

    async def list_api_keys(self) -> list[ApiKey]:
        """Every key, revoked ones included, oldest first."""
        async with self._tx(write=False) as conn:
            rows = (await conn.execute(sa.select(api_keys).order_by(api_keys.c.created_at))).mappings()
            return [to_api_key(r) for r in rows]
