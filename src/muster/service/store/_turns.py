"""The durable-runs write: one turn boundary, in the caller's transaction.

Everything is checked before anything is written, and the whole write is one
transaction, so a refused turn leaves no trace. Two workers can never both write turn
k: the thread and run rows are locked first (so the second writer waits and then sees the
turn written), and the ``(run_id, turn)`` primary key refuses a duplicate regardless.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from muster.teams import apply_state_delta

from ..exceptions import ConflictError, NotFoundError
from ..models import RunStatus
from ._checkpoints import DELTA, FULL, rebuild_state
from ._rows import plain
from ._runs import AT, LOCK_RUN, RUNS_THREAD, append_events, set_thread_state
from .base import TurnWrite
from .tables import checkpoints, messages, model_responses, runs, threads

__all__ = ["record_turn", "turn_conflict"]

# Built once (building a statement and its cache key costs SQLAlchemy about twice what
# executing it does); the parameters are bound at each write.
_TAKE_MESSAGE_NUMBERS = (
    sa.update(threads)
    .where(threads.c.id == RUNS_THREAD)
    .values(message_seq=threads.c.message_seq + sa.bindparam("count", type_=sa.Integer), updated_at=AT)
    .returning(*threads.c)
)
_INSERT_CHECKPOINT = sa.insert(checkpoints)
# The first response recorded under a key wins (``Store.put_model_response``), on either backend.
_INSERT_RESPONSES = {
    "sqlite": sqlite_insert(model_responses).on_conflict_do_nothing(index_elements=["run_id", "key"]),
    "postgresql": pg_insert(model_responses).on_conflict_do_nothing(index_elements=["run_id", "key"]),
}


def _advance_run(*, with_reason: bool) -> sa.Update:
    values: dict[str, Any] = {
        "turns": runs.c.turns + sa.bindparam("boundaries", type_=sa.Integer),
        "last_turn": sa.bindparam("last_turn", type_=runs.c.last_turn.type),
        "event_seq": sa.bindparam("event_seq", type_=runs.c.event_seq.type),
        "heartbeat_at": AT,
        "updated_at": AT,
    }
    if with_reason:
        values["stop_reason"] = sa.bindparam("stop_reason", type_=runs.c.stop_reason.type)
    return sa.update(runs).where(runs.c.id == sa.bindparam("run_id")).values(values)


_ADVANCE_RUN = _advance_run(with_reason=False)
_ADVANCE_RUN_WITH_REASON = _advance_run(with_reason=True)


async def record_turn(conn: AsyncConnection, write: TurnWrite, at: datetime) -> str | None:
    """Write ``write`` (see ``Store.record_turn``); returns the run's stop request."""
    # Taking the thread's message numbers locks the thread row first (the lock order);
    # a refused write below rolls the increment back with everything else.
    new_messages = write.all_messages()
    count = len(new_messages)
    params = {"run_id": write.run_id, "count": count, "at": at}
    thread = (await conn.execute(_TAKE_MESSAGE_NUMBERS, params)).mappings().first()
    run = (await conn.execute(LOCK_RUN, params)).mappings().first()
    if thread is None or run is None:
        raise NotFoundError("run", write.run_id)
    refused = turn_conflict(run, write)
    if refused is not None:
        raise refused
    last = run["last_turn"]
    if write.delta is not None and last is not None and last == write.turn - 1:
        kind, payload = DELTA, write.delta
    elif write.state is not None:
        kind, payload = FULL, write.state
    else:
        raise ValueError(
            f"run {run['id']!r} turn {write.turn}: a delta needs the checkpoint of turn {write.turn - 1} "
            f"(last turn: {last}); pass the full state"
        )
    full_state: Mapping[str, Any] | None = None
    if write.finished:
        full_state = write.state if write.state is not None else await _state_after(conn, run["id"], payload)

    seq = thread["message_seq"] - count
    if new_messages:
        await conn.execute(
            sa.insert(messages),
            [
                {
                    "thread_id": thread["id"],
                    "seq": seq + i,
                    "run_id": run["id"],
                    "message": plain(m),
                    "created_at": at,
                }
                for i, m in enumerate(new_messages, start=1)
            ],
        )
    event_seq = await append_events(conn, run["id"], run["event_seq"], write.all_events(), at)
    if write.responses:
        await conn.execute(
            _INSERT_RESPONSES[conn.dialect.name],
            [
                {"run_id": run["id"], "key": k, "response": plain(r), "created_at": at}
                for k, r in write.responses
            ],
        )
    await conn.execute(
        _INSERT_CHECKPOINT,
        {
            "run_id": run["id"],
            "turn": write.turn,
            "kind": kind,
            "state": plain(payload),
            "finished": write.finished,
            "created_at": at,
        },
    )
    advance = {
        "run_id": run["id"],
        "last_turn": write.turn,
        "event_seq": event_seq,
        "at": at,
        "boundaries": 1 + len(write.earlier),
    }
    if write.finished and write.stop_reason is not None:
        await conn.execute(_ADVANCE_RUN_WITH_REASON, {**advance, "stop_reason": write.stop_reason})
    else:
        await conn.execute(_ADVANCE_RUN, advance)
    if full_state is not None:
        await set_thread_state(conn, thread, run["id"], write.turn, full_state, at)
    stop: str | None = run["stop_requested"]
    return stop


def turn_conflict(run: Mapping[Any, Any], write: TurnWrite) -> ConflictError | None:
    """Why ``run`` (its row) refuses ``write``, or ``None``: the checks both write paths share."""
    if run["status"] != RunStatus.RUNNING:
        return ConflictError(
            f"run {run['id']!r} is {run['status']}, not running: turn {write.turn} not written"
        )
    if write.worker is not None and run["worker"] != write.worker:
        return ConflictError(f"run {run['id']!r} is held by {run['worker']!r}, not {write.worker!r}")
    last = run["last_turn"]
    if last is not None and write.first_turn <= last:
        return ConflictError(
            f"run {run['id']!r}: turn {write.first_turn} is already written (last turn {last})"
        )
    return None


async def _state_after(conn: AsyncConnection, run_id: str, delta: Mapping[str, Any]) -> Mapping[str, Any]:
    previous = await rebuild_state(conn, run_id)
    assert previous is not None, "a delta is only stored after its base"
    result: Mapping[str, Any] = apply_state_delta(previous.state, delta)
    return result
