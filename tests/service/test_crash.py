"""Crashes are real: processes are SIGKILLed mid-run and the runs still finish, intact.

- ``muster serve`` on SQLite killed while a run is mid-turn, then started again: the run
  resumes from its last checkpoint, the streaming client reconnects with Last-Event-ID.
- Two ``muster worker`` processes on PostgreSQL, the one executing the run killed: the
  other takes the run over once the dead one's heartbeat lapses.
- An API replica killed while a client streams: the client reconnects to another replica.

In each, the transcript must have no lost and no duplicated message, the event stream
must deliver every event exactly once, and the model must not be asked again for what the
run already got: the spec's first turn makes two model calls (alice, then bob, in a nested
team), the crash comes while bob answers, and alice's recorded answer must be replayed
when the turn is redone.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from model_server import Gate, ModelServer, agent_of, prompt_key  # noqa: E402
from process_kit import Processes  # noqa: E402
from service_kit import SseEvent, free_port, read_sse, serve_app, wait_until  # noqa: E402
from team_specs import pipeline  # noqa: E402

# Real processes started, killed and restarted, with takeovers after missed heartbeats: on a
# busy machine one such test takes well over the suite's default 60 s.
pytestmark = pytest.mark.timeout(240)

KEY = "crash-test-key-0123456789"
HEADERS = {"Authorization": f"Bearer {KEY}"}
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
FAST = {
    "MUSTER_API_KEYS": KEY,
    "MUSTER_WORKER__HEARTBEAT_SECONDS": "0.5",
    # Eight missed heartbeats before a takeover: on a busy machine a live worker's beat can
    # lag a second or two, and a takeover of a live worker's run is not what is tested here.
    "MUSTER_WORKER__STALLED_AFTER_SECONDS": "4",
    "MUSTER_WORKER__POLL_SECONDS": "0.5",
    "MUSTER_SERVER__DRAIN_SECONDS": "5",
    "MUSTER_LOGGING__LEVEL": "INFO",
}
TRANSCRIPT = [
    ("user", "go"),
    ("alice", "alice #2"),
    ("bob", "bob #3"),
    ("carol", "carol #4"),
    ("alice", "alice #5"),
    ("bob", "bob #6"),
]


@pytest.fixture
def model_server() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server


class Stream:
    """An SSE client that collects a run's events and can be moved to another server."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.events: list[SseEvent] = []

    @property
    def last_id(self) -> int:
        ids = [int(e.id) for e in self.events if e.id]
        return ids[-1] if ids else 0

    async def follow(self, base: str, *, until_seq: int | None = None) -> None:
        """Read from ``base`` after the last event seen, to ``end`` (or to ``until_seq``)."""
        headers = {**HEADERS, "Last-Event-ID": str(self.last_id)}
        async with (
            httpx.AsyncClient(base_url=base, timeout=60) as client,
            client.stream("GET", f"/v1/runs/{self.run_id}/events", headers=headers) as response,
        ):
            assert response.status_code == 200
            async for event in read_sse(response):
                self.events.append(event)
                if event.event == "end" or (until_seq is not None and self.last_id >= until_seq):
                    return

    def assert_each_event_once(self) -> None:
        ids = [int(e.id) for e in self.events if e.id]
        assert ids == list(range(1, len(ids) + 1)), ids
        assert self.events[-1].event == "end"


def assert_model_asked_once_except_bob_in_flight(server: ModelServer) -> None:
    bob_first = next(prompt_key(r) for r in server.requests if agent_of(r) == "bob")
    repeated = {key: n for key, n in server.prompts.items() if n > 1}
    assert repeated == {bob_first: 2}, repeated
    assert server.asked("alice") == 2  # once per nested-team turn: the redo replayed the first


async def held(gate: Gate) -> None:
    assert await asyncio.to_thread(gate.arrived.wait, 60), "the gated model request never came"


async def start_run(base: str, spec: dict[str, Any]) -> tuple[str, str]:
    async with httpx.AsyncClient(base_url=base, headers=HEADERS, timeout=30) as client:
        assert (
            await client.post("/v1/specs", json={"name": "pipeline", "component": spec})
        ).status_code == 201
        thread = (await client.post("/v1/threads", json={})).json()["id"]
        run = (
            await client.post(f"/v1/threads/{thread}/runs", json={"spec": "pipeline", "task": "go"})
        ).json()
        return thread, run["id"]


