"""A turn boundary, and a run's end with its last turn, on PostgreSQL: one pipeline.

The portable write (``_turns.py`` and ``_runs.finish_run`` through SQLAlchemy Core) reads
the thread and run rows, checks them, then writes: a dozen statements, each a round trip
and each paying SQLAlchemy's per-statement cost, which made the store most of a run's
CPU time. Here the same write is a fixed list of statements sent together in psycopg's
pipeline mode, on the pooled connection's driver connection, inside the store's
transaction:

1. the thread's message counter goes up (this locks the thread row first: the lock order);
2. the checkpoint, the messages and the events are inserted, numbered from the counters
   the statements read (``threads.message_seq``, ``runs.event_seq``);
3. the run row is updated only if the write is allowed (``status = 'running'``, held by
   ``worker``, ``turn`` after its last): the one result the client waits for.

Nothing is committed unless step 3 matched the run: a refused write is rolled back and
then explained (:func:`refusal`) with the checks and messages of the portable path, so
both backends refuse the same writes with the same errors. A run's end adds its ending
events, its status, the thread's state and the thread's status to the same pipeline.
Two round trips in all (the pipeline, then COMMIT), whatever the number of messages.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ..exceptions import ConflictError, NotFoundError
from ..models import RunError, RunStatus
from ..notify.base import payload
from ._pgpaths import RUN_COLUMNS
from ._runs import EVENT_NAMES
from ._turns import turn_conflict
from .base import TurnWrite

__all__ = ["NOTIFY", "RunEnd", "pipelined_turn", "refusal"]

NOTIFY = "SELECT pg_notify(%s, %s)"

_LOCK_THREAD = """
UPDATE threads SET message_seq = message_seq + %(n)s::int, updated_at = %(at)s::timestamptz
 WHERE id = (SELECT thread_id FROM runs WHERE id = %(run)s::varchar)
"""
_CHECKPOINT = """
INSERT INTO checkpoints (run_id, turn, kind, state, finished, created_at)
SELECT r.id, %(turn)s::int, k.kind,
       CASE k.kind WHEN 'delta' THEN %(delta)s::jsonb ELSE %(state)s::jsonb END,
       %(finished)s::boolean, %(at)s::timestamptz
  FROM runs r
 CROSS JOIN LATERAL (
       SELECT CASE WHEN %(delta)s::jsonb IS NOT NULL AND r.last_turn = %(turn)s::int - 1
                   THEN 'delta' ELSE 'full' END AS kind) k
 WHERE r.id = %(run)s::varchar
"""
_MESSAGES = """
INSERT INTO messages (thread_id, seq, run_id, message, created_at)
SELECT t.id, t.message_seq - %(n)s::int + m.o, %(run)s::varchar, m.v, %(at)s::timestamptz
  FROM threads t, jsonb_array_elements(%(messages)s::jsonb) WITH ORDINALITY AS m(v, o)
 WHERE t.id = (SELECT thread_id FROM runs WHERE id = %(run)s::varchar)
"""
# Events are [name, data] pairs; a ``status`` event without a stop reason takes the run's.
_EVENTS = """
INSERT INTO events (run_id, seq, event, data, created_at)
SELECT r.id, r.event_seq + e.o, e.v->>0,
       CASE WHEN e.v->>0 = 'status' AND e.v->1->'stop_reason' = 'null'::jsonb
            THEN jsonb_set(e.v->1, '{stop_reason}', COALESCE(to_jsonb(r.stop_reason), 'null'::jsonb))
            ELSE e.v->1 END,
       %(at)s::timestamptz
  FROM runs r, jsonb_array_elements(%(events)s::jsonb) WITH ORDINALITY AS e(v, o)
 WHERE r.id = %(run)s::varchar
"""
_RUN = """
UPDATE runs SET turns = turns + 1, last_turn = %(turn)s::int, event_seq = event_seq + %(ne)s::int,
       heartbeat_at = %(at)s::timestamptz, updated_at = %(at)s::timestamptz, stop_reason = COALESCE(%(reason)s::text, stop_reason){end}
 WHERE id = %(run)s::varchar AND status = 'running'
   AND (%(worker)s::text IS NULL OR worker = %(worker)s::text)
   AND (last_turn IS NULL OR last_turn < %(turn)s::int)
RETURNING {columns}
"""
_RUN_END = ", status = %(status)s::varchar, error = %(error)s::jsonb, finished_at = %(at)s::timestamptz"
# The thread's state becomes this run's; the state it replaces is kept on the run for a
# rollback, and the run before no longer needs its copy (see ``_runs.set_thread_state``).
_KEEP_PRIOR = """
UPDATE runs SET replaced_state = true, prior_state = t.state,
       prior_state_run_id = t.state_run_id, prior_state_turn = t.state_turn
  FROM threads t
 WHERE runs.id = %(run)s::varchar AND t.id = runs.thread_id AND t.state_run_id IS DISTINCT FROM %(run)s::varchar
