"""The statements a run costs most often, on PostgreSQL, through psycopg directly.

A run's life on PostgreSQL is a handful of statements that every run pays: the thread and
run inserts, the spec lookup, the claim, the start read, the event and run reads of a
waiting client. Through SQLAlchemy Core each costs about three times the driver's own
CPU (building the statement, its cache key, the result's metadata), which made the store
the largest share of a run's service time. These are the same statements, written once
as SQL and sent on the pooled connection's psycopg connection (the store's transaction
helper still owns the connection, its transaction and its errors). Everything else, and
SQLite, goes through the portable Core code in ``sql.py`` and ``_runs.py``; the tests run
the same suite on both backends, so the two paths are held to the same behaviour.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ..exceptions import NotFoundError, OverloadedError
from ..models import SpecRecord, Strategy, ThreadStatus
from ._rows import new_id, plain
from ._runs import OVERLOAD_RETRY_AFTER
from .tables import runs

__all__ = [
    "CLAIM",
    "CLAIMS_START",
    "CLAIM_START",
    "EVENTS_AFTER",
    "INSERT_THREAD",
    "LATEST_SPEC_VERSION",
    "PUT_RESPONSE",
    "RUN",
    "RUN_EXISTS",
    "RUN_RESULT",
    "RUN_START",
    "create_run_call",
    "fetch_all",
    "fetch_one",
    "insert_run",
    "lock_thread_and_count",
]

# Columns are listed, never ``*``: psycopg prepares statements it sees often, and a prepared
# ``*`` fails ("cached plan must not change result type") once a migration adds a column
# under a running replica.
RUN_COLUMNS = ", ".join(column.name for column in runs.c)
RUN = f"SELECT {RUN_COLUMNS} FROM runs WHERE id = %s"
RUN_EXISTS = "SELECT 1 FROM runs WHERE id = %s"
EVENTS_AFTER = "SELECT seq, event, data FROM events WHERE run_id = %s AND seq > %s ORDER BY seq LIMIT %s"
INSERT_THREAD = """
INSERT INTO threads (id, metadata, status, run_count, message_seq, created_at, updated_at)
VALUES (%s, %s::jsonb, %s, 0, 0, %s, %s)
"""
PUT_RESPONSE = """
INSERT INTO model_responses (run_id, key, response, created_at) VALUES (%s, %s, %s::jsonb, %s)
ON CONFLICT (run_id, key) DO NOTHING
"""
LATEST_SPEC_VERSION = "SELECT version FROM specs WHERE name = %s ORDER BY version DESC LIMIT 1"
CLAIM = f"""
UPDATE runs SET status = 'running', worker = %(worker)s,
       attempt = CASE WHEN started_at IS NULL THEN attempt ELSE attempt + 1 END,
       started_at = COALESCE(started_at, %(at)s), heartbeat_at = %(at)s, updated_at = %(at)s
 WHERE id = %(run)s
   AND (status = 'pending' OR (%(stale)s::timestamptz IS NOT NULL AND status = 'running'
                               AND heartbeat_at < %(stale)s::timestamptz))
   AND NOT EXISTS (SELECT 1 FROM runs e WHERE e.thread_id = runs.thread_id AND e.number < runs.number
                                          AND e.status IN ('pending', 'running'))
RETURNING {RUN_COLUMNS}
"""
CLAIM_START = f"""
WITH c AS ({CLAIM.strip()})
SELECT c.*, t.state AS start_thread_state, to_jsonb(p) AS start_previous
  FROM c
  JOIN threads t ON t.id = c.thread_id
  LEFT JOIN runs p ON p.thread_id = c.thread_id AND p.number = c.number - 1
