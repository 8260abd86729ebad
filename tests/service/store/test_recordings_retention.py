"""Recorded model responses (first answer wins) and retention (prune)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from store_helpers import text, turn

from muster.service.exceptions import NotFoundError
from muster.service.models import RunStatus, SpecRecord, Strategy, Thread
from muster.service.store import SqlStore
from muster.service.store._rows import now


async def test_the_first_recorded_response_wins(store: SqlStore, thread: Thread, spec: SpecRecord) -> None:
    run = await store.create_run(thread.id, spec, None, Strategy.REJECT)
    assert await store.get_model_response(run.id, "k1") is None
    await store.put_model_response(run.id, "k1", {"content": "first", "usage": {"prompt_tokens": 3}})
    await store.put_model_response(run.id, "k1", {"content": "second"})
    assert await store.get_model_response(run.id, "k1") == {"content": "first", "usage": {"prompt_tokens": 3}}
    other = await store.create_run(thread.id, spec, None, Strategy.ENQUEUE)
    assert await store.get_model_response(other.id, "k1") is None  # recordings are per run
    with pytest.raises(NotFoundError, match="run 'missing'"):
        await store.put_model_response("missing", "k1", {})


async def test_prune_drops_old_events_and_checkpoints_but_keeps_runs_and_messages(
    store: SqlStore, thread: Thread, spec: SpecRecord
) -> None:
    old = await store.create_run(thread.id, spec, None, Strategy.REJECT)
    await store.claim_run(old.id, "w")
    await store.record_turn(turn(old.id, 0, "a", "b"))
    await store.put_model_response(old.id, "k", {"content": "x"})
    await store.finish_run(old.id, RunStatus.SUCCEEDED)
    live = await store.create_run(thread.id, spec, None, Strategy.REJECT)
    await store.claim_run(live.id, "w")
    await store.record_turn(turn(live.id, 0, "c"))

    assert await store.prune(now() - timedelta(days=1)) == 0  # nothing finished that long ago
    deleted = await store.prune(now() + timedelta(seconds=1))
    assert deleted == 4 + 1 + 1  # 2 message events + status + end, 1 checkpoint, 1 response
    assert await store.read_events(old.id) == []
    assert await store.latest_checkpoint(old.id) is None
    assert await store.get_model_response(old.id, "k") is None
    assert (await store.get_run(old.id)).status == RunStatus.SUCCEEDED
    assert [m.message for m in await store.list_messages(thread.id)] == [text("a"), text("b"), text("c")]
    assert await store.thread_state(thread.id) is not None
    assert len(await store.read_events(live.id)) == 1 and await store.latest_checkpoint(live.id) is not None
