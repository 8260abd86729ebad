"""A turn write that carries earlier boundaries and recorded model answers, and a run's end its result.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30

The runner holds two kinds of writes back for a moment, to send them with the next one
(docs/service.md, "Writes held back"): the task's boundary (turn 0, which carries no
agent's work) and a model answer that calls no tool. ``muster_turn`` (migration 0003)
takes three more keys for them, all optional, so a call without them means what it did:

- ``first``: the first boundary the call stands for; the call is refused when it is
  already written (0003 compared ``turn``);
- ``boundaries``: how many boundaries the call stands for (``runs.turns`` counts them);
- ``responses``: ``[key, response]`` pairs inserted into ``model_responses`` in the same
  transaction, the first under a key winning, as ``Store.put_model_response`` does.

``messages`` and ``events`` already hold every boundary's, in order (``_pgturns.turn_call``).

The ``NOTIFY`` of a write carries what it stored when it fits (``NOTIFY`` takes under 8,000
bytes; over 7,000 it is left out and readers read the store, as before):
``"<run id> turn <json>"``, or ``"<run id> end <json>"`` for a run's end, the JSON holding
``events`` (the write's events, ``[seq, event, data]``; a stream whose last event is the one
before the first sends them without reading) and, at an end, ``run`` and ``messages`` (the
run's fields as the API shows them and its ``message`` events: ``Store.run_result``'s
answer, so a ``/runs/wait`` on any replica answers without reading). When both do not fit,
the end's result is kept and the events left out.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic import op

__all__ = ["FUNCTION", "branch_labels", "depends_on", "down_revision", "downgrade", "revision", "upgrade"]

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

FUNCTION = r"""
CREATE OR REPLACE FUNCTION muster_turn(p jsonb) RETURNS SETOF runs
LANGUAGE plpgsql AS $fn$
DECLARE
  r runs;
  t threads;
  v_at timestamptz := (p->>'at')::timestamptz;
  v_turn integer := (p->>'turn')::integer;
  v_first integer := COALESCE((p->>'first')::integer, (p->>'turn')::integer);
  v_n integer := jsonb_array_length(p->'messages');
  v_ne integer := jsonb_array_length(p->'events');
  v_ended boolean := p ? 'status';
  v_finished boolean := (p->>'finished')::boolean;
  v_state jsonb := NULLIF(p->'state', 'null'::jsonb);
  v_delta jsonb := NULLIF(p->'delta', 'null'::jsonb);
  v_adopt boolean;
  v_replace boolean;
  v_kind varchar;
  v_events jsonb;
  v_note text;
  v_result jsonb;
