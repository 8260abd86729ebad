"""Run life-cycle steps, each a few statements on a connection inside the caller's transaction.

Lock order: a thread's row before any of its runs' rows, everywhere (PostgreSQL
``SELECT ... FOR UPDATE``; SQLite has one writer at a time anyway). Creating a run on a
busy thread touches the thread and then its runs; finishing a run touches its run and
then the thread's state: with one order, two such transactions queue instead of
deadlocking.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from ..exceptions import ConflictError, NotFoundError, OverloadedError
from ..models import TERMINAL_STATUSES, RunError, RunStatus, SpecRecord, Strategy, ThreadStatus
from ._checkpoints import rebuild_state
from ._rows import new_id, plain
from .base import STOP_INTERRUPT, STOP_ROLLBACK
from .tables import checkpoints, events, messages, model_responses, runs, threads

__all__ = [
    "ACTIVE",
    "AT",
    "EVENT_NAMES",
    "LOCK_RUN",
    "OVERLOAD_RETRY_AFTER",
    "append_events",
    "create_run",
    "finish_run",
    "lock_thread",
    "lock_thread_and_run",
    "refresh_thread_status",
    "RUNS_THREAD",
    "rollback_run",
    "set_thread_state",
    "stop_pending_run",
]

ACTIVE = (RunStatus.PENDING.value, RunStatus.RUNNING.value)
"""A thread's current runs: the ones a new run's strategy acts on."""
EVENT_NAMES = frozenset({"message", "status", "end", "timing"})
OVERLOAD_RETRY_AFTER = 2.0
"""Seconds a refused client is told to wait (runs take seconds; the queue moves that fast)."""

# The statements every run pays on the portable (SQLite) path, built once: building a
# statement and its cache key costs SQLAlchemy about twice what executing it does.
AT = sa.bindparam("at", type_=threads.c.updated_at.type)
"""The write's time, bound per call (``_turns.py`` binds it too)."""
RUNS_THREAD = sa.select(runs.c.thread_id).where(runs.c.id == sa.bindparam("run_id")).scalar_subquery()
"""The thread of run ``run_id``, bound per call."""
LOCK_RUN = sa.select(runs).where(runs.c.id == sa.bindparam("run_id")).with_for_update()
_LOCK_THREAD = sa.select(threads).where(threads.c.id == sa.bindparam("thread_id")).with_for_update()
_LOCK_RUNS_THREAD = sa.select(threads).where(threads.c.id == RUNS_THREAD).with_for_update()
_CURRENT_STATUSES = sa.select(runs.c.status).where(
    runs.c.thread_id == sa.bindparam("thread_id"),
    runs.c.status.in_(ACTIVE) | (runs.c.number == sa.bindparam("latest", type_=runs.c.number.type)),
)
_SET_THREAD_STATUS = (
    sa.update(threads)
    .where(threads.c.id == sa.bindparam("thread_id"))
    .values(status=sa.bindparam("status", type_=threads.c.status.type), updated_at=AT)
)
_SET_THREAD_STATE = (
    sa.update(threads)
    .where(threads.c.id == sa.bindparam("thread_id"))
    .values(
        state=sa.bindparam("state", type_=threads.c.state.type),
        state_run_id=sa.bindparam("run_id", type_=threads.c.state_run_id.type),
        state_turn=sa.bindparam("turn", type_=threads.c.state_turn.type),
        updated_at=AT,
    )
)
_END_RUN = (
    sa.update(runs)
    .where(runs.c.id == sa.bindparam("run_id"))
    .values(
        status=sa.bindparam("status", type_=runs.c.status.type),
        stop_reason=sa.bindparam("stop_reason", type_=runs.c.stop_reason.type),
        error=sa.bindparam("error", type_=runs.c.error.type),
        event_seq=sa.bindparam("event_seq", type_=runs.c.event_seq.type),
        finished_at=AT,
        updated_at=AT,
    )
    .returning(*runs.c)
)


async def lock_thread(conn: AsyncConnection, thread_id: str) -> RowMapping:
    """The thread's row, locked for this transaction."""
    row = (await conn.execute(_LOCK_THREAD, {"thread_id": thread_id})).mappings().first()
    if row is None:
        raise NotFoundError("thread", thread_id)
    return row


async def lock_thread_and_run(conn: AsyncConnection, run_id: str) -> tuple[RowMapping, RowMapping]:
    """The run's thread row and the run's row, locked in that order."""
    thread = (await conn.execute(_LOCK_RUNS_THREAD, {"run_id": run_id})).mappings().first()
    run = (await conn.execute(LOCK_RUN, {"run_id": run_id})).mappings().first()
    if thread is None or run is None:
        raise NotFoundError("run", run_id)
    return thread, run


