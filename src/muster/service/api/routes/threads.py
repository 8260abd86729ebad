"""``/v1/threads``: create a thread, read it, page through its messages, list its runs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Query, status
from pydantic import BaseModel, ConfigDict, Field

from ...models import MessageRecord, Page, Run, Thread
from ..auth import ServicesDep

__all__ = ["ThreadCreate", "router"]

router = APIRouter(prefix="/v1/threads", tags=["threads"])


class ThreadCreate(BaseModel):
    """The body of ``POST /v1/threads`` (optional)."""

    model_config = ConfigDict(extra="forbid")

    metadata: dict[str, Any] = Field(default_factory=dict)


class MessagePage(Page):
    """A page of a thread's messages."""

    items: list[MessageRecord]  # type: ignore[assignment]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=Thread, summary="Create a thread")
async def create_thread(services: ServicesDep, body: ThreadCreate | None = Body(default=None)) -> Thread:
    return await services.store.create_thread((body or ThreadCreate()).metadata)


@router.get("/{thread_id}", response_model=Thread, summary="A thread")
async def get_thread(thread_id: str, services: ServicesDep) -> Thread:
    return await services.store.get_thread(thread_id)


@router.get(
    "/{thread_id}/messages", response_model=MessagePage, summary="The thread's messages, oldest first"
)
async def list_messages(
    thread_id: str,
    services: ServicesDep,
    after: int = Query(
        default=0, ge=0, le=2**53, description="Messages after this seq (a page's next_cursor)"
    ),
    limit: int = Query(default=100, ge=1, le=1000),
) -> MessagePage:
    await services.store.get_thread(thread_id)
    items = await services.store.list_messages(thread_id, after=after, limit=limit)
    cursor = str(items[-1].seq) if len(items) == limit else None
    return MessagePage(items=items, next_cursor=cursor)


@router.get("/{thread_id}/runs", response_model=list[Run], summary="The thread's runs, oldest first")
async def list_runs(thread_id: str, services: ServicesDep) -> list[Run]:
    await services.store.get_thread(thread_id)
    return await services.store.list_runs(thread_id)
