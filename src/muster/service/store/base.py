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

Stop reasons (:meth:`Store.request_stop`, :meth:`Store.stop_requested`): ``"cancel"``,
``"interrupt"`` (a newer run with strategy ``interrupt``) and ``"rollback"`` (the run was
rolled back: it is already ``cancelled`` and its writes are refused). A runner that sees
``"interrupt"`` finishes the run ``interrupted``; any other reason, ``cancelled``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
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

__all__ = [
    "STOP_CANCEL",
    "STOP_INTERRUPT",
    "STOP_ROLLBACK",
    "Checkpoint",
    "RunStart",
    "Store",
    "TurnWrite",
    "events_from_notices",
    "result_from_notice",
]

STOP_CANCEL = "cancel"
"""``POST /v1/runs/{id}/cancel``."""
STOP_INTERRUPT = "interrupt"
"""A newer run on the thread with strategy ``interrupt``."""
STOP_ROLLBACK = "rollback"
"""The run was rolled back (strategy ``rollback``); it is already ``cancelled``."""


@dataclass(frozen=True, slots=True)
class RunStart:
    """What a worker needs to start a run, read in one query (``Store.run_start``)."""

    task: Sequence[Mapping[str, Any]] | None
    """The task messages the run was created with."""
    previous: Run | None
    """The thread's run before this one (by number), if any."""
    thread_state: Mapping[str, Any] | None
    """The team state the thread's runs left (``None`` before any)."""


