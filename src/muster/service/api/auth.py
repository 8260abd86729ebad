"""Bearer API keys on every ``/v1`` route.

Keys are created with ``muster keys create`` (or ``MUSTER_API_KEYS`` at start) and stored
hashed; a request's ``Authorization: Bearer <key>`` is checked with
``store.verify_api_key``. ``security.require_api_key: false`` turns the check off (local
development only). A refusal is a 401 problem with ``WWW-Authenticate: Bearer``; it never
says whether a key exists but was revoked.
"""

from __future__ import annotations

from fastapi import Request

from ..exceptions import AuthenticationError
from ..models import ApiKey
from .deps import get_services

__all__ = ["require_api_key"]


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
    key = await services.store.verify_api_key(secret.strip())
    if key is None:
        raise AuthenticationError("the API key is not valid", field="Authorization")
    request.state.api_key = key
    return key
