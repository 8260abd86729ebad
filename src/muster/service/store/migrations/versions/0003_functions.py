"""The hot writes on PostgreSQL as function calls: ``muster_turn``, ``muster_create_run``, ``muster_queue_next``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30

On the machines the service is measured on, what a write costs is its round trips, not its
rows: a transaction of BEGIN, 5-10 pipelined statements and COMMIT cost about four times
the CPU of one statement doing the same work, in the worker and in PostgreSQL alike. The
turn write, every run's most frequent one, is therefore one call of a PL/pgSQL function,
sent in autocommit (the call is its own transaction): the same steps as the portable path
(``_turns.py``) and the pipeline it replaces, in the same order and with the same lock
order (the thread, then the run). It returns the run's row after the write, or no row when
the run refuses the write (not running, held by another worker, the turn written already),
in which case it wrote nothing; the caller then explains the refusal as before
(``_pgturns.refusal``). SQLite has no such functions and keeps the portable path.

The argument is one JSON object (``_pgturns.turn_call``): ``run``, ``at``, ``turn``,
``messages`` (the thread's new messages), ``events`` (``[name, data]`` pairs, messages
included), ``state``, ``delta``, ``finished``, ``reason``, ``worker``, ``status`` and
``error`` (a run's end: both keys present), ``channel`` (a ``NOTIFY`` channel, or null),
``entrypoint`` (at a run's end: the job queue's entrypoint, to queue the thread's next run
in the same transaction, as the worker otherwise does after it).

The API's new run is ``muster_create_run`` for the same reason (below): five round trips
(BEGIN, the lock and queue check, the insert, the job, COMMIT) become one.
"""

from __future__ import annotations

from alembic import op

__all__ = [
    "CREATE_RUN",
    "FUNCTION",
    "QUEUE_NEXT",
    "branch_labels",
    "depends_on",
    "down_revision",
    "downgrade",
    "revision",
    "upgrade",
]

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