"""
# The claims a worker makes in one event-loop tick (``_claims.py``): the rows are locked in id
# order first, so two such statements can never wait on each other.
CLAIMS_START = f"""
WITH locked AS (SELECT id FROM runs WHERE id = ANY(%(runs)s) ORDER BY id FOR UPDATE),
c AS (
UPDATE runs SET status = 'running', worker = %(worker)s,
       attempt = CASE WHEN started_at IS NULL THEN attempt ELSE attempt + 1 END,
       started_at = COALESCE(started_at, %(at)s), heartbeat_at = %(at)s, updated_at = %(at)s
  FROM locked
 WHERE runs.id = locked.id
   AND (status = 'pending' OR (%(stale)s::timestamptz IS NOT NULL AND status = 'running'
                               AND heartbeat_at < %(stale)s::timestamptz))
   AND NOT EXISTS (SELECT 1 FROM runs e WHERE e.thread_id = runs.thread_id AND e.number < runs.number
                                          AND e.status IN ('pending', 'running'))
RETURNING {", ".join(f"runs.{column.name}" for column in runs.c)})
SELECT c.*, t.state AS start_thread_state, to_jsonb(p) AS start_previous
  FROM c
  JOIN threads t ON t.id = c.thread_id
  LEFT JOIN runs p ON p.thread_id = c.thread_id AND p.number = c.number - 1
"""
RUN_START = f"""
SELECT {", ".join(f"p.{column.name}" for column in runs.c)}, r.task AS start_task,
       t.state AS start_thread_state
  FROM runs r
  JOIN threads t ON t.id = r.thread_id
  LEFT JOIN runs p ON p.thread_id = r.thread_id AND p.number = r.number - 1
 WHERE r.id = %s
"""
# A run that has ended (its ``end`` event is stored: written with its status) and the
# messages it wrote, in one statement (``/runs/wait``'s answer).
RUN_RESULT = f"""
SELECT {RUN_COLUMNS},
       EXISTS (SELECT 1 FROM events e WHERE e.run_id = r.id AND e.event = 'end') AS result_ended,
       (SELECT COALESCE(jsonb_agg(e.data ORDER BY e.seq), '[]'::jsonb)
          FROM events e WHERE e.run_id = r.id AND e.event = 'message') AS result_messages
  FROM runs r
 WHERE r.id = %s
"""
_LOCK_THREAD = "SELECT id, status, run_count, 0 AS depth FROM threads WHERE id = %s FOR UPDATE"
_LOCK_THREAD_AND_DEPTH = """
SELECT id, status, run_count, (SELECT count(*) FROM runs WHERE status = 'pending') AS depth
  FROM threads WHERE id = %s FOR UPDATE
"""
# The run, and its thread (locked by this transaction already) busy: one statement.
_INSERT_RUN = f"""
WITH busy AS (
  UPDATE threads SET run_count = run_count + 1, status = %(busy)s, updated_at = %(at)s WHERE id = %(thread)s
)
INSERT INTO runs (id, thread_id, number, spec, spec_version, status, strategy, task, metadata,
                  attempt, turns, event_seq, replaced_state, created_at, updated_at)
VALUES (%(id)s, %(thread)s, %(number)s, %(spec)s, %(version)s, 'pending', %(strategy)s,
        %(task)s::jsonb, %(metadata)s::jsonb, 1, 0, 0, false, %(at)s, %(at)s)
