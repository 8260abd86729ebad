"""``/v1/specs``: store a spec version, list the latest versions, read one."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ...exceptions import InvalidRequestError
from ...execution.build import check_spec
from ...models import SpecRecord
from ..auth import ServicesDep

__all__ = ["SpecCreate", "router"]

router = APIRouter(prefix="/v1/specs", tags=["specs"])

_YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


class SpecCreate(BaseModel):
    """A spec to store: its name and its component (muster's declarative JSON)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")
    """Letters, digits, ``_``, ``.`` and ``-`` (``@`` separates a version in run requests)."""
    component: dict[str, Any]


async def _read_body(request: Request) -> Any:
    raw = await request.body()
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    try:
        if content_type in _YAML_TYPES:
            import yaml

            return yaml.safe_load(raw)
        return json.loads(raw)
    except Exception as exc:
        kind = "YAML" if content_type in _YAML_TYPES else "JSON"
        raise InvalidRequestError(
            f"the body is not valid {kind}: {str(exc).splitlines()[0]}", field="body"
        ) from None


_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/SpecCreate"}},
            "application/yaml": {"schema": {"$ref": "#/components/schemas/SpecCreate"}},
        },
    }
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SpecRecord,
    openapi_extra=_BODY_DOC,
    summary="Store a spec (a new version when it differs from the latest)",
)
async def create_spec(request: Request, services: ServicesDep) -> SpecRecord:
    data = await _read_body(request)
    try:
        body = SpecCreate.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"]) or "body"
        raise InvalidRequestError(error["msg"], field=field) from None
    await check_spec(body.component)
    return await services.store.put_spec(body.name, body.component)


@router.get("", response_model=list[SpecRecord], summary="The latest version of every spec")
async def list_specs(services: ServicesDep) -> list[SpecRecord]:
    return await services.store.list_specs()


@router.get("/{name}", response_model=SpecRecord, summary="A spec (the latest version, or ?version=)")
async def get_spec(
    name: str, services: ServicesDep, version: int | None = Query(default=None, ge=1, le=2**31 - 1)
) -> SpecRecord:
    return await services.store.get_spec(name, version)