BEGIN
  SELECT * INTO r FROM runs WHERE id = p->>'run';
  IF NOT FOUND THEN
    RETURN;
  END IF;
  -- The lock order of every write path: the thread, then the run.
  SELECT * INTO t FROM threads WHERE id = r.thread_id FOR UPDATE;
  SELECT * INTO r FROM runs WHERE id = p->>'run' FOR UPDATE;
  IF r.status <> 'running'
     OR (p->>'worker' IS NOT NULL AND r.worker IS DISTINCT FROM p->>'worker')
     OR (r.last_turn IS NOT NULL AND r.last_turn >= v_first) THEN
    RETURN;  -- refused: nothing written
  END IF;
  v_kind := CASE WHEN v_delta IS NOT NULL AND r.last_turn = v_turn - 1 THEN 'delta' ELSE 'full' END;
  -- A last boundary's state becomes the thread's; the state it replaces is kept on the run
  -- for a rollback, and the run before no longer needs its copy (``_runs.set_thread_state``).
  v_adopt := v_finished AND v_state IS NOT NULL;
  v_replace := v_adopt AND t.state_run_id IS DISTINCT FROM r.id;
  -- A full checkpoint without a state fails here (NOT NULL): a delta needs its base.
  INSERT INTO checkpoints (run_id, turn, kind, state, finished, created_at)
  VALUES (r.id, v_turn, v_kind, CASE v_kind WHEN 'delta' THEN v_delta ELSE v_state END, v_finished, v_at);
  INSERT INTO messages (thread_id, seq, run_id, message, created_at)
  SELECT t.id, t.message_seq + m.o, r.id, m.v, v_at
    FROM jsonb_array_elements(p->'messages') WITH ORDINALITY AS m(v, o);
  -- A ``status`` event without a stop reason takes the run's. What is inserted is kept for
  -- the NOTIFY below.
  WITH added AS (
    INSERT INTO events (run_id, seq, event, data, created_at)
    SELECT r.id, r.event_seq + e.o, e.v->>0,
           CASE WHEN e.v->>0 = 'status' AND e.v->1->'stop_reason' = 'null'::jsonb
                THEN jsonb_set(e.v->1, '{stop_reason}', COALESCE(to_jsonb(r.stop_reason), 'null'::jsonb))
                ELSE e.v->1 END,
           v_at
      FROM jsonb_array_elements(p->'events') WITH ORDINALITY AS e(v, o)
    RETURNING seq, event, data)
  SELECT COALESCE(jsonb_agg(jsonb_build_array(seq, event, data) ORDER BY seq), '[]'::jsonb) INTO v_events
    FROM added;
  -- Recorded model answers held back to this write; the first one under a key wins.
  INSERT INTO model_responses (run_id, key, response, created_at)
  SELECT r.id, x->>0, x->1, v_at
    FROM jsonb_array_elements(COALESCE(p->'responses', '[]'::jsonb)) AS x
  ON CONFLICT (run_id, key) DO NOTHING;
  -- The run's row once (each update of a row is a new version of it).
  UPDATE runs SET turns = turns + COALESCE((p->>'boundaries')::integer, 1), last_turn = v_turn,
         event_seq = event_seq + v_ne, heartbeat_at = v_at, updated_at = v_at,
         stop_reason = COALESCE(p->>'reason', stop_reason),
         status = CASE WHEN v_ended THEN p->>'status' ELSE status END,
         error = CASE WHEN v_ended THEN NULLIF(p->'error', 'null'::jsonb) ELSE error END,
         finished_at = CASE WHEN v_ended THEN v_at ELSE finished_at END,
         replaced_state = replaced_state OR v_replace,
         prior_state = CASE WHEN v_replace THEN t.state ELSE prior_state END,
         prior_state_run_id = CASE WHEN v_replace THEN t.state_run_id ELSE prior_state_run_id END,
         prior_state_turn = CASE WHEN v_replace THEN t.state_turn ELSE prior_state_turn END
   WHERE id = r.id
   RETURNING * INTO r;
  IF v_replace AND t.state_run_id IS NOT NULL THEN
    UPDATE runs SET prior_state = NULL WHERE id = t.state_run_id;
  END IF;
  -- The thread's row once: its message counter, its state, and at a run's end its status
  -- (read after the run's own status changed above).
  UPDATE threads x SET message_seq = t.message_seq + v_n, updated_at = v_at,
         state = CASE WHEN v_adopt THEN v_state ELSE x.state END,
         state_run_id = CASE WHEN v_adopt THEN r.id ELSE x.state_run_id END,
         state_turn = CASE WHEN v_adopt THEN v_turn ELSE x.state_turn END,
         status = CASE
           WHEN NOT v_ended THEN x.status
           WHEN EXISTS (SELECT 1 FROM runs y WHERE y.thread_id = x.id AND y.status IN ('pending', 'running'))
             THEN 'busy'
           WHEN EXISTS (SELECT 1 FROM runs y WHERE y.thread_id = x.id AND y.number = x.run_count
                                                 AND y.status = 'interrupted')
             THEN 'interrupted'
           ELSE 'idle' END
   WHERE x.id = t.id;
  IF v_ended AND p->>'entrypoint' IS NOT NULL THEN
    PERFORM muster_queue_next(t.id, p->>'entrypoint');  -- its next run may start now
  END IF;
  IF p->>'channel' IS NOT NULL THEN
    -- What the write stored rides along when it fits (NOTIFY takes under 8000 bytes): its
    -- events, as ``[seq, event, data]``, and at a run's end the run and its messages
    -- (``Store.run_result``'s shape), so streams and waits need not read them back.
    v_note := jsonb_build_object('events', v_events)::text;
    IF v_ended THEN
      v_result := jsonb_build_object(
        'run', jsonb_build_object(
                 'id', r.id, 'thread_id', r.thread_id, 'spec', r.spec, 'spec_version', r.spec_version,
                 'status', r.status, 'strategy', r.strategy, 'stop_reason', r.stop_reason, 'error', r.error,
                 'attempt', r.attempt, 'worker', r.worker, 'turns', r.turns, 'metadata', r.metadata,
                 'created_at', r.created_at, 'started_at', r.started_at, 'finished_at', r.finished_at, 'updated_at', r.updated_at),
        'messages', (SELECT COALESCE(jsonb_agg(e.data ORDER BY e.seq), '[]'::jsonb)
                       FROM events e WHERE e.run_id = r.id AND e.event = 'message'));
      IF octet_length(v_note) + octet_length(v_result::text) <= 7000 THEN
        v_note := (v_note::jsonb || v_result)::text;
      ELSE
        v_note := v_result::text;  -- the events are read back; the waiter is spared
      END IF;
    END IF;
    v_note := r.id || CASE WHEN v_ended THEN ' end' ELSE ' turn' END
              || CASE WHEN octet_length(v_note) <= 7000 THEN ' ' || v_note ELSE '' END;
    PERFORM pg_notify(p->>'channel', v_note);
  END IF;
  RETURN NEXT r;
END
$fn$
"""


def upgrade() -> None:
    """Replace ``muster_turn`` (PostgreSQL only)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    """Put 0003's ``muster_turn`` back."""
    if op.get_bind().dialect.name == "postgresql":
        # Alembic loads revisions by path, not as a package's modules: so does this.
        path = Path(__file__).with_name("0003_functions.py")
        spec = importlib.util.spec_from_file_location("muster_revision_0003", path)
        assert spec is not None and spec.loader is not None
        previous = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(previous)
        op.execute(previous.FUNCTION)