FUNCTION = r"""
CREATE OR REPLACE FUNCTION muster_turn(p jsonb) RETURNS SETOF runs
LANGUAGE plpgsql AS $fn$
DECLARE
  r runs;
  v_thread varchar;
  v_seq integer;
  v_at timestamptz := (p->>'at')::timestamptz;
  v_turn integer := (p->>'turn')::integer;
  v_n integer := jsonb_array_length(p->'messages');
  v_ne integer := jsonb_array_length(p->'events');
  v_ended boolean := p ? 'status';
  v_finished boolean := (p->>'finished')::boolean;
  v_state jsonb := NULLIF(p->'state', 'null'::jsonb);
  v_delta jsonb := NULLIF(p->'delta', 'null'::jsonb);
  v_kind varchar;
BEGIN
  SELECT thread_id INTO v_thread FROM runs WHERE id = p->>'run';
  IF NOT FOUND THEN
    RETURN;
  END IF;
  -- The lock order of every write path: the thread, then the run.
  PERFORM 1 FROM threads WHERE id = v_thread FOR UPDATE;
  SELECT * INTO r FROM runs WHERE id = p->>'run' FOR UPDATE;
  IF r.status <> 'running'
     OR (p->>'worker' IS NOT NULL AND r.worker IS DISTINCT FROM p->>'worker')
     OR (r.last_turn IS NOT NULL AND r.last_turn >= v_turn) THEN
    RETURN;  -- refused: nothing written
  END IF;
  v_kind := CASE WHEN v_delta IS NOT NULL AND r.last_turn = v_turn - 1 THEN 'delta' ELSE 'full' END;
  UPDATE threads SET message_seq = message_seq + v_n, updated_at = v_at
   WHERE id = v_thread RETURNING message_seq - v_n INTO v_seq;
  -- A full checkpoint without a state fails here (NOT NULL): a delta needs its base.
  INSERT INTO checkpoints (run_id, turn, kind, state, finished, created_at)
  VALUES (r.id, v_turn, v_kind, CASE v_kind WHEN 'delta' THEN v_delta ELSE v_state END, v_finished, v_at);
  INSERT INTO messages (thread_id, seq, run_id, message, created_at)
  SELECT v_thread, v_seq + m.o, r.id, m.v, v_at
    FROM jsonb_array_elements(p->'messages') WITH ORDINALITY AS m(v, o);
  -- A ``status`` event without a stop reason takes the run's.
  INSERT INTO events (run_id, seq, event, data, created_at)
  SELECT r.id, r.event_seq + e.o, e.v->>0,
         CASE WHEN e.v->>0 = 'status' AND e.v->1->'stop_reason' = 'null'::jsonb
              THEN jsonb_set(e.v->1, '{stop_reason}', COALESCE(to_jsonb(r.stop_reason), 'null'::jsonb))
              ELSE e.v->1 END,
         v_at
    FROM jsonb_array_elements(p->'events') WITH ORDINALITY AS e(v, o);
  UPDATE runs SET turns = turns + 1, last_turn = v_turn, event_seq = event_seq + v_ne,
         heartbeat_at = v_at, updated_at = v_at,
         stop_reason = COALESCE(p->>'reason', stop_reason),
         status = CASE WHEN v_ended THEN p->>'status' ELSE status END,
         error = CASE WHEN v_ended THEN NULLIF(p->'error', 'null'::jsonb) ELSE error END,
         finished_at = CASE WHEN v_ended THEN v_at ELSE finished_at END
   WHERE id = r.id
   RETURNING * INTO r;
  IF v_finished AND v_state IS NOT NULL THEN
    -- The thread's state becomes this run's; the state it replaces is kept on the run for
    -- a rollback, and the run before no longer needs its copy (``_runs.set_thread_state``).
    UPDATE runs SET replaced_state = true, prior_state = t.state,
           prior_state_run_id = t.state_run_id, prior_state_turn = t.state_turn
      FROM threads t
     WHERE runs.id = r.id AND t.id = v_thread AND t.state_run_id IS DISTINCT FROM r.id;
    UPDATE runs SET prior_state = NULL
      FROM threads t
     WHERE t.id = v_thread AND runs.id = t.state_run_id AND t.state_run_id <> r.id;
    UPDATE threads SET state = v_state, state_run_id = r.id, state_turn = v_turn, updated_at = v_at
     WHERE id = v_thread;
  END IF;
  IF v_ended THEN
    UPDATE threads t SET updated_at = v_at, status = CASE
             WHEN EXISTS (SELECT 1 FROM runs x WHERE x.thread_id = t.id AND x.status IN ('pending', 'running'))
               THEN 'busy'
             WHEN EXISTS (SELECT 1 FROM runs x WHERE x.thread_id = t.id AND x.number = t.run_count
                                                   AND x.status = 'interrupted')
               THEN 'interrupted'
             ELSE 'idle' END
     WHERE t.id = v_thread;
  END IF;
  IF v_ended AND p->>'entrypoint' IS NOT NULL THEN
    PERFORM muster_queue_next(v_thread, p->>'entrypoint');  -- its next run may start now
  END IF;
  IF p->>'channel' IS NOT NULL THEN
    PERFORM pg_notify(p->>'channel', CASE WHEN v_ended THEN r.id || ' end' ELSE r.id END);
  END IF;
  RETURN NEXT r;
END
$fn$
"""

