"""The store: the one source of truth of the service (specs, threads, runs, messages, events,
checkpoints, recorded model responses, API keys).

One protocol, one SQLAlchemy 2 async implementation for both SQLite (the embedded default:
a file, WAL, zero setup) and PostgreSQL (psycopg 3). Every method is one transaction;
``record_turn`` is the durable-runs write: a turn's messages, events and checkpoint land
together or not at all, before the next turn starts.

Errors: unknown ids raise :class:`~muster.service.exceptions.NotFoundError`; a lost
database raises :class:`~muster.service.exceptions.StoreUnavailableError`; an illegal
status transition raises :class:`~muster.service.exceptions.ConflictError`. Nothing
already stored is lost by a refused write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from ..models import (
    ApiKey,
    EventRecord,
    MessageRecord,
    Run,
    RunError,
    RunStatus,
    SpecRecord,
    Strategy,
    Thread,
)

__all__ = ["Checkpoint", "Store", "TurnWrite"]


@dataclass(frozen=True, slots=True)
class TurnWrite:
    """Everything one turn boundary writes, in one transaction.

    Attributes:
        run_id: The run.
        turn: The boundary's index (``TurnCheckpoint.turn``); a turn already written for
            this run (a resumed run redoing work) is refused with ``ConflictError``, so
            nothing is ever stored twice.
        messages: The turn's messages (``message.dump()``), appended to the thread in order.
        events: Extra events to append after the messages' own ``message`` events
            (e.g. a ``status`` event at the last boundary).
        state: The full ``TeamState`` at this boundary, or ``None`` when ``delta`` is given.
        delta: The state as a delta against the previous turn's (``muster.teams.state_delta``).
        finished: Whether this is the run's last boundary (the state becomes the thread's
            state, the run's status is set with ``stop_reason``).
        stop_reason: Why the run stopped, at the last boundary.
    """

    run_id: str
    turn: int
    messages: Sequence[Mapping[str, Any]]
    state: Mapping[str, Any] | None = None
    delta: Mapping[str, Any] | None = None
    events: Sequence[tuple[str, Mapping[str, Any]]] = ()
    finished: bool = False
    stop_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The state to resume a run from: the last turn written and the full state there."""

    turn: int
    state: Mapping[str, Any]


