"""What every request depends on: the app's services, and (on ``/v1``) a bearer API key.

Keys are created with ``muster keys create`` (or ``MUSTER_API_KEYS`` at start) and stored
hashed; a request's ``Authorization: Bearer <key>`` is checked with
``store.verify_api_key``. ``security.require_api_key: false`` turns the check off (local
development only). A refusal is a 401 problem with ``WWW-Authenticate: Bearer``; it never
says whether a key exists but was revoked.

A key found live is remembered for ``security.api_key_cache_seconds`` (by the SHA-256 of
the secret, never the secret), so a client's requests do not each cost a database read;
a revoked key is therefore refused on every replica within that many seconds.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from ..exceptions import AuthenticationError
from ..models import ApiKey
from ..operations import Services

__all__ = ["KeyCache", "ServicesDep", "get_services", "require_api_key"]


def get_services(request: Request) -> Services:
    """The services the app's lifespan built (``app.state.muster``)."""
    services: Services = request.app.state.muster
    return services


async def _services(request: Request) -> Services:
    # ``async``: FastAPI runs a plain ``def`` dependency in its thread pool, a thread
    # hand-off on every request (about a tenth of the API's CPU under load).
    return get_services(request)


ServicesDep = Annotated[Services, Depends(_services)]
"""A route parameter receiving the app's :class:`Services`."""


class KeyCache:
    """Live keys seen lately, by the SHA-256 of their secret, each for ``ttl`` seconds.

    Only live keys are kept: an unknown or revoked key is looked up every time, so a key
    created on another replica works at once. At most ``size`` entries; when full, it
    starts over (the cost is a few database reads, never a wrong answer).
    """

    def __init__(self, ttl: float, size: int = 1024, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.size = size
        self._clock = clock
        self._keys: dict[bytes, tuple[ApiKey, float]] = {}

    @staticmethod
    def _digest(secret: str) -> bytes:
        return hashlib.sha256(secret.encode()).digest()

    def get(self, secret: str) -> ApiKey | None:
        """The cached live key for ``secret``, or ``None`` (unknown or expired)."""
        entry = self._keys.get(self._digest(secret))
        if entry is None or entry[1] < self._clock():
            return None
        return entry[0]

    def put(self, secret: str, key: ApiKey) -> None:
        """Remember ``key`` as live for ``ttl`` seconds."""
        if self.ttl <= 0:
            return
        if len(self._keys) >= self.size:
            self._keys.clear()
        self._keys[self._digest(secret)] = (key, self._clock() + self.ttl)


async def require_api_key(request: Request) -> ApiKey | None:
    """The caller's key (``None`` when keys are not required).

    Raises:
        AuthenticationError: no bearer key, or not a live one.
    """
    services = get_services(request)
    if not services.settings.security.require_api_key:
        return None
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise AuthenticationError("send an API key: Authorization: Bearer <key>", field="Authorization")
    secret = secret.strip()
    cache: KeyCache | None = getattr(request.app.state, "muster_keys", None)
    if cache is None:
        cache = request.app.state.muster_keys = KeyCache(services.settings.security.api_key_cache_seconds)
    key = cache.get(secret)
    if key is None:
        key = await services.store.verify_api_key(secret)
        if key is None:
            raise AuthenticationError("the API key is not valid", field="Authorization")
        cache.put(secret, key)
    request.state.api_key = key
    return key
