"""FastAPI dependencies: the app's services, and the API key every ``/v1`` route needs."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..operations import Services

__all__ = ["ServicesDep", "get_services"]


def get_services(request: Request) -> Services:
    """The services the app's lifespan built (``app.state.muster``)."""
    services: Services = request.app.state.muster
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
"""A route parameter receiving the app's :class:`Services`."""
