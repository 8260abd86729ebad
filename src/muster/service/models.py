"""The service's resources as the HTTP API shows them and the store keeps them.

Messages inside these resources are muster's message JSON, exactly what
``message.dump()`` writes (AutoGen's shape), so a client can rebuild them with
``MessageFactory().create(data)``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ApiKey",
    "EventRecord",
    "MessageRecord",
    "Page",
    "Run",
    "RunCreate",
    "RunError",
    "RunStatus",
    "SpecRecord",
    "Strategy",
    "Thread",
    "ThreadStatus",
    "TERMINAL_STATUSES",
]


class RunStatus(StrEnum):
    """Where a run is in its life.

    ``pending`` -> ``running`` -> one of ``succeeded``, ``failed``, ``cancelled`` or
    ``interrupted`` (waiting for a human: a handoff to the user, or a UserProxyAgent
    asking; posting input to the thread resumes it). A running run whose worker died goes
    back to ``pending`` with ``attempt`` + 1 and resumes from its last checkpoint.
    """

    PENDING = "pending"
    RUNNING = "running"
    INTERRUPTED = "interrupted"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL_STATUSES = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED})
"""Statuses a run never leaves (``interrupted`` is left by posting input)."""


class Strategy(StrEnum):
    """What a new run on a busy thread does (LangGraph's "double texting")."""

    REJECT = "reject"
    """Refuse with 409 while another run of the thread is pending or running."""
    ENQUEUE = "enqueue"
    """Wait for the thread's runs before it, then run."""
    INTERRUPT = "interrupt"
    """Stop the current run at its next turn boundary (keeping what it did), then run."""
    ROLLBACK = "rollback"
    """Cancel the current run and drop what it did (its messages, its state), then run."""


class ThreadStatus(StrEnum):
    """Whether a thread has a run in progress (or one waiting for a human)."""

    IDLE = "idle"
    BUSY = "busy"
    INTERRUPTED = "interrupted"


class _Resource(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class SpecRecord(_Resource):
    """A team or agent spec (muster's declarative JSON, as ``dump_component()`` writes it)."""

    name: str
    version: int
    """1 for the first body stored under ``name``, +1 for each different body after it."""
    component: dict[str, Any]
    created_at: datetime


class Thread(_Resource):
    """A conversation: its runs execute one at a time and share the team state."""

    id: str
    status: ThreadStatus = ThreadStatus.IDLE
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime


class RunError(BaseModel):
    """Why a run failed: the exception's type and message (never a stack trace)."""

    type: str
    message: str
    agent: str | None = None
    """The participant that raised, when one did."""


class Run(_Resource):
    """One execution of a spec on a thread."""

    id: str
    thread_id: str
    spec: str
    spec_version: int
    status: RunStatus
    strategy: Strategy = Strategy.REJECT
    stop_reason: str | None = None
    error: RunError | None = None
    attempt: int = 1
    """1 for the first execution; +1 each time a crashed worker's run is taken over."""
    worker: str | None = None
    """The process executing (or last executing) the run."""
    turns: int = 0
    """Turn checkpoints written so far."""
    metadata: dict[str, Any] = Field(default_factory=dict)
    """The ``metadata`` of the request that created the run."""
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime


class RunCreate(BaseModel):
    """The body of ``POST /v1/threads/{id}/runs`` (and ``/runs/stream``, ``/runs/wait``)."""

    model_config = ConfigDict(extra="forbid")

    spec: str = Field(min_length=1, max_length=200)
    """A spec name, or ``name@version``."""
    task: str | list[dict[str, Any]] | None = None
    """Text (a ``TextMessage`` from ``user``), or messages in muster's message JSON; ``None``
    continues the thread's conversation."""
    strategy: Strategy = Strategy.REJECT
    metadata: dict[str, Any] = Field(default_factory=dict)


class MessageRecord(_Resource):
    """A message of a thread, in order."""

    seq: int
    """Position in the thread, from 1."""
    run_id: str
    message: dict[str, Any]


class EventRecord(_Resource):
    """One entry of a run's event log: what ``GET /v1/runs/{id}/events`` streams.

    ``seq`` is the SSE ``id`` (resume with ``Last-Event-ID``); ``event`` is the SSE event
    name: ``message`` (a chat message or agent event, ``data`` is its JSON), ``status``
    (``{"status": ..., "stop_reason": ..., "error": ...}``) or ``end`` (the last event);
    ``timing`` (a turn's timings, after its messages: ``timeline.py``).
    """

    seq: int
    event: Literal["message", "status", "end", "timing"]
    data: dict[str, Any]


class ApiKey(_Resource):
    """An API key as listed (the secret itself is shown once, when created)."""

    id: str
    name: str
    prefix: str
    """The first characters of the key, to tell keys apart."""
    created_at: datetime
    revoked_at: datetime | None = None


class Page(BaseModel):
    """A page of a list: ``items`` and the cursor of the next page (``None`` at the end)."""

    items: list[Any]
    next_cursor: str | None = None
