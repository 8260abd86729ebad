"""``POST /v1/chat/completions``: any OpenAI client or chat UI can talk to a team.

``model`` names a spec (``name`` or ``name@version``). Each request is one run on a fresh
thread: the request's messages are the task (a chat UI sends the whole conversation every
time), each a ``TextMessage`` whose source is the message's ``name`` or its role. The
answer's content is the text of the messages the team wrote, in order, separated by a
blank line (for a single agent: its reply). With ``stream: true`` the same text arrives as
``chat.completion.chunk`` deltas, one per message as the run writes it, then
``data: [DONE]``. A run that fails answers 502 with the run's error (problem+json).
Sampling parameters are accepted and ignored: the spec's model clients decide them.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse, ServerSentEvent

from muster.messages import BaseChatMessage, MessageFactory

from ...exceptions import InvalidRequestError
from ...models import RunCreate, RunStatus
from ...operations import Services, start_run, wait_for_end
from ...streaming import run_events
from ..auth import ServicesDep
from ..errors import problem

__all__ = ["ChatCompletionRequest", "router"]

router = APIRouter(prefix="/v1", tags=["openai"])

_FACTORY = MessageFactory()


class ChatMessage(BaseModel):
    """One message of an OpenAI chat request (extra fields are ignored)."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None


class ChatCompletionRequest(BaseModel):
    """An OpenAI chat completion request; ``model`` names a spec."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=200)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False


def _text(content: str | list[dict[str, Any]] | None) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n".join(str(part.get("text", "")) for part in content if part.get("type") == "text")


def _task(body: ChatCompletionRequest) -> list[dict[str, Any]]:
    return [
        {"type": "TextMessage", "source": m.name or m.role, "content": _text(m.content)}
        for m in body.messages
    ]


def _reply_text(data: dict[str, Any]) -> str | None:
    """The text of a written message, or ``None`` for an event (tool calls, thoughts...)."""
    try:
        message = _FACTORY.create(dict(data))
    except Exception:
        return None
    if not isinstance(message, BaseChatMessage):
        return None
    return message.to_text()


async def _start(services: Services, body: ChatCompletionRequest) -> tuple[str, int]:
    thread = await services.store.create_thread({"source": "chat.completions"})
    task = _task(body)
    try:
        run = await start_run(services, thread.id, RunCreate(spec=body.model, task=task))
    except InvalidRequestError as exc:
        if exc.field == "spec":
            raise InvalidRequestError(exc.detail, field="model") from None
        raise
    return run.id, len(task)


def _chunk(run_id: str, model: str, created: int, delta: dict[str, Any], finish: str | None) -> str:
    return json.dumps(
        {
            "id": f"chatcmpl-{run_id}",
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
    )


@router.post("/chat/completions", summary="OpenAI-compatible chat completion (model = a spec name)")
async def chat_completions(body: ChatCompletionRequest, services: ServicesDep) -> Any:
    run_id, skip = await _start(services, body)
    created = int(time.time())
    if body.stream:
        return EventSourceResponse(_stream(services, body.model, run_id, skip, created), ping=15)
    run, messages = await wait_for_end(services, run_id)
    if run.status is RunStatus.FAILED:
        detail = run.error.message if run.error else "the run failed"
        return problem(502, "Run failed", detail, run_id=run_id)
    texts = [t for t in (_reply_text(m) for m in messages[skip:]) if t]
    return JSONResponse(
        {
            "id": f"chatcmpl-{run_id}",
            "object": "chat.completion",
            "created": created,
            "model": body.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "\n\n".join(texts)},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        }
    )


async def _stream(
    services: Services, model: str, run_id: str, skip: int, created: int
) -> AsyncIterator[ServerSentEvent]:
    yield ServerSentEvent(data=_chunk(run_id, model, created, {"role": "assistant", "content": ""}, None))
    seen = 0
    sent = 0
    async for event in run_events(services.store, services.notifier, run_id):
        if event.event != "message":
            continue
        seen += 1
        if seen <= skip:
            continue
        text = _reply_text(dict(event.data))
        if not text:
            continue
        delta = text if sent == 0 else "\n\n" + text
        sent += 1
        yield ServerSentEvent(data=_chunk(run_id, model, created, {"content": delta}, None))
    yield ServerSentEvent(data=_chunk(run_id, model, created, {}, "stop"))
    yield ServerSentEvent(data="[DONE]")
