"""``GET /v1/runs/{run_id}/timeline``: a stored run's timeline, as one self-contained HTML page.

The page is ``muster.ops.render_timeline`` of ``timeline.run_timeline`` (the timings the
runner wrote at each turn): the same page as ``muster diagnose --html`` and ``muster runs
timeline``. It loads nothing from anywhere (its content security policy forbids any
request), so it can be saved and opened offline. ``?format=json`` gives the ``Timeline``
data instead.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response

from ...timeline import run_timeline
from ..auth import ServicesDep

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["runs"])


@router.get(
    "/runs/{run_id}/timeline",
    summary="A run's timeline: its turns, model calls and tool calls (HTML, or JSON)",
    response_class=HTMLResponse,
    responses={
        200: {
            "description": "A self-contained HTML page (or the Timeline as JSON with format=json)",
            "content": {"text/html": {"schema": {"type": "string"}}, "application/json": {}},
        }
    },
)
async def timeline(
    run_id: str,
    services: ServicesDep,
    format: Literal["html", "json"] = Query(default="html", description="html (the page) or json (the data)"),
) -> Response:
    data = await run_timeline(services.store, run_id)
    if format == "json":
        return JSONResponse(data.model_dump(mode="json"))
    from muster.ops import render_timeline

    return HTMLResponse(render_timeline(data))
