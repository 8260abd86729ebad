"""Runs: start one on a thread (background, streamed or waited for), read it, stream its events, cancel it."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Header, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sse_starlette import EventSourceResponse, ServerSentEvent

from ...models import Run, RunCreate
from ...notify import Subscription
from ...operations import cancel_run, start_run, wait_for_end
from ...streaming import event_stream, parse_last_event_id
from ..auth import ServicesDep

__all__ = ["RunResult", "router"]

router = APIRouter(prefix="/v1", tags=["runs"])

_SSE_DOC: dict[str, Any] = {
    "responses": {
        200: {
            "description": "Server-sent events: `message`, `timing`, `status`, `end` (id = the event's seq)",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    }
}


class RunResult(BaseModel):
    """What ``/runs/wait`` returns: the run as it ended and the messages it wrote."""

    run: Run
    messages: list[dict[str, Any]]


@router.post(
    "/threads/{thread_id}/runs",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Run,
    summary="Start a run in the background",
)
async def create_run(thread_id: str, body: RunCreate, services: ServicesDep) -> JSONResponse:
    run = await start_run(services, thread_id, body)
    return JSONResponse(
        run.model_dump(mode="json"),
        status_code=status.HTTP_202_ACCEPTED,
        headers={"Location": f"/v1/runs/{run.id}"},
    )


@router.post(
    "/threads/{thread_id}/runs/stream",
    response_class=EventSourceResponse,
    summary="Start a run and stream its events",
    **_SSE_DOC,
)
async def create_run_stream(thread_id: str, body: RunCreate, services: ServicesDep) -> EventSourceResponse:
    services.streams.acquire()  # before the run exists: a refused stream must not start one
    subscriptions: list[Subscription] = []
    try:
        run = await start_run(
            services, thread_id, body, lambda r: subscriptions.append(services.notifier.subscribe(r.id))
        )
    except BaseException:
        services.streams.release()
        for subscription in subscriptions:
            subscription.close()
        raise
    response = event_stream(
        services.store,
        services.notifier,
        run.id,
        after=0,
        limiter=services.streams,
        acquired=True,
        first=ServerSentEvent(event="metadata", data=json.dumps({"run_id": run.id, "thread_id": thread_id})),
        subscription=subscriptions[0],
    )
    response.headers["Content-Location"] = f"/v1/runs/{run.id}"
    return response


@router.post(
    "/threads/{thread_id}/runs/wait",
    response_model=RunResult,
    summary="Start a run and answer when it stops",
)
async def create_run_wait(thread_id: str, body: RunCreate, services: ServicesDep) -> RunResult:
    subscriptions: list[Subscription] = []
    try:
        run = await start_run(
            services, thread_id, body, lambda r: subscriptions.append(services.notifier.subscribe(r.id))
        )
        ended, messages = await wait_for_end(services, run.id, subscriptions[0])
    finally:
        for subscription in subscriptions:  # subscribed before the run was submitted
            subscription.close()
    return RunResult(run=ended, messages=messages)


@router.get("/runs/{run_id}", response_model=Run, summary="A run")
async def get_run(run_id: str, services: ServicesDep) -> Run:
    return await services.store.get_run(run_id)


@router.get(
    "/runs/{run_id}/events",
    response_class=EventSourceResponse,
    summary="Stream a run's events (from the start, or after Last-Event-ID)",
    **_SSE_DOC,
)
async def run_events(
    run_id: str,
    request: Request,
    services: ServicesDep,
    last_event_id: str | None = Header(default=None, alias="Last-Event-ID"),
    after: int | None = Query(
        default=None, ge=0, le=2**53, description="Like Last-Event-ID, for clients that cannot set it"
    ),
) -> EventSourceResponse:
    await services.store.get_run(run_id)
    start = after if after is not None else parse_last_event_id(last_event_id)
    return event_stream(services.store, services.notifier, run_id, after=start, limiter=services.streams)


@router.post(
    "/runs/{run_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Run,
    summary="Cancel a run (a running one stops at once, keeping its finished turns)",
)
async def cancel(run_id: str, services: ServicesDep) -> Run:
    return await cancel_run(services, run_id)
