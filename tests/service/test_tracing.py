"""The service's traces reach a real OTLP/HTTP receiver on loopback, and nothing does when off.

The receiver is a small HTTP server in this process accepting ``POST /v1/traces`` and
decoding the protobuf with ``opentelemetry-proto``, as a collector does. One trace goes
from the client's ``traceparent`` through the API's request span to the run's span in
whichever process executes it (the API on SQLite; a worker, through the job queue, on
PostgreSQL), with the turn, model and tool calls beneath.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent / "api"))

from api_kit import make_settings, running_api  # noqa: E402
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (  # noqa: E402
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from process_kit import Processes  # noqa: E402
from service_kit import free_port, replay_agent, wait_until  # noqa: E402
from team_specs import charging_agent  # noqa: E402

from muster.service.settings import ServiceSettings, load_settings  # noqa: E402

CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"
KINDS = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


@dataclass
class ReceivedSpan:
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    kind: str
    attributes: dict[str, Any]
    status: int
    resource: dict[str, Any] = field(default_factory=dict)


def _value(any_value: Any) -> Any:
    which = any_value.WhichOneof("value")
    if which == "array_value":
        return [_value(v) for v in any_value.array_value.values]
    return getattr(any_value, which) if which else None


class OtlpReceiver:
    """An OTLP/HTTP trace receiver on loopback (see the module docstring)."""

    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self.requests = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                receiver.receive(self.path, self.headers.get("Content-Type", ""), body)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def receive(self, path: str, content_type: str, body: bytes) -> None:
        assert path == "/v1/traces" and content_type == "application/x-protobuf", (path, content_type)
        request = ExportTraceServiceRequest.FromString(body)
        found: list[ReceivedSpan] = []
        for resource_spans in request.resource_spans:
            resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    found.append(
                        ReceivedSpan(
                            name=span.name,
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_id=span.parent_span_id.hex(),
                            kind=KINDS.get(span.kind, "unspecified"),
                            attributes={a.key: _value(a.value) for a in span.attributes},
                            status=span.status.code,
                            resource=resource,
                        )
                    )
        with self._lock:
            self.requests += 1
            self.spans.extend(found)

    def named(self, name: str) -> list[ReceivedSpan]:
        with self._lock:
            return [s for s in self.spans if s.name == name]

    def __enter__(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as server:
        yield server


def one(spans: list[ReceivedSpan]) -> ReceivedSpan:
    assert len(spans) == 1, spans
    return spans[0]


async def test_a_run_is_one_trace_from_the_client_through_the_api_to_its_executor(
    database: Any, receiver: OtlpReceiver
) -> None:
    settings = make_settings(database, tracing={"enabled": True, "endpoint": receiver.url})
    async with running_api(settings, database) as api:
        await api.put_spec("cashier", charging_agent())
        thread = await api.thread()
        response = await api.client.post(
            f"/v1/threads/{thread}/runs",
            json={"spec": "cashier", "task": "charge me"},
            headers={"traceparent": TRACEPARENT},
        )
        assert response.status_code == 202, response.text
        run = response.json()
        assert (await api.wait_status(run["id"], "succeeded"))["status"] == "succeeded"

        async def exported() -> bool:
            names = {s.name for s in receiver.spans}
            return {"invoke_workflow cashier", "POST /v1/threads/{thread_id}/runs"} <= names

        await wait_until(exported, timeout=30, what="the run's spans at the receiver")

    request = one(receiver.named("POST /v1/threads/{thread_id}/runs"))
    assert request.kind == "server"
    assert (request.trace_id, request.parent_id) == (CLIENT_TRACE, CLIENT_SPAN)
    assert request.attributes["http.route"] == "/v1/threads/{thread_id}/runs"
    assert request.attributes["http.response.status_code"] == 202
    # The run carries the request span's context from the API to its executor.
    assert run["metadata"]["traceparent"] == f"00-{CLIENT_TRACE}-{request.span_id}-01"

    workflow = one(receiver.named("invoke_workflow cashier"))
    assert (workflow.trace_id, workflow.parent_id) == (CLIENT_TRACE, request.span_id)
    assert workflow.attributes["gen_ai.operation.name"] == "invoke_workflow"
    assert workflow.attributes["gen_ai.conversation.id"] == thread
    assert workflow.attributes["muster.run.id"] == run["id"]
    assert workflow.attributes["muster.run.status"] == "succeeded"
    executor = "worker@" if database.backend == "postgresql" else "serve@"
    assert workflow.resource["service.instance.id"].startswith(executor)
    assert workflow.resource["service.name"] == "muster"

    turn = one(receiver.named("invoke_agent cashier"))
    assert turn.parent_id == workflow.span_id
    assert turn.attributes["gen_ai.agent.name"] == "cashier"
    chats = receiver.named("chat replay")
    assert len(chats) == 2 and {c.parent_id for c in chats} == {turn.span_id}
    assert all(c.kind == "client" and c.attributes["gen_ai.provider.name"] == "replay" for c in chats)
    assert [c.attributes["gen_ai.usage.output_tokens"] for c in chats][0] == 1  # the scripted usage
    tool = one(receiver.named("execute_tool charge"))
    assert tool.parent_id == turn.span_id
    assert tool.attributes["gen_ai.tool.call.id"] == "call_7"
    # Every span of the run is in the client's trace; other requests started traces of their own.
    assert {s.trace_id for s in receiver.spans if s.kind != "server"} == {CLIENT_TRACE}
    others = [s for s in receiver.spans if s.kind == "server" and s is not request]
    assert others and all(s.trace_id != CLIENT_TRACE and not s.parent_id for s in others)


async def test_serve_exports_to_the_standard_endpoint_variable_and_logs_trace_ids(
    tmp_path: Path, receiver: OtlpReceiver
) -> None:
    env = {
        "MUSTER_DATABASE__URL": f"sqlite:///{tmp_path / 'muster.db'}",
        "MUSTER_API_KEYS": "trace-test-key-0123456789",
        "MUSTER_TRACING__ENABLED": "true",
        "MUSTER_TRACING__SERVICE_NAME": "muster-api",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
    }
    headers = {"Authorization": "Bearer trace-test-key-0123456789"}
    with Processes(tmp_path, env) as processes:
        port = free_port()
        serve = processes.serve(port)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30
        ) as client:
            spec = {"name": "echo", "component": replay_agent("echo", ["hello"])}
            assert (await client.post("/v1/specs", json=spec)).status_code == 201
            thread = (await client.post("/v1/threads", json={})).json()["id"]
            run = (
                await client.post(
                    f"/v1/threads/{thread}/runs",
                    json={"spec": "echo", "task": "hi"},
                    headers={"traceparent": TRACEPARENT},
                )
            ).json()

            async def done() -> bool:
                return bool(receiver.named("invoke_workflow echo") and receiver.named("chat replay"))

            await wait_until(done, timeout=30, what="the run's spans at the receiver")
        assert serve.terminate() in (0, -signal.SIGTERM)
        lines = [json.loads(line) for line in serve.output().splitlines() if line.startswith("{")]

    workflow = one(receiver.named("invoke_workflow echo"))
    assert workflow.trace_id == CLIENT_TRACE and workflow.resource["service.name"] == "muster-api"
    assert workflow.attributes["muster.run.id"] == run["id"]
    # Run lines are written inside the run's span; the start-up lines outside any.
    ended = [
        ln
        for ln in lines
        if ln["logger"] == "muster.service.runs"
        and ln.get("run_id") == run["id"]
        and ln.get("status") == "succeeded"
    ]
    assert [(ln["trace_id"], ln["span_id"]) for ln in ended] == [(CLIENT_TRACE, workflow.span_id)]
    created = one_line(lines, lambda ln: ln.get("path") == "/v1/threads/{thread_id}/runs")
    request = one(receiver.named("POST /v1/threads/{thread_id}/runs"))
    assert (created["trace_id"], created["span_id"]) == (CLIENT_TRACE, request.span_id)
    assert all("trace_id" not in ln for ln in lines if ln["logger"].startswith("uvicorn"))
    assert any(ln["logger"] == "uvicorn.error" for ln in lines)


def one_line(lines: list[dict[str, Any]], match: Any) -> dict[str, Any]:
    found = [ln for ln in lines if match(ln)]
    assert len(found) == 1, found
    return found[0]


_DISABLED_RUN = r"""
import asyncio, json, sys
sys.path.insert(0, {kit!r})
import httpx
from service_kit import replay_agent, serve_app, wait_until
from muster.service.api import create_app
from muster.service.settings import ServiceSettings

