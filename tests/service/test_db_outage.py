"""The database stopped and started again: /ready flips, a request during the outage is refused
with a typed 503, and no run accepted before the outage is lost.

A throwaway PostgreSQL instance of its own (the installed server's ``initdb`` and ``pg_ctl``,
in a temporary folder, on a free port) is really stopped and started: the shared server on
5432 is never touched.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent / "api"))

from api_kit import make_settings, running_api  # noqa: E402
from deploy.drill.postgres import ThrowawayPostgres  # noqa: E402  (service_kit put the root on the path)
from service_kit import replay_agent, wait_until  # noqa: E402

pytestmark = pytest.mark.postgres


@dataclass(frozen=True)
class Database:
    """Where the test's store lives (the shape the API kit expects)."""

    backend: str
    url: str
    schema: str | None = None


@pytest.fixture
def throwaway_pg() -> Iterator[ThrowawayPostgres]:
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("runuser is missing: the server cannot run as postgres")
    # Directly under /tmp, not pytest's (root-only) temporary tree: the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="muster-pg-"))
    pg = ThrowawayPostgres(root)
    try:
        pg.start()
        yield pg
    finally:
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)


async def test_a_database_outage_flips_ready_refuses_new_runs_and_loses_no_accepted_run(
    throwaway_pg: ThrowawayPostgres,
) -> None:
    database = Database("postgresql", throwaway_pg.url, "outage")
    settings = make_settings(database)
    async with running_api(settings, database) as api:
        await api.put_spec("echo", replay_agent("echo", ["The answer is 42."]))
        assert (await api.client.get("/ready")).status_code == 200
        accepted = [await api.start(await api.thread(), "echo", f"question {i}") for i in range(3)]

        throwaway_pg.stop("fast")
        await wait_until(
            lambda: _status(api, "/ready", 503),
            timeout=30,
            what="/ready to answer 503 while the database is down",
        )
        refused = await api.client.post("/v1/threads", json={})
        assert refused.status_code == 503
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert "traceback" not in refused.text.lower()

        throwaway_pg.start()
        await wait_until(lambda: _status(api, "/ready", 200), timeout=60, what="/ready to recover")
        for run in accepted:
            finished = await api.wait_status(run["id"], "succeeded", "failed", "cancelled", timeout=25)
            assert finished["status"] == "succeeded"
            messages = await api.messages(run["thread_id"])
            assert [m["source"] for m in messages][0] == "user" and len(messages) >= 2


async def _status(api: object, path: str, expected: int) -> bool | None:
    try:
        response = await api.client.get(path)  # type: ignore[attr-defined]
    except Exception:  # the server itself stays up; a transport error just means "not yet"
        return None
    return True if response.status_code == expected else None
