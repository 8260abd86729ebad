"""What every request depends on: the app's services, and (on ``/v1``) a bearer API key.

Keys are created with ``muster keys create`` (or ``MUSTER_API_KEYS`` at start) and stored
hashed; a request's ``Authorization: Bearer <key>`` is checked with
``store.verify_api_key``. ``security.require_api_key: false`` turns the check off (local
development only). A refusal is a 401 problem with ``WWW-Authenticate: Bearer``; it never
says whether a key exists but was revoked.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..exceptions import AuthenticationError
from ..models import ApiKey
from ..operations import Services

__all__ = ["ServicesDep", "get_services", "require_api_key"]


def get_services(request: Request) -> Services:
    """The services the app's lifespan built (``app.state.muster``)."""
    services: Services = request.app.state.muster
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
"""A route parameter receiving the app's :class:`Services`."""


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
