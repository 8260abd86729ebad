"""The service demo: the seed's expert team through ``muster serve``, killed mid-run and restarted.

What it shows, offline and on the embedded defaults (SQLite in a temporary folder):

1. ``muster serve`` starts with the expert team as a spec; the team's three agents talk to a
   scripted OpenAI-compatible model server on loopback (``local_model_server.py``) that takes
   a moment to answer, like a local model would.
2. A run is started through the API and its events are streamed (SSE).
3. Mid-run the server is killed with SIGKILL: no shutdown, no cleanup.
4. The server is started again on the same database. The run resumes from its last turn
   checkpoint; the client reconnects with ``Last-Event-ID`` and sees the rest of the events,
   each once. Model answers already received are replayed from the store, not asked again.
5. The stored transcript is printed and checked: no message lost, none repeated.

Run: ``.venv/bin/python examples/serve_demo.py`` (``make demo`` runs it after the console demo).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import yaml

HERE = Path(__file__).resolve().parent
MUSTER = Path(sys.executable).with_name("muster")
API_KEY = "mk_demo_key_for_the_local_server"
TASK = "Write a short report on AI in healthcare"
KILL_AFTER_MESSAGES = 3  # the task, the researcher, the writer: then the server dies


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def expert_team_spec(model_base_url: str) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The expert team of examples/expert_team.yaml, its agents on the local model server.

    Returns the spec and the model server's script (each agent's replay lines, by model name).
    """
    spec: dict[str, Any] = yaml.safe_load((HERE / "expert_team.yaml").read_text(encoding="utf-8"))
    scripts: dict[str, list[str]] = {}
    for participant in spec["config"]["participants"]:
        config = participant["config"]
        name = config["name"]
        scripts[name] = list(config["model_client"]["config"]["chat_completions"])
        config["model_client"] = {
            "provider": "muster.models.openai.OpenAIChatCompletionClient",
            "component_type": "model",
            "config": {
                "model": name,
                "base_url": model_base_url,
                "api_key": "local-model-needs-no-key",
                "model_info": {
                    "vision": False,
                    "function_calling": True,
                    "json_output": True,
                    "family": "unknown",
                    "structured_output": False,
                },
            },
        }
    return spec, scripts


class Server:
    """``muster serve`` as a child process that can be killed like a crashed machine."""

    def __init__(self, workdir: Path, port: int) -> None:
        self.workdir, self.port = workdir, port
        self.proc: subprocess.Popen[bytes] | None = None
        self.base = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        env = {
            **os.environ,
            "MUSTER_DATABASE__URL": f"sqlite:///{self.workdir / 'muster.db'}",
            "MUSTER_API_KEYS": API_KEY,
            "MUSTER_LOGGING__LEVEL": "WARNING",
        }
        log = (self.workdir / "serve.log").open("ab")
        cmd = [str(MUSTER), "serve", "--specs", str(self.workdir / "specs"), "--port", str(self.port)]
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"muster serve exited; see {self.workdir / 'serve.log'}")
            time.sleep(0.1)  # polling a process we started: there is no event to wait on
        raise RuntimeError("muster serve did not become ready")

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def sse(
    client: httpx.Client, path: str, last_event_id: str | None
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(id, event, data) for each server-sent event, until the stream ends."""
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    with client.stream("GET", path, headers=headers, timeout=None) as response:
        response.raise_for_status()
        event_id, event, data = "", "message", []
        for line in response.iter_lines():
            if not line:
                if data:
                    yield event_id, event, json.loads("\n".join(data))
                event_id, event, data = "", "message", []
            elif line.startswith("id:"):
                event_id = line[3:].strip()
            elif line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())


def _show(data: dict[str, Any]) -> None:
    text = str(data.get("content", ""))
    print(f"  [{data.get('source')}] {text[:100]}{'...' if len(text) > 100 else ''}", flush=True)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="muster-serve-demo-") as tmp:
        workdir = Path(tmp)
        (workdir / "specs").mkdir()
        _, scripts = expert_team_spec("unused")
        (workdir / "script.json").write_text(json.dumps(scripts))
        model = subprocess.Popen(
            [sys.executable, str(HERE / "local_model_server.py"), "--script", str(workdir / "script.json")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        server = Server(workdir, _free_port())
        try:
            assert model.stdout is not None
            model_port = int(model.stdout.readline().split()[1])
            return _demo(workdir, model_port, server)
        finally:
            server.stop()
            if model.stdin is not None:
                model.stdin.close()  # the model server exits when its stdin closes
            model.wait(timeout=30)


def _demo(workdir: Path, model_port: int, server: Server) -> int:
    spec, _ = expert_team_spec(f"http://127.0.0.1:{model_port}/v1")
    (workdir / "specs" / "expert_team.json").write_text(json.dumps(spec))

    print(
        "muster serve demo: the expert team through the HTTP API, on SQLite; a local scripted model answers"
    )
    server.start()
    headers = {"Authorization": f"Bearer {API_KEY}"}
    client = httpx.Client(base_url=server.base, headers=headers, timeout=30)
    thread = client.post("/v1/threads", json={}).raise_for_status().json()
    run = client.post(f"/v1/threads/{thread['id']}/runs", json={"spec": "expert_team", "task": TASK})
    run = run.raise_for_status().json()
    print(f"\n=== run {run['id']} started ({run['status']}); streaming its events " + "=" * 10)

    last_id, seen_messages = None, 0
    for event_id, event, data in sse(client, f"/v1/runs/{run['id']}/events", last_id):
        last_id = event_id
        if event == "message":
            seen_messages += 1
            _show(data)
            if seen_messages == KILL_AFTER_MESSAGES:
                break
    server.kill()
    print(f"\n=== SIGKILL: the server died mid-run, after event {last_id} " + "=" * 20)

    server.start()
    print("=== restarted on the same database; reconnecting with Last-Event-ID " + "=" * 10)
    client = httpx.Client(base_url=server.base, headers=headers, timeout=30)
    for _event_id, event, data in sse(client, f"/v1/runs/{run['id']}/events", last_id):
        if event == "message":
            _show(data)
        elif event == "status":
            print(f"  (status: {data.get('status')}, stop reason: {data.get('stop_reason')})")

    final = client.get(f"/v1/runs/{run['id']}").raise_for_status().json()
    page = client.get(f"/v1/threads/{thread['id']}/messages", params={"limit": 100}).raise_for_status().json()
    items = page["items"] if isinstance(page, dict) else page
    sources = [m["message"]["source"] for m in items]
    ids = [m["message"].get("id") for m in items]
    served: dict[str, int] = httpx.get(f"http://127.0.0.1:{model_port}/stats").json()
    answers = sum(1 for source in sources if source != "user")
    asked = sum(served.values())

    print("\n=== done " + "=" * 60)
    print(f"run status: {final['status']} (attempt {final['attempt']}), stop reason: {final['stop_reason']}")
    print(f"stored transcript: {len(ids)} messages, {len(set(ids))} distinct: " + " > ".join(sources))
    if asked == answers:
        print(f"model requests: {asked} for {answers} answers: every answer was asked for once")
    else:
        print(
            f"model requests: {asked} for {answers} answers: the one in flight when the server died was "
            "asked again; no completed answer was asked for twice"
        )
    ok = final["status"] == "succeeded" and len(ids) == len(set(ids)) and 0 <= asked - answers <= 1
    print("transcript intact: nothing lost, nothing repeated" if ok else "CHECK FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