async def append_events(
    conn: AsyncConnection,
    run_id: str,
    last_seq: int,
    items: Sequence[tuple[str, Mapping[str, Any]]],
    at: datetime,
) -> int:
    """Insert events numbered after ``last_seq``; returns the new last seq (the caller stores it)."""
    if not items:
        return last_seq
    for name, _ in items:
        if name not in EVENT_NAMES:
            raise ValueError(f"event {name!r}: must be one of {sorted(EVENT_NAMES)}")
    await conn.execute(
        sa.insert(events),
        [
            {"run_id": run_id, "seq": last_seq + i, "event": name, "data": plain(data), "created_at": at}
            for i, (name, data) in enumerate(items, start=1)
        ],
    )
    return last_seq + len(items)


def _ending_events(status: str, stop_reason: str | None, error: Any) -> list[tuple[str, Mapping[str, Any]]]:
    return [
        ("status", {"status": status, "stop_reason": stop_reason, "error": error}),
        ("end", {"status": status}),
    ]


async def refresh_thread_status(conn: AsyncConnection, thread: RowMapping, at: datetime) -> None:
    """Recompute the thread's status from its runs: busy, interrupted (latest run) or idle."""
    statuses = set(
        (
            await conn.execute(_CURRENT_STATUSES, {"thread_id": thread["id"], "latest": thread["run_count"]})
        ).scalars()
    )
    if statuses & set(ACTIVE):
        status = ThreadStatus.BUSY
    elif RunStatus.INTERRUPTED in statuses:  # only the latest run can be the one left interrupted
        status = ThreadStatus.INTERRUPTED
    else:
        status = ThreadStatus.IDLE
    await conn.execute(_SET_THREAD_STATUS, {"thread_id": thread["id"], "status": status.value, "at": at})


async def set_thread_state(
    conn: AsyncConnection, thread: RowMapping, run_id: str, turn: int, state: Mapping[str, Any], at: datetime
) -> None:
    """Make ``state`` (run ``run_id`` at ``turn``) the thread's state.

    The first time a run replaces another run's state, the old one is kept on the run
    (``prior_state``) so a rollback can put it back; the run before no longer needs its
    own copy (it can no longer be rolled back: this run builds on it).
    """
    if thread["state_run_id"] != run_id:
        await conn.execute(
            sa.update(runs)
            .where(runs.c.id == run_id)
            .values(
                replaced_state=True,
                prior_state=thread["state"],
                prior_state_run_id=thread["state_run_id"],
                prior_state_turn=thread["state_turn"],
            )
        )
        if thread["state_run_id"] is not None:
            await conn.execute(
                sa.update(runs).where(runs.c.id == thread["state_run_id"]).values(prior_state=None)
            )
    await conn.execute(
        _SET_THREAD_STATE,
        {"thread_id": thread["id"], "state": plain(state), "run_id": run_id, "turn": turn, "at": at},
    )


async def finish_run(
    conn: AsyncConnection,
    thread: RowMapping,
    run: RowMapping,
    status: RunStatus,
    at: datetime,
    *,
    stop_reason: str | None = None,
    error: RunError | None = None,
) -> RowMapping:
    """Stop the run with ``status``; its last checkpoint becomes the thread's state. Returns the run."""
    if run["last_turn"] is not None and (
        thread["state_run_id"] != run["id"] or thread["state_turn"] != run["last_turn"]
    ):
        checkpoint = await rebuild_state(conn, run["id"])
        if checkpoint is not None:
            await set_thread_state(conn, thread, run["id"], checkpoint.turn, checkpoint.state, at)
    reason = stop_reason if stop_reason is not None else run["stop_reason"]
    error_data = error.model_dump(mode="json") if error is not None else None
    seq = await append_events(
        conn, run["id"], run["event_seq"], _ending_events(status, reason, error_data), at
    )
    updated = await conn.execute(
        _END_RUN,
        {
            "run_id": run["id"],
            "status": status.value,
            "stop_reason": reason,
            "error": error_data,
            "event_seq": seq,
            "at": at,
        },
    )
    row = updated.mappings().one()
    await refresh_thread_status(conn, thread, at)
    return row


async def stop_pending_run(
    conn: AsyncConnection, thread: RowMapping, run: RowMapping, reason: str, at: datetime
) -> RowMapping:
    """Stop a run nobody executes: ``interrupted`` if asked to and it did something, else cancelled."""
    status = RunStatus.INTERRUPTED if reason == STOP_INTERRUPT and run["turns"] > 0 else RunStatus.CANCELLED
    await conn.execute(sa.update(runs).where(runs.c.id == run["id"]).values(stop_requested=reason))
    return await finish_run(conn, thread, run, status, at, stop_reason=reason)


