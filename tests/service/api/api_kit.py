"""The API test kit: settings for a test, the served app with a client, and its helpers."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parents[1]))

from service_kit import SseEvent, read_sse, serve_app, wait_until  # noqa: E402

from muster.service.api import create_app  # noqa: E402
from muster.service.settings import ServiceSettings  # noqa: E402

__all__ = ["API_KEY", "Api", "make_settings", "running_api"]

API_KEY = "test-key-0123456789abcdef"


def make_settings(database: Any, **overrides: Any) -> ServiceSettings:
    """Settings for a test: fast worker timings, a test key, small limits."""
    data: dict[str, Any] = {
        "database": {"url": database.url, "schema": database.schema},
        "security": {"api_keys": [API_KEY], "max_body_bytes": 16_384},
        "worker": {"heartbeat_seconds": 0.5, "stalled_after_seconds": 3, "poll_seconds": 0.5},
        "server": {"drain_seconds": 5},
        "agents": {"timeout": 60},
    }
    for section, values in overrides.items():
        if isinstance(values, dict):
            data.setdefault(section, {}).update(values)
        else:
            data[section] = values
    return ServiceSettings(**data)


@dataclass
class Api:
    """A served app and a client holding the test key."""

    url: str
    client: httpx.AsyncClient
    settings: ServiceSettings
    app: Any

    async def put_spec(self, name: str, component: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.post("/v1/specs", json={"name": name, "component": component})
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def thread(self) -> str:
        response = await self.client.post("/v1/threads", json={})
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def start(self, thread: str, spec: str, task: Any = None, **body: Any) -> dict[str, Any]:
        response = await self.client.post(
            f"/v1/threads/{thread}/runs", json={"spec": spec, "task": task, **body}
        )
        assert response.status_code == 202, response.text
        return dict(response.json())

    async def get_run(self, run_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/v1/runs/{run_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def wait_status(self, run_id: str, *statuses: str, timeout: float = 30) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            run = await self.get_run(run_id)
            return run if run["status"] in statuses else None

        result: dict[str, Any] = await wait_until(check, timeout=timeout, what=f"run {run_id} in {statuses}")
        return result

    async def events(self, run_id: str, *, after: int | None = None) -> list[SseEvent]:
        """The run's events up to its end (from the start, or after ``after``)."""
        headers = {"Last-Event-ID": str(after)} if after is not None else {}
        events: list[SseEvent] = []
        async with self.client.stream("GET", f"/v1/runs/{run_id}/events", headers=headers) as response:
            assert response.status_code == 200, await response.aread()
            async for event in read_sse(response):
                events.append(event)
                if event.event == "end":
                    break
        return events

    async def messages(self, thread: str) -> list[dict[str, Any]]:
        response = await self.client.get(f"/v1/threads/{thread}/messages", params={"limit": 1000})
        assert response.status_code == 200, response.text
        return [item["message"] for item in response.json()["items"]]


@contextlib.asynccontextmanager
async def running_api(settings: ServiceSettings, database: Any, **app_kwargs: Any) -> AsyncIterator[Api]:
    """Serve the app (and, on PostgreSQL, run a worker in this process) for one test."""
    from muster.service.store import SqlStore, upgrade_database

    worker: asyncio.Task[None] | None = None
    stop: asyncio.Event | None = None
    worker_store: SqlStore | None = None
    if database.backend == "postgresql":
        await upgrade_database(database.url, database.schema)
    app = create_app(settings, **app_kwargs)
    async with serve_app(app) as url:
        if database.backend == "postgresql":
            from muster.service.execution.worker import run_worker

            worker_store = SqlStore.from_settings(settings)
            await worker_store.open()
            stop = asyncio.Event()
            worker = asyncio.create_task(
                run_worker(settings, worker_store, install_signal_handlers=False, stop=stop)
            )
        try:
            async with httpx.AsyncClient(
                base_url=url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=60
            ) as client:
                yield Api(url, client, settings, app)
        finally:
            if worker is not None and stop is not None:
                stop.set()  # what SIGTERM does: a graceful stop
                done, _ = await asyncio.wait([worker], timeout=30)
                if not done:
                    worker.print_stack()
                    raise AssertionError("the in-process worker did not stop within 30 s")
            if worker_store is not None:
                await worker_store.close()