async def finished(base: str, run_id: str, thread: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    async with httpx.AsyncClient(base_url=base, headers=HEADERS, timeout=30) as client:

        async def done() -> Any:
            run = (await client.get(f"/v1/runs/{run_id}")).json()
            return run if run["status"] not in ("pending", "running") else None

        run = await wait_until(done, timeout=90, what="the run to finish")
        items = (await client.get(f"/v1/threads/{thread}/messages", params={"limit": 1000})).json()["items"]
        transcript = [(i["message"]["source"], i["message"]["content"]) for i in items]
        return run, transcript


async def test_serve_killed_mid_run_resumes_the_run_when_started_again(
    tmp_path: Path, model_server: ModelServer
) -> None:
    env = {**FAST, "MUSTER_DATABASE__URL": f"sqlite:///{tmp_path / 'muster.db'}"}
    with Processes(tmp_path, env) as processes:
        port = free_port()
        first = processes.serve(port)
        base = f"http://127.0.0.1:{port}"
        gate = model_server.gate(lambda body: agent_of(body) == "bob")
        thread, run_id = await start_run(base, pipeline(model_server.url))
        stream = Stream(run_id)
        await stream.follow(base, until_seq=1)  # the task message, written at turn 0
        await held(gate)  # alice answered (recorded); bob is mid-call
        first.kill()
        gate.open()

        port = free_port()
        processes.serve(port)
        base = f"http://127.0.0.1:{port}"
        await stream.follow(base)
        run, transcript = await finished(base, run_id, thread)
        assert run["status"] == "succeeded", processes.logs()
        assert run["attempt"] == 2
        assert transcript == TRANSCRIPT
        stream.assert_each_event_once()
        assert [
            (e.data["source"], e.data["content"]) for e in stream.events if e.event == "message"
        ] == TRANSCRIPT
        assert_model_asked_once_except_bob_in_flight(model_server)
        # SIGTERM drains and exits (uvicorn re-raises the signal once it has shut down).
        second = processes.started[-1]
        assert second.terminate() in (0, -signal.SIGTERM)
        assert "Application shutdown complete" in second.output()


@pytest.fixture
async def pg(pg_schema: str) -> AsyncIterator[dict[str, str]]:
    from muster.service.store import upgrade_database

    await upgrade_database(PG_URL, pg_schema)
    yield {**FAST, "MUSTER_DATABASE__URL": PG_URL, "MUSTER_DATABASE__SCHEMA": pg_schema}


def _pid(worker: str) -> int:
    found = re.search(r":(\d+)$", worker)
    assert found, worker
    return int(found.group(1))


@pytest.mark.postgres
async def test_a_worker_killed_mid_run_is_taken_over_by_another(
    tmp_path: Path, model_server: ModelServer, pg: dict[str, str]
) -> None:
    from muster.service.api import create_app
    from muster.service.settings import load_settings

    with Processes(tmp_path, pg) as processes:
        workers = {p.pid: p for p in (processes.start("worker"), processes.start("worker"))}
        app = create_app(load_settings(env={**pg, "MUSTER_API_KEYS": KEY}))
        async with serve_app(app) as base:
            gate = model_server.gate(lambda body: agent_of(body) == "bob")
            thread, run_id = await start_run(base, pipeline(model_server.url))
            stream = Stream(run_id)
            follower = asyncio.create_task(stream.follow(base))
            await held(gate)
            async with httpx.AsyncClient(base_url=base, headers=HEADERS) as client:
                executing = (await client.get(f"/v1/runs/{run_id}")).json()["worker"]
            victim = workers[_pid(executing)]
            victim.kill()
            gate.open()
            run, transcript = await finished(base, run_id, thread)
            await asyncio.wait_for(follower, 30)
        assert run["status"] == "succeeded", processes.logs()
        assert run["attempt"] == 2 and run["worker"] != executing, processes.logs()
        assert transcript == TRANSCRIPT
        stream.assert_each_event_once()
        assert_model_asked_once_except_bob_in_flight(model_server)


@pytest.mark.postgres
@pytest.mark.redis
async def test_a_replica_killed_while_a_client_streams_the_client_resumes_on_another(
    tmp_path: Path, model_server: ModelServer, pg: dict[str, str]
) -> None:
    env = {**pg, "MUSTER_REDIS__URL": "redis://127.0.0.1:6379/0"}
    with Processes(tmp_path, env) as processes:
        processes.start("worker")
        ports = free_port(), free_port()
        replica_a = processes.serve(ports[0])
        processes.serve(ports[1])
        base_a, base_b = (f"http://127.0.0.1:{p}" for p in ports)
        gate = model_server.gate(lambda body: agent_of(body) == "carol")
        thread, run_id = await start_run(base_a, pipeline(model_server.url))
        stream = Stream(run_id)
        reading = asyncio.create_task(stream.follow(base_a))
        await held(gate)  # turn 1 (alice, bob) is written; carol is mid-call
        await wait_until(lambda: asyncio.sleep(0, stream.last_id >= 3), what="turn 1's events on replica A")
        replica_a.kill()
        with pytest.raises((httpx.HTTPError, httpx.StreamError)):
            await asyncio.wait_for(reading, 30)
        seen_on_a = len(stream.events)
        gate.open()
        await stream.follow(base_b)
        run, transcript = await finished(base_b, run_id, thread)
        assert run["status"] == "succeeded", processes.logs()
        assert transcript == TRANSCRIPT
        stream.assert_each_event_once()
        assert 3 <= seen_on_a < len(stream.events)
        assert json.loads(json.dumps(stream.events[-2].data))["status"] == "succeeded"


@pytest.mark.postgres
async def test_a_worker_sent_sigterm_gives_its_run_back_within_the_drain(
    tmp_path: Path, model_server: ModelServer, pg: dict[str, str]
) -> None:
    from muster.service.api import create_app
    from muster.service.settings import load_settings

    env = {**pg, "MUSTER_SERVER__DRAIN_SECONDS": "1"}
    with Processes(tmp_path, env) as processes:
        draining = processes.start("worker")
        app = create_app(load_settings(env={**env, "MUSTER_API_KEYS": KEY}))
        async with serve_app(app) as base:
            gate = model_server.gate(lambda body: agent_of(body) == "bob")
            thread, run_id = await start_run(base, pipeline(model_server.url))
            await held(gate)
            assert draining.terminate(timeout=30) in (0, -signal.SIGTERM)  # back within the drain
            async with httpx.AsyncClient(base_url=base, headers=HEADERS) as client:
                assert (await client.get(f"/v1/runs/{run_id}")).json()["status"] == "pending"
            gate.open()
            processes.start("worker")
            run, transcript = await finished(base, run_id, thread)
        assert run["status"] == "succeeded", processes.logs()
        assert run["attempt"] == 2
        assert transcript == TRANSCRIPT
        assert_model_asked_once_except_bob_in_flight(model_server)