async def rollback_run(
    conn: AsyncConnection, thread: RowMapping, run: RowMapping, at: datetime
) -> RowMapping:
    """Drop what the run did and end it ``cancelled`` (see ``Store.rollback_run``); returns the run."""
    if run["status"] in TERMINAL_STATUSES:
        raise ConflictError(
            f"run {run['id']!r} is {run['status']}: only a current or interrupted run rolls back"
        )
    later = await conn.scalar(
        sa.select(runs.c.id)
        .where(runs.c.thread_id == run["thread_id"], runs.c.number > run["number"], runs.c.turns > 0)
        .limit(1)
    )
    if later is not None:
        raise ConflictError(f"run {run['id']!r} cannot roll back: the later run {later!r} builds on it")
    for table in (messages, events, checkpoints, model_responses):
        await conn.execute(sa.delete(table).where(table.c.run_id == run["id"]))
    if thread["state_run_id"] == run["id"]:
        await conn.execute(
            sa.update(threads)
            .where(threads.c.id == thread["id"])
            .values(
                state=run["prior_state"],
                state_run_id=run["prior_state_run_id"],
                state_turn=run["prior_state_turn"],
                updated_at=at,
            )
        )
    status = RunStatus.CANCELLED.value
    seq = await append_events(
        conn, run["id"], run["event_seq"], _ending_events(status, STOP_ROLLBACK, None), at
    )
    updated = await conn.execute(
        sa.update(runs)
        .where(runs.c.id == run["id"])
        .values(
            status=status,
            stop_requested=STOP_ROLLBACK,
            stop_reason=STOP_ROLLBACK,
            turns=0,
            last_turn=None,
            event_seq=seq,
            replaced_state=False,
            prior_state=None,
            prior_state_run_id=None,
            prior_state_turn=None,
            finished_at=at,
            updated_at=at,
        )
        .returning(*runs.c)
    )
    row = updated.mappings().one()
    await refresh_thread_status(conn, thread, at)
    return row


async def _apply_strategy(
    conn: AsyncConnection, thread: RowMapping, strategy: Strategy, at: datetime
) -> None:
    if thread["status"] != ThreadStatus.BUSY or strategy == Strategy.ENQUEUE:
        return  # a thread is busy exactly while it has a pending or running run
    thread_id = thread["id"]
    current = (
        (
            await conn.execute(
                sa.select(runs)
                .where(runs.c.thread_id == thread_id, runs.c.status.in_(ACTIVE))
                .order_by(runs.c.number.desc())
                .with_for_update()
            )
        )
        .mappings()
        .all()
    )
    if not current:  # pragma: no cover - the status says there is one
        return
    if strategy == Strategy.REJECT:
        busy = current[-1]
        raise ConflictError(
            f"thread {thread_id!r} is busy: run {busy['id']!r} is {busy['status']} "
            "(use strategy enqueue, interrupt or rollback)",
            field="strategy",
        )
    for run in current:  # newest first: a rollback restores the state each run found
        thread = await lock_thread(conn, thread_id)
        if strategy == Strategy.ROLLBACK:
            await rollback_run(conn, thread, run, at)
        elif run["status"] == RunStatus.PENDING:
            await stop_pending_run(conn, thread, run, STOP_INTERRUPT, at)
        else:
            await conn.execute(
                sa.update(runs)
                .where(runs.c.id == run["id"])
                .values(stop_requested=STOP_INTERRUPT, updated_at=at)
            )


async def create_run(
    conn: AsyncConnection,
    thread_id: str,
    spec: SpecRecord,
    task: Sequence[Mapping[str, Any]] | None,
    strategy: Strategy,
    at: datetime,
    *,
    max_queue: int | None,
    metadata: Mapping[str, Any] | None,
) -> RowMapping:
    """Insert a pending run after applying ``strategy`` to the thread's current runs."""
    thread = await lock_thread(conn, thread_id)
    if max_queue is not None:
        depth = await conn.scalar(
            sa.select(sa.func.count()).select_from(runs).where(runs.c.status == RunStatus.PENDING.value)
        )
        if (depth or 0) >= max_queue:
            raise OverloadedError(
                f"{depth} runs are waiting (limit {max_queue}); retry later",
                retry_after=OVERLOAD_RETRY_AFTER,
            )
    await _apply_strategy(conn, thread, strategy, at)
    row = {
        "id": new_id(),
        "thread_id": thread_id,
        "number": thread["run_count"] + 1,
        "spec": spec.name,
        "spec_version": spec.version,
        "status": RunStatus.PENDING.value,
        "strategy": strategy.value,
        "task": [plain(m) for m in task] if task is not None else None,
        "metadata": plain(metadata or {}),
        "attempt": 1,
        "turns": 0,
        "event_seq": 0,
        "replaced_state": False,
        "created_at": at,
        "updated_at": at,
    }
    created = (await conn.execute(sa.insert(runs).values(row).returning(*runs.c))).mappings().one()
    await conn.execute(
        sa.update(threads)
        .where(threads.c.id == thread_id)
        .values(run_count=threads.c.run_count + 1, status=ThreadStatus.BUSY.value, updated_at=at)
    )
    return created