"""
_DROP_OLDER_PRIOR = """
UPDATE runs SET prior_state = NULL
  FROM threads t
 WHERE t.id = (SELECT thread_id FROM runs WHERE id = %(run)s::varchar)
   AND runs.id = t.state_run_id AND t.state_run_id <> %(run)s::varchar
"""
_THREAD_STATE = """
UPDATE threads SET state = %(state)s::jsonb, state_run_id = %(run)s::varchar, state_turn = %(turn)s::int, updated_at = %(at)s::timestamptz
 WHERE id = (SELECT thread_id FROM runs WHERE id = %(run)s::varchar)
"""
_THREAD_STATUS = """
UPDATE threads t SET updated_at = %(at)s::timestamptz, status = CASE
         WHEN EXISTS (SELECT 1 FROM runs r WHERE r.thread_id = t.id AND r.status IN ('pending', 'running'))
           THEN 'busy'
         WHEN EXISTS (SELECT 1 FROM runs r WHERE r.thread_id = t.id AND r.number = t.run_count
                                               AND r.status = 'interrupted')
           THEN 'interrupted'
         ELSE 'idle' END
 WHERE t.id = (SELECT thread_id FROM runs WHERE id = %(run)s::varchar)
"""


class RunEnd:
    """The end a run's last turn is written with: its status, stop reason and error."""

    __slots__ = ("error", "status", "stop_reason")

    def __init__(self, status: RunStatus, stop_reason: str | None, error: RunError | None) -> None:
        self.status = status
        self.stop_reason = stop_reason
        self.error = error


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


async def pipelined_turn(
    pg: Any, write: TurnWrite, at: datetime, end: RunEnd | None = None, channel: str | None = None
) -> dict[str, Any] | None:
    """Send the turn (and the run's end) in one pipeline; returns the run row, or ``None`` if refused.

    ``pg`` is a psycopg ``AsyncConnection`` inside the caller's transaction. ``None``
    means nothing was allowed: the caller rolls back and asks :func:`refusal` why.
    ``channel``: a ``NOTIFY`` channel told of the write, at its commit (``SqlStore.notify_channel``).
    Errors the statements raise (a turn stored twice, a missing base for a delta) come
    out of here as psycopg's; the caller rolls back and asks :func:`refusal` too.
    """
    from psycopg.rows import dict_row

    for name, _ in write.events:
        if name not in EVENT_NAMES:
            raise ValueError(f"event {name!r}: must be one of {sorted(EVENT_NAMES)}")
    finished_state = write.state if write.finished else None
    turn_reason = write.stop_reason if write.finished else None
    events: list[Any] = [["message", m] for m in write.messages]
    events.extend([name, data] for name, data in write.events)
    reason = turn_reason
    if end is not None:
        reason = end.stop_reason if end.stop_reason is not None else turn_reason
        error = end.error.model_dump(mode="json") if end.error is not None else None
        status = end.status.value
        events.append(["status", {"status": status, "stop_reason": reason, "error": error}])
        events.append(["end", {"status": status}])
    params: dict[str, Any] = {
        "run": write.run_id,
        "at": at,
        "turn": write.turn,
        "n": len(write.messages),
        "messages": json.dumps(list(write.messages)),
        "events": json.dumps(events),
        "ne": len(events),
        "state": _dumps(write.state),
        "delta": _dumps(write.delta),
        "finished": write.finished,
        "reason": reason,
        "worker": write.worker,
    }
    if end is not None:
        params["status"] = end.status.value
        params["error"] = _dumps(error)
    async with pg.pipeline():
        await pg.execute(_LOCK_THREAD, params)
        await pg.execute(_CHECKPOINT, params)
        if write.messages:
            await pg.execute(_MESSAGES, params)
        await pg.execute(_EVENTS, params)
        run = pg.cursor(row_factory=dict_row)
        await run.execute(_RUN.format(end=_RUN_END if end is not None else "", columns=RUN_COLUMNS), params)
        if finished_state is not None:
            await pg.execute(_KEEP_PRIOR, params)
            await pg.execute(_DROP_OLDER_PRIOR, params)
            await pg.execute(_THREAD_STATE, params)
        if end is not None:
            await pg.execute(_THREAD_STATUS, params)
        if channel is not None:
            await pg.execute(NOTIFY, (channel, payload(write.run_id, end is not None)))
        row: dict[str, Any] | None = await run.fetchone()
    if row is not None:
        for key, value in row.items():
            if isinstance(value, datetime):
                row[key] = value.astimezone(UTC)
    return row


def refusal(write: TurnWrite, run: Mapping[Any, Any] | None, error: BaseException | None) -> Exception:
    """Why a pipelined turn was refused: the portable path's error for the same write.

    ``run`` is the run's row read after the rollback (``None``: no such run); ``error``
    the database error the pipeline raised, if any.
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
