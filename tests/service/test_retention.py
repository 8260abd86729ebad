"""The retention schedule: every API process prunes old runs' logs at start-up and then periodically."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent / "api"))
sys.path.insert(0, str(Path(__file__).parent / "store"))

from api_kit import make_settings, running_api  # noqa: E402
from store_helpers import COMPONENT, turn  # noqa: E402

from muster.service.models import RunStatus, Strategy  # noqa: E402
from muster.service.retention import RetentionTask, prune_once  # noqa: E402
from muster.service.settings import DatabaseSettings  # noqa: E402
from muster.service.store import SqlStore  # noqa: E402
from muster.service.store._rows import now  # noqa: E402


async def _finished_run(store: SqlStore) -> str:
    spec = await store.put_spec("retained", COMPONENT)
    thread = await store.create_thread()
    run = await store.create_run(thread.id, spec, None, Strategy.REJECT)
    await store.claim_run(run.id, "w")
    await store.record_turn(turn(run.id, 0, "a"))
    await store.finish_run(run.id, RunStatus.SUCCEEDED)
    return run.id


async def test_prune_once_keeps_what_is_younger_than_the_retention(store: SqlStore) -> None:
    run_id = await _finished_run(store)
    assert await prune_once(store, retention_days=1) == 0
    assert len(await store.read_events(run_id)) == 3  # the message, the status, the end
    # Two days on, the same run is past a one-day retention.
    assert await prune_once(store, retention_days=1, now=now() + timedelta(days=2)) == 3 + 1
    assert await store.read_events(run_id) == []
    assert (await store.get_run(run_id)).status is RunStatus.SUCCEEDED


async def test_the_served_app_prunes_at_start_up(database: Any, store: SqlStore) -> None:
    run_id = await _finished_run(store)
    settings = make_settings(database)
    # A retention of a billionth of a day (86 µs) is past by the time the app starts.
    settings.database = settings.database.model_copy(
        update={"retention_days": 1e-9, "prune_interval_seconds": 3600}
    )
    async with running_api(settings, database) as api:
        retention: RetentionTask = api.app.state.muster_retention
        await retention.passed.wait()
        assert retention.passes >= 1
        response = await api.client.get(f"/v1/runs/{run_id}")
        assert response.status_code == 200 and response.json()["status"] == "succeeded"
        assert await api.app.state.muster.store.read_events(run_id) == []


async def test_no_retention_means_no_schedule(tmp_path: Path) -> None:
    settings = DatabaseSettings(url=f"sqlite:///{tmp_path / 'r.db'}", retention_days=None)
    async with SqlStore(settings.url, upgrade=True) as store:
        task = RetentionTask(store, settings)
        task.start()
        assert task._task is None  # nothing scheduled, nothing to stop
        await task.stop()