# The thread's next run (its first pending one, when none of its runs is running), queued
# through ``muster_enqueue``: PgQueuer's own enqueue statement, which the job queue
# installs beside PgQueuer's tables (``execution/_pgqueuer.py``). The same rule as
# ``JobQueue.kick``.
QUEUE_NEXT = r"""
CREATE OR REPLACE FUNCTION muster_queue_next(p_thread varchar, p_entrypoint text) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  v_next varchar;
BEGIN
  SELECT n.id INTO v_next FROM runs n
   WHERE n.thread_id = p_thread AND n.status = 'pending'
     AND NOT EXISTS (SELECT 1 FROM runs e
                      WHERE e.thread_id = n.thread_id AND e.id <> n.id
                        AND (e.status = 'running' OR (e.status = 'pending' AND e.number < n.number)))
   ORDER BY n.number LIMIT 1;
  IF v_next IS NOT NULL THEN
    PERFORM muster_enqueue(ARRAY[0], ARRAY[p_entrypoint], ARRAY[convert_to(v_next, 'UTF8')],
                           ARRAY['0'::interval], ARRAY[v_next::text], ARRAY[NULL::jsonb]);
  END IF;
END
$fn$
"""

# A new run on a thread, in one call (``_pgpaths.create_run_call``): the thread locked, the
# queue checked, the run inserted with the thread busy (on the spec's latest version when
# ``latest`` is true, so that the API need not ask for it first), and its job queued when it is the
# thread's current run and ``entrypoint`` is given. Returns ``{"outcome": ...}``:
# ``created`` (with ``run``, the row), ``no_thread``, ``overloaded`` (with ``depth``), or
# ``strategy``: the thread is busy and the strategy acts on its current runs, which the
# caller does in a transaction of its own (nothing was written).
CREATE_RUN = r"""
CREATE OR REPLACE FUNCTION muster_create_run(p jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $fn$
DECLARE
  t threads;
  r runs;
  v_depth bigint;
  v_at timestamptz := (p->>'at')::timestamptz;
BEGIN
  SELECT * INTO t FROM threads WHERE id = p->>'thread' FOR UPDATE;
  IF NOT FOUND THEN
    RETURN jsonb_build_object('outcome', 'no_thread');
  END IF;
  IF p->>'max_queue' IS NOT NULL THEN
    SELECT count(*) INTO v_depth FROM runs WHERE status = 'pending';
    IF v_depth >= (p->>'max_queue')::integer THEN
      RETURN jsonb_build_object('outcome', 'overloaded', 'depth', v_depth);
    END IF;
  END IF;
  IF t.status = 'busy' AND p->>'strategy' <> 'enqueue' THEN
    RETURN jsonb_build_object('outcome', 'strategy');
  END IF;
  INSERT INTO runs (id, thread_id, number, spec, spec_version, status, strategy, task, metadata,
                    attempt, turns, event_seq, replaced_state, created_at, updated_at)
  VALUES (p->>'id', t.id, t.run_count + 1, p->>'spec',
          CASE WHEN (p->>'latest')::boolean  -- the spec's latest version now (the caller's may be older)
               THEN COALESCE((SELECT max(version) FROM specs WHERE name = p->>'spec'), (p->>'version')::integer)
               ELSE (p->>'version')::integer END,
          'pending',
          p->>'strategy', NULLIF(p->'task', 'null'::jsonb), p->'metadata', 1, 0, 0, false, v_at, v_at)
  RETURNING * INTO r;
  UPDATE threads SET run_count = run_count + 1, status = 'busy', updated_at = v_at WHERE id = t.id;
  IF t.status <> 'busy' AND p->>'entrypoint' IS NOT NULL THEN
    PERFORM muster_enqueue(ARRAY[0], ARRAY[p->>'entrypoint'], ARRAY[convert_to(r.id, 'UTF8')],
                           ARRAY['0'::interval], ARRAY[r.id::text], ARRAY[NULL::jsonb]);
  END IF;
  RETURN jsonb_build_object('outcome', 'created', 'run', to_jsonb(r));
END
$fn$
"""


def upgrade() -> None:
    """Create the functions (PostgreSQL only)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(QUEUE_NEXT)
        op.execute(FUNCTION)
        op.execute(CREATE_RUN)


def downgrade() -> None:
    """Drop the functions."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS muster_create_run(jsonb)")
        op.execute("DROP FUNCTION IF EXISTS muster_turn(jsonb)")
        op.execute("DROP FUNCTION IF EXISTS muster_queue_next(varchar, text)")
