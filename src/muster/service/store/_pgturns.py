"""A turn boundary, and a run's end with its last turn, on PostgreSQL: one function call.

The portable write (``_turns.py`` and ``_runs.finish_run`` through SQLAlchemy Core) reads
the thread and run rows, checks them, then writes: a dozen statements, each a round trip.
On PostgreSQL the same write is one call of ``muster_turn(jsonb)`` (migration 0003), sent
in autocommit: the call is its own transaction and its one round trip. A transaction of
the same statements pipelined (BEGIN, 5-10 statements, COMMIT) cost about four times the
CPU here, in the worker and in PostgreSQL alike, because every statement psycopg sends
wakes the server; what a write costs is its round trips, not its rows. The function:

1. locks the thread, then the run (the lock order of every write path);
2. returns no row, having written nothing, unless the write is allowed
   (``status = 'running'``, held by ``worker``, ``turn`` after its last);
3. bumps the thread's message counter and inserts the checkpoint, the messages and the
   events numbered from the counters it read (``threads.message_seq``, ``runs.event_seq``);
4. updates the run, and for a run's end its status, the thread's state and status;
5. sends the ``NOTIFY`` of the write, delivered at its commit.

A refused write is then explained (:func:`refusal`) with the checks and messages of the
portable path, so both backends refuse the same writes with the same errors.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..exceptions import ConflictError, NotFoundError
from ..models import RunError, RunStatus
from ._pgpaths import RUN_COLUMNS, fetch_one
from ._runs import EVENT_NAMES
from ._turns import turn_conflict
from .base import TurnWrite

__all__ = ["NOTIFY", "RunEnd", "write_turn", "refusal", "turn_call"]

NOTIFY = "SELECT pg_notify(%s, %s)"

_TURN = f"SELECT {RUN_COLUMNS} FROM muster_turn(%s::jsonb)"


class RunEnd:
    """The end a run's last turn is written with: its status, stop reason and error."""

    __slots__ = ("error", "status", "stop_reason")

    def __init__(self, status: RunStatus, stop_reason: str | None, error: RunError | None) -> None:
        self.status = status
        self.stop_reason = stop_reason
        self.error = error


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def turn_call(
    write: TurnWrite,
    at: datetime,
    end: RunEnd | None = None,
    channel: str | None = None,
    entrypoint: str | None = None,
) -> dict[str, Any]:
    """``muster_turn``'s argument for the write (migrations 0003 and 0004 document its keys)."""
    events: list[Any] = []
    for name, data in write.all_events():
        if name not in EVENT_NAMES:
            raise ValueError(f"event {name!r}: must be one of {sorted(EVENT_NAMES)}")
        events.append([name, data])
    reason = write.stop_reason if write.finished else None
    call: dict[str, Any] = {
        "run": write.run_id,
        "at": at.isoformat(),
        "turn": write.turn,
        "first": write.first_turn,
        "boundaries": 1 + len(write.earlier),
        "responses": [[key, response] for key, response in write.responses],
        "messages": write.all_messages(),
        "events": events,
        "state": write.state,
        "delta": write.delta,
        "finished": write.finished,
        "worker": write.worker,
        "channel": channel,
    }
    if end is not None:
        reason = end.stop_reason if end.stop_reason is not None else reason
        error = end.error.model_dump(mode="json") if end.error is not None else None
        status = end.status.value
        events.append(["status", {"status": status, "stop_reason": reason, "error": error}])
        events.append(["end", {"status": status}])
        call["status"] = status
        call["error"] = error
        call["entrypoint"] = entrypoint
    call["reason"] = reason
    return call


async def write_turn(
    pg: Any,
    write: TurnWrite,
    at: datetime,
    end: RunEnd | None = None,
    channel: str | None = None,
    entrypoint: str | None = None,
) -> dict[str, Any] | None:
    """Write the turn (and the run's end) in one call; returns the run row, or ``None`` if refused.

    ``pg`` is a psycopg ``AsyncConnection`` in autocommit (the call is its own
    transaction). ``None`` means the run refused the write and nothing was written: the
    caller asks :func:`refusal` why. ``channel``: a ``NOTIFY`` channel told of the write,
    at its commit (``SqlStore.notify_channel``); ``entrypoint``: at a run's end, queue the
    thread's next run's job (``SqlStore.job_entrypoint``). Errors the function raises (a turn stored
    twice, a missing base for a delta) come out of here as psycopg's; the caller asks
    :func:`refusal` too.
    """
    call = json.dumps(turn_call(write, at, end, channel, entrypoint))
    return await fetch_one(pg, _TURN, (call,))


def refusal(write: TurnWrite, run: Mapping[Any, Any] | None, error: BaseException | None) -> Exception:
    """Why a turn write was refused: the portable path's error for the same write.

    ``run`` is the run's row read after the refusal (``None``: no such run); ``error``
    the database error the call raised, if any.
    """
    if run is None:
        return NotFoundError("run", write.run_id)
    conflict = turn_conflict(run, write)
    if conflict is not None:
        return conflict
    last = run["last_turn"]
    if write.state is None and error is not None and type(error).__name__ == "NotNullViolation":
        return ValueError(
            f"run {run['id']!r} turn {write.turn}: a delta needs the checkpoint of turn {write.turn - 1} "
            f"(last turn: {last}); pass the full state"
        )
    return ConflictError(f"run {write.run_id!r}: turn {write.turn} is already written")