RETURNING {RUN_COLUMNS}
"""


_CREATE_RUN = "SELECT muster_create_run(%s::jsonb)"


async def create_run_call(
    pg: Any,
    thread_id: str,
    spec: SpecRecord,
    task: Sequence[Mapping[str, Any]] | None,
    strategy: Strategy,
    at: datetime,
    *,
    max_queue: int | None,
    metadata: Mapping[str, Any] | None,
    entrypoint: str | None,
    latest: bool = False,
) -> dict[str, Any] | None:
    """A new run in one call of ``muster_create_run`` (migration 0003), in autocommit; ``None``: not done.

    ``None`` means the thread is busy and the strategy acts on its current runs: nothing
    was written, and the caller applies the strategy in a transaction of its own.
    ``entrypoint``: the job queue's, to queue the run's job in the same call when the run
    can start at once. ``latest``: the run takes ``spec.name``'s latest version at its
    creation (``spec`` may be an older one this process saw).

    Raises:
        NotFoundError: no such thread.
        OverloadedError: ``max_queue`` runs or more are pending.
    """
    call = {
        "thread": thread_id,
        "id": new_id(),
        "spec": spec.name,
        "version": spec.version,
        "strategy": strategy.value,
        "task": [plain(m) for m in task] if task is not None else None,
        "metadata": plain(metadata or {}),
        "max_queue": max_queue,
        "entrypoint": entrypoint,
        "latest": latest,
        "at": at.isoformat(),
    }
    cursor = pg.cursor()
    await cursor.execute(_CREATE_RUN, (json.dumps(call),))
    (result,) = await cursor.fetchone()
    outcome = result["outcome"]
    if outcome == "no_thread":
        raise NotFoundError("thread", thread_id)
    if outcome == "overloaded":
        pending = result["depth"]
        raise OverloadedError(
            f"{pending} runs are waiting (limit {max_queue}); retry later", retry_after=OVERLOAD_RETRY_AFTER
        )
    if outcome == "strategy":
        return None
    run: dict[str, Any] = result["run"]
    for key, value in run.items():  # JSON's timestamps carry the server's zone: UTC, as elsewhere
        if key.endswith("_at") and isinstance(value, str):
            run[key] = datetime.fromisoformat(value).astimezone(UTC)
    return run


def _utc(row: dict[str, Any]) -> dict[str, Any]:
    for key, value in row.items():
        if isinstance(value, datetime):
            row[key] = value.astimezone(UTC)
    return row


async def fetch_all(pg: Any, sql: str, params: Sequence[Any] | Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every row, as dicts with UTC timestamps (the portable path's ``UtcDateTime``)."""
    from psycopg.rows import dict_row

    cursor = pg.cursor(row_factory=dict_row)
    await cursor.execute(sql, params)
    return [_utc(row) for row in await cursor.fetchall()]


async def fetch_one(pg: Any, sql: str, params: Sequence[Any] | Mapping[str, Any]) -> dict[str, Any] | None:
    """The first row, or ``None``."""
    from psycopg.rows import dict_row

    cursor = pg.cursor(row_factory=dict_row)
    await cursor.execute(sql, params)
    row: dict[str, Any] | None = await cursor.fetchone()
    return _utc(row) if row is not None else None


async def lock_thread_and_count(pg: Any, thread_id: str, max_queue: int | None) -> dict[str, Any]:
    """Lock the thread's row and check the queue, in one statement (``_runs.create_run``'s first steps).

    Raises:
        NotFoundError: no such thread.
        OverloadedError: ``max_queue`` runs or more are pending.
    """
    row = await fetch_one(pg, _LOCK_THREAD if max_queue is None else _LOCK_THREAD_AND_DEPTH, (thread_id,))
    if row is None:
        raise NotFoundError("thread", thread_id)
    pending = row.pop("depth")
    if max_queue is not None and pending >= max_queue:
        raise OverloadedError(
            f"{pending} runs are waiting (limit {max_queue}); retry later", retry_after=OVERLOAD_RETRY_AFTER
        )
    return row


async def insert_run(
    pg: Any,
    thread: Mapping[str, Any],
    spec: SpecRecord,
    task: Sequence[Mapping[str, Any]] | None,
    strategy: Strategy,
    at: datetime,
    metadata: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Insert a pending run on a thread locked by :func:`lock_thread_and_count` and mark it busy.

    Only for a thread whose current runs the strategy leaves alone (idle, or ``enqueue``).
    """
    params = {
        "id": new_id(),
        "thread": thread["id"],
        "number": thread["run_count"] + 1,
        "spec": spec.name,
        "version": spec.version,
        "strategy": strategy.value,
        "task": json.dumps([plain(m) for m in task]) if task is not None else None,
        "metadata": json.dumps(plain(metadata or {})),
        "at": at,
        "busy": ThreadStatus.BUSY.value,
    }
    rows = await fetch_all(pg, _INSERT_RUN, params)
    return rows[0]  # an INSERT ... RETURNING returns its row