async def main():
    settings = ServiceSettings(
        database={{"url": {db!r}}}, security={{"api_keys": ["k" * 20]}}
    )
    async with serve_app(create_app(settings)) as url:
        async with httpx.AsyncClient(base_url=url, headers={{"Authorization": "Bearer " + "k" * 20}}) as c:
            spec = {{"name": "echo", "component": replay_agent("echo", ["hello"])}}
            assert (await c.post("/v1/specs", json=spec)).status_code == 201
            thread = (await c.post("/v1/threads", json={{}})).json()["id"]
            run = (await c.post(
                f"/v1/threads/{{thread}}/runs", json={{"spec": "echo", "task": "hi"}},
                headers={{"traceparent": {traceparent!r}}},
            )).json()

            async def done():
                got = (await c.get(f"/v1/runs/{{run['id']}}")).json()
                return got if got["status"] == "succeeded" else None

            run = await wait_until(done, timeout=30)
    loaded = sorted(m for m in sys.modules if m.split(".")[0] == "opentelemetry" or m.startswith("muster.ops._tracing"))
    print(json.dumps({{"run": run, "loaded": loaded}}))

asyncio.run(main())
"""


def _loaded_by(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_with_tracing_off_nothing_is_sent_and_muster_imports_nothing_of_opentelemetry(
    tmp_path: Path, receiver: OtlpReceiver
) -> None:
    """FastAPI (0.13x on) imports ``opentelemetry-api`` itself, for its own dormant telemetry:
    the app may load what ``import fastapi`` loads, and not one module more (no SDK, no
    exporter, no muster tracing module)."""
    code = _DISABLED_RUN.format(
        kit=str(Path(__file__).parent), db=f"sqlite:///{tmp_path / 'muster.db'}", traceparent=TRACEPARENT
    )
    # The standard variable alone does not turn tracing on.
    env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_TRACES_EXPORTER": "otlp"}
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    fastapi_loads = _loaded_by(
        "import json, sys, fastapi; print(json.dumps([m for m in sys.modules if m.startswith('opentelemetry')]))"
    )
    assert set(report["loaded"]) <= fastapi_loads, set(report["loaded"]) - fastapi_loads
    assert not [m for m in report["loaded"] if ".sdk" in m or ".exporter" in m or ".proto" in m]
    # The client's trace context is still stored with the run, for a traced worker or the logs.
    assert report["run"]["metadata"] == {"traceparent": TRACEPARENT}
    access = [json.loads(ln) for ln in out.stderr.splitlines() if ln.startswith("{")]
    assert all(ln.get("trace_id") in (None, CLIENT_TRACE) and "span_id" not in ln for ln in access)
    # The process has exited: anything it would ever have sent has arrived.
    assert receiver.requests == 0 and time.monotonic() > started


async def test_enabled_without_an_endpoint_the_server_refuses_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from muster.service.api import create_app

    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    settings = ServiceSettings(
        database={"url": f"sqlite:///{tmp_path / 'muster.db'}"}, tracing={"enabled": True}
    )
    app = create_app(settings)
    with pytest.raises(ValueError, match="nowhere to send spans"):
        async with app.router.lifespan_context(app):
            pass
    assert not (tmp_path / "muster.db").exists()  # it stopped before opening anything


def test_the_tracing_section_reads_the_environment_and_masks_headers() -> None:
    settings = load_settings(
        env={
            "MUSTER_TRACING__ENABLED": "true",
            "MUSTER_TRACING__SAMPLE_RATIO": "0.25",
            "MUSTER_TRACING__HEADERS": '{"x-api-key": "secret-value"}',
        }
    )
    assert settings.tracing.enabled and settings.tracing.sample_ratio == 0.25
    assert settings.tracing.headers["x-api-key"].get_secret_value() == "secret-value"
    assert settings.masked()["tracing"]["headers"] == {"x-api-key": "**********"}
    assert ServiceSettings().tracing.enabled is False