@dataclass(frozen=True, slots=True)
class TurnWrite:
    """Everything one turn boundary writes, in one transaction.

    Attributes:
        run_id: The run.
        turn: The boundary's index (``TurnCheckpoint.turn``); a turn already written for
            this run (a resumed run redoing work), or one before it, is refused with
            ``ConflictError``, so nothing is ever stored twice.
        messages: The turn's messages (``message.dump()``), appended to the thread in order.
        events: Extra events to append after the messages' own ``message`` events.
        state: The full ``TeamState`` at this boundary.
        delta: The state as a delta against the previous turn's (``muster.teams.state_delta``).
            It is stored instead of ``state`` only when the run's last checkpoint is turn
            ``turn - 1`` (the delta's base); otherwise ``state`` is stored, and a write
            with neither a usable delta nor a state raises ``ValueError``. Passing both
            (``TurnCheckpoint`` carries both) is always safe.
        finished: Whether this is the run's last boundary: the state becomes the thread's
            state and ``stop_reason`` the run's. The status is set by ``finish_run``
            (the runner knows whether the run succeeded or was interrupted);
            ``Checkpoint.finished`` tells a runner resuming after a crash in between.
        stop_reason: Why the run stopped, at the last boundary.
        worker: When given, the write is refused (``ConflictError``) unless this worker
            holds the run: a worker whose run was taken over can never write into it.
        earlier: Boundaries before this one that were not written on their own (the
            runner holds the task's boundary back briefly, to write it with the next
            one): their messages and events are written first, in order, in the same
            transaction, and they count as turns; their checkpoints are not stored (this
            write's, a full ``state``, supersedes them). The write is refused if the
            first of them is already written.
        responses: Recorded model responses (``(key, response)``, as
            ``Store.put_model_response`` takes them) written in the same transaction.
    """

    run_id: str
    turn: int
    messages: Sequence[Mapping[str, Any]]
    state: Mapping[str, Any] | None = None
    delta: Mapping[str, Any] | None = None
    events: Sequence[tuple[str, Mapping[str, Any]]] = ()
    finished: bool = False
    stop_reason: str | None = None
    worker: str | None = None
    earlier: Sequence[TurnWrite] = ()
    responses: Sequence[tuple[str, Mapping[str, Any]]] = ()

    @property
    def first_turn(self) -> int:
        """The first boundary this write stands for (``turn`` unless it carries ``earlier``)."""
        return self.earlier[0].turn if self.earlier else self.turn

    def all_messages(self) -> list[Mapping[str, Any]]:
        """The thread's new messages, ``earlier``'s first."""
        return [m for w in (*self.earlier, self) for m in w.messages]

    def all_events(self) -> list[tuple[str, Mapping[str, Any]]]:
        """The run's new events in order: each boundary's ``message`` events, then its ``events``."""
        found: list[tuple[str, Mapping[str, Any]]] = []
        for w in (*self.earlier, self):
            found.extend(("message", m) for m in w.messages)
            found.extend(w.events)
        return found


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The state to resume a run from: the last turn written and the full state there.

    Attributes:
        turn: The last turn written.
        state: The full ``TeamState`` there (deltas applied).
        finished: The turn was the run's last boundary: a resumed runner only has to call
            ``finish_run`` (the run crashed between its last turn and its status).
    """

    turn: int
    state: Mapping[str, Any]
    finished: bool = False


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

    def known_spec(self, name: str) -> SpecRecord | None:
        """The version of ``name`` this process last saw as its latest (no I/O; may be stale), or ``None``."""
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
        metadata: Mapping[str, Any] | None = None,
        on_insert: Callable[[Any, Run], Awaitable[None]] | None = None,
        latest: bool = False,
    ) -> Run:
        """Add a ``pending`` run to the thread, applying ``strategy`` atomically.

        The thread's current runs are its ``pending`` and ``running`` ones. ``reject``
        raises ``ConflictError`` if there is one (an ``interrupted`` run does not count:
        posting input to its thread is how a human answers it); ``enqueue`` just queues;
        ``interrupt`` asks running runs to stop (reason ``"interrupt"``) and stops pending
        ones at once (``interrupted`` if they already wrote turns, else ``cancelled``);
        ``rollback`` rolls every current run back (:meth:`rollback_run`) in the same
        transaction. With ``max_queue``, raises ``OverloadedError`` when that many runs
        are pending service-wide (checked before anything changes). ``on_insert``
        (PostgreSQL only) is awaited with the transaction's psycopg connection and the new
        run before the commit when the run is its thread's only current run (it can start
        at once): what it writes (the run's job) commits with the run; when it names an
        ``entrypoint`` (the job queue's), the PostgreSQL store queues the job itself, in the
        same call. A run behind others is queued when the run before it ends (the
        executor's business). ``latest``: the run takes the latest version of
        ``spec.name`` at its creation, whatever version ``spec`` is (one from
        :meth:`known_spec`: on PostgreSQL the version is resolved in the same call).
        """
        ...

    async def get_run(self, run_id: str) -> Run: ...

    async def run_result(self, run_id: str) -> tuple[Run, list[dict[str, Any]]] | None:
        """The run and the messages it wrote, once it has ended (its ``end`` event is stored); ``None`` before.

        Raises:
            NotFoundError: no such run.
        """
        ...

    async def list_runs(self, thread_id: str) -> list[Run]: ...

    async def run_task(self, run_id: str) -> list[Mapping[str, Any]] | None:
        """The task messages the run was created with."""
        ...

    async def run_start(self, run_id: str) -> RunStart:
        """The run's task, the thread's previous run and the thread's state, at once."""
        ...

    async def claim_run_start(
        self, run_id: str, worker: str, *, stale_before: datetime | None = None
    ) -> tuple[Run, RunStart] | None:
        """:meth:`claim_run`, then :meth:`run_start` for the claimed run (one round trip where it can)."""
        ...

    async def claim_run(
        self, run_id: str, worker: str, *, stale_before: datetime | None = None
    ) -> Run | None:
        """Move a ``pending`` run to ``running`` for ``worker`` (``attempt`` counts takeovers).

        With ``stale_before``, a ``running`` run whose heartbeat is older is taken over too
        (its worker died). Returns ``None`` if the run cannot be claimed (cancelled
        meanwhile, another live worker has it, or an earlier run of its thread is still
        pending or running: a thread's runs execute in order): an atomic compare-and-set,
        so a run is never executed twice at once. ``attempt`` goes up when a run that already started
        is claimed again (a takeover or a released run).
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
        worker: str | None = None,
        turn: TurnWrite | None = None,
    ) -> Run:
        """Set a final (or ``interrupted``) status, append the ``status`` and ``end`` events.

        The run's last checkpoint becomes the thread's state (if ``record_turn`` did not
        make it so already), so the thread's state always matches its messages. Raises
        ``ConflictError`` unless the run is ``pending`` or ``running`` (and held by
        ``worker``, when given); ``ValueError`` for a status that is not final or
        ``interrupted``.

        ``turn``: the run's last boundary, written first in the same transaction (what
        ``record_turn`` would write, refused as it would refuse it): a run's end costs
        one transaction, not two, and there is no moment at which its last turn is stored
        but its status is not.
        """
        ...

    async def release_run(self, run_id: str, worker: str) -> bool:
        """Give a running run back (``pending``) so another worker resumes it (SIGTERM drain).

        ``False`` when ``worker`` no longer holds the run (nothing changes then).
        """
        ...

    async def request_stop(self, run_id: str, reason: str) -> Run:
        """Ask a run to stop (``"cancel"``, ``"interrupt"``; see the module docstring).

        A running run stops at its next turn boundary (its runner checks
        :meth:`stop_requested`). A pending run, which nobody executes yet, stops at once:
        ``interrupted`` for ``"interrupt"`` if it already wrote turns, else ``cancelled``,
        with its ``status`` and ``end`` events. Raises ``ConflictError`` for a run that
        already stopped.
        """
        ...

    async def stop_requested(self, run_id: str) -> str | None:
        """The reason a stop was asked for, or ``None`` (checked at every turn boundary)."""
        ...

    async def rollback_run(self, run_id: str) -> Run:
        """Drop what a run did; the run ends ``cancelled`` (stop reason ``"rollback"``).

        Its messages leave the thread, its checkpoints, events and recorded responses go,
        and the thread's state goes back to what it was before the run; a fresh ``status``
        and ``end`` event pair (numbered after the dropped events) ends its stream. A
        running run's worker finds its next write refused and its heartbeat lost. Raises
        ``ConflictError`` for a run already ``succeeded``, ``failed`` or ``cancelled``, or
        when a later run of the thread has written turns (they build on this one).
        """
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

    async def run_counts(self) -> dict[RunStatus, int]:
        """How many runs are in each status (every status present, zeros included)."""
        ...

    async def worker_heartbeat(self, name: str, *, forget_before: datetime | None = None) -> None:
        """Record that the worker ``name`` is alive now (its row is made on the first beat).

        ``forget_before``: also forget workers whose last heartbeat is older (a worker
        starting does it, so a dead worker counts as offline until one is started again).
        """
        ...

    async def worker_stopped(self, name: str) -> None:
        """Forget the worker ``name`` (a clean stop: it is neither online nor offline any more)."""
        ...

    async def worker_counts(self, stalled_before: datetime) -> tuple[int, int, int]:
        """Workers ``(online, offline, busy)``: heartbeat since ``stalled_before``, before it, holding a running run."""
        ...

    # ------------------------------------------------------------ durable turns
    async def record_turn(self, write: TurnWrite) -> str | None:
        """Write one turn boundary atomically (see :class:`TurnWrite`); returns the run's stop request.

        Appends the messages to the thread, one ``message`` event per message and then
        ``events`` to the run, the checkpoint, and counts the turn (and heartbeats). Raises
        ``ConflictError``, writing nothing, when the turn is already written or the run is
        not ``running`` (cancelled, rolled back, taken over). The stop request (as
        :meth:`stop_requested` reads it) comes back with the write, so the runner need
        not ask for it at every boundary.
        """
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
        """Record a model response, so a resumed run replays it instead of calling again.

        The first response recorded under a key wins: a later put of the same key is
        ignored, so a replayed answer is always the one the run first got.
        """
        ...

    # ------------------------------------------------------------ API keys
    async def create_api_key(self, name: str, secret: str | None = None) -> tuple[ApiKey, str]:
        """Store a key (hashed; ``secret`` generated when not given); returns it and the secret.

        Raises ``ConflictError`` if a key with this secret exists (revoked or not), and
        ``InvalidRequestError`` for a given secret shorter than 16 characters (its listed
        prefix would give most of it away).
        """
        ...

    async def verify_api_key(self, secret: str) -> ApiKey | None:
        """The live key with this secret, or ``None``."""
        ...

    async def revoke_api_key(self, key_id: str) -> ApiKey: ...

    async def list_api_keys(self) -> list[ApiKey]: ...

    # ------------------------------------------------------------ retention
    async def prune(self, finished_before: datetime) -> int:
        """Delete events, checkpoints and recorded responses of runs finished before the date.

        Only stopped runs (``finished_at`` set) are pruned; run rows, the thread's messages
        and its state stay. Returns the number of rows deleted.
        """
        ...


def result_from_notice(notice: str) -> tuple[Run, list[dict[str, Any]]] | None:
    """A run's result as the notification of its end carried it (``Store.run_result``'s shape).

    PostgreSQL's turn write sends it when it fits (migration 0004). ``None`` when the
    notice holds no result (a waiter then reads the store, as without one).
    """
    try:
        data = json.loads(notice)
        return Run.model_validate(data["run"]), [dict(m) for m in data["messages"]]
    except (ValueError, TypeError, KeyError):
        return None


def events_from_notices(notices: Sequence[str], after: int) -> list[EventRecord] | None:
    """The events with ``seq > after`` that notifications carried, when they are all of them.

    ``notices`` are a subscription's, in the order the writes were made (each write's
    events, migration 0004; ``""`` for a wake-up that carried nothing). The answer is the
    events after ``after``, when the notices hold them all, without a gap (a notice that
    carried no events, one lost, or a reader that started late makes a gap): ``None``
    otherwise, and the reader reads the store.
    """
    found: list[EventRecord] = []
    expected = after + 1
    for notice in notices:
        try:
            carried = json.loads(notice)["events"]
        except (ValueError, TypeError, KeyError):
            return None
        for seq, event, data in carried:
            if seq < expected:
                continue  # read from the store already
            if seq != expected:
                return None
            found.append(EventRecord(seq=seq, event=event, data=data))
            expected += 1
    return found or None