@runtime_checkable
class Store(Protocol):
    """What the API and the executors need from the database (see the module docstring)."""

    # ------------------------------------------------------------ lifecycle
    async def open(self) -> None:
        """Connect (and, on SQLite, create or upgrade the schema)."""
        ...

    async def close(self) -> None:
        """Release every connection."""
        ...

    async def ping(self) -> None:
        """Raise ``StoreUnavailableError`` unless the database answers now (``/ready``)."""
        ...

    # ------------------------------------------------------------ specs
    async def put_spec(self, name: str, component: Mapping[str, Any]) -> SpecRecord:
        """Store ``component`` under ``name``: a new version if it differs from the latest."""
        ...

    async def get_spec(self, name: str, version: int | None = None) -> SpecRecord:
        """The latest (or the given) version of spec ``name``."""
        ...

    async def list_specs(self) -> list[SpecRecord]:
        """The latest version of every spec."""
        ...

    # ------------------------------------------------------------ threads
    async def create_thread(self, metadata: Mapping[str, Any] | None = None) -> Thread: ...

    async def get_thread(self, thread_id: str) -> Thread: ...

    async def thread_state(self, thread_id: str) -> Mapping[str, Any] | None:
        """The team state the thread's last finished run left (``None`` before any)."""
        ...

    async def list_messages(self, thread_id: str, *, after: int = 0, limit: int = 100) -> list[MessageRecord]:
        """The thread's messages with ``seq > after``, oldest first, at most ``limit``."""
        ...

    # ------------------------------------------------------------ runs
    async def create_run(
        self,
        thread_id: str,
        spec: SpecRecord,
        task: Sequence[Mapping[str, Any]] | None,
        strategy: Strategy,
        *,
        max_queue: int | None = None,
    ) -> Run:
        """Add a ``pending`` run to the thread, applying ``strategy`` atomically.

        ``reject`` raises ``ConflictError`` if the thread has a pending, running or
        interrupted run; ``interrupt`` and ``rollback`` mark the current run for stopping
        (see :meth:`request_stop`); ``enqueue`` just queues. With ``max_queue``, raises
        ``OverloadedError`` when that many runs are pending service-wide.
        """
        ...

    async def get_run(self, run_id: str) -> Run: ...

    async def list_runs(self, thread_id: str) -> list[Run]: ...

    async def run_task(self, run_id: str) -> list[Mapping[str, Any]] | None:
        """The task messages the run was created with."""
        ...

    async def claim_run(self, run_id: str, worker: str) -> Run | None:
        """Move a ``pending`` run to ``running`` for ``worker`` (``attempt`` counts takeovers).

        Returns ``None`` if the run is no longer pending (cancelled meanwhile, or another
        worker has it), so a run is never executed twice at once.
        """
        ...

    async def heartbeat(self, run_id: str, worker: str) -> bool:
        """Mark the run alive; ``False`` if the worker lost it (then it must stop)."""
        ...

    async def finish_run(
        self,
        run_id: str,
        status: RunStatus,
        *,
        stop_reason: str | None = None,
        error: RunError | None = None,
    ) -> Run:
        """Set a final (or ``interrupted``) status, append the ``status`` and ``end`` events."""
        ...

    async def release_run(self, run_id: str, worker: str) -> None:
        """Give a running run back (``pending``) so another worker resumes it (SIGTERM drain)."""
        ...

    async def request_stop(self, run_id: str, reason: str) -> Run:
        """Ask a pending or running run to stop at its next turn boundary (cancel, interrupt)."""
        ...

    async def stop_requested(self, run_id: str) -> str | None:
        """The reason a stop was asked for, or ``None`` (checked at every turn boundary)."""
        ...

    async def rollback_run(self, run_id: str) -> None:
        """Drop what a run did: its messages leave the thread, its checkpoints and events go."""
        ...

    async def pending_runs(self) -> list[Run]:
        """Pending runs, oldest first (what an in-process executor resumes at start)."""
        ...

    async def stale_runs(self, older_than: datetime) -> list[Run]:
        """Running runs whose heartbeat is older than ``older_than`` (their worker died)."""
        ...

    async def queue_depth(self) -> int:
        """How many runs are pending."""
        ...

    # ------------------------------------------------------------ durable turns
    async def record_turn(self, write: TurnWrite) -> None:
        """Write one turn boundary atomically (see :class:`TurnWrite`)."""
        ...

    async def latest_checkpoint(self, run_id: str) -> Checkpoint | None:
        """The last turn written for the run and the full state there (deltas applied)."""
        ...

    async def read_events(self, run_id: str, *, after: int = 0, limit: int = 1000) -> list[EventRecord]:
        """The run's events with ``seq > after``, in order."""
        ...

    async def get_model_response(self, run_id: str, key: str) -> Mapping[str, Any] | None:
        """A model response recorded for this run under ``key`` (a hash of the request)."""
        ...

    async def put_model_response(self, run_id: str, key: str, response: Mapping[str, Any]) -> None:
        """Record a model response, so a resumed run replays it instead of calling again."""
        ...

    # ------------------------------------------------------------ API keys
    async def create_api_key(self, name: str, secret: str | None = None) -> tuple[ApiKey, str]:
        """Store a key (hashed; ``secret`` generated when not given); returns it and the secret."""
        ...

    async def verify_api_key(self, secret: str) -> ApiKey | None:
        """The live key with this secret, or ``None``."""
        ...

    async def revoke_api_key(self, key_id: str) -> ApiKey: ...

    async def list_api_keys(self) -> list[ApiKey]: ...

    # ------------------------------------------------------------ retention
    async def prune(self, finished_before: datetime) -> int:
        """Delete events and checkpoints of runs finished before the date; returns rows deleted."""
        ...
