"""An OpenAI-compatible model on loopback whose answers follow from the prompt, with gates.

Crash and double-texting tests need a model that (a) answers the same request the same
way in any process (a run resumed elsewhere must reproduce the transcript), (b) counts
what it was asked (a resumed run must not ask again for what it already got), and (c)
can hold a request until the test says so (to kill a process, or to send a second run,
while a run is mid-turn, without sleeping). It runs in a thread of the test process, so
the processes under test (``muster serve``, ``muster worker``) reach it over loopback.

Answers: ``"<agent> #<n>"``, where ``agent`` is the first word after "You are" in the
system message and ``n`` the number of messages in the prompt: deterministic, and
different at every turn.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Gate", "ModelServer", "openai_agent"]


class Gate:
    """Holds the requests ``match`` accepts until :meth:`open`; :attr:`arrived` tells when one came."""

    def __init__(self, match: Callable[[dict[str, Any]], bool], times: int = 1) -> None:
        self.match = match
        self.times = times
        self.arrived = threading.Event()
        self.released = threading.Event()
        self.held = 0

    def open(self) -> None:
        """Let held (and later) matching requests through."""
        self.released.set()


class ModelServer:
    """The server (see the module docstring). Use as a context manager or start()/stop()."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.prompts: Counter[str] = Counter()
        self.gates: list[Gate] = []
        self.replies: dict[str, Callable[[dict[str, Any]], dict[str, Any] | str]] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                payload = server._answer(body)
                data = json.dumps(payload).encode()
                try:
                    self.send_response(200)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the asking process was killed meanwhile: that is the test

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The OpenAI base URL (``.../v1``)."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def start(self) -> ModelServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        for gate in self.gates:
            gate.open()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> ModelServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def gate(self, match: Callable[[dict[str, Any]], bool]) -> Gate:
        """Hold the next request ``match`` accepts (see :class:`Gate`)."""
        gate = Gate(match)
        self.gates.append(gate)
        return gate

    def asked(self, agent: str) -> int:
        """How many requests reached the model for ``agent``."""
        with self._lock:
            return sum(1 for r in self.requests if agent_of(r) == agent)

    def _answer(self, body: dict[str, Any]) -> dict[str, Any]:
        key = prompt_key(body)
        with self._lock:
            self.requests.append(body)
            self.prompts[key] += 1
            gates = [g for g in self.gates if g.held < g.times and not g.released.is_set() and g.match(body)]
            for gate in gates:
                gate.held += 1
        for gate in gates:
            gate.arrived.set()
            gate.released.wait(120)
        agent = agent_of(body)
        reply = self.replies.get(agent)
        produced = reply(body) if reply is not None else f"{agent} #{len(body.get('messages', []))}"
        message = produced if isinstance(produced, dict) else {"role": "assistant", "content": produced}
        return {
            "id": f"chatcmpl-{key[:12]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "gpt-4o"),
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12},
        }


def prompt_key(body: dict[str, Any]) -> str:
    """What identifies a request: its messages."""
    return hashlib.sha256(json.dumps(body.get("messages", []), sort_keys=True).encode()).hexdigest()


def agent_of(body: dict[str, Any]) -> str:
    """The agent a request comes from (its system message says "You are NAME")."""
    for message in body.get("messages", []):
        if message.get("role") == "system":
            found = re.search(r"You are (\w+)", str(message.get("content", "")))
            if found:
                return found.group(1)
    return "unknown"


def openai_agent(name: str, base_url: str, **kwargs: Any) -> dict[str, Any]:
    """An AssistantAgent spec whose model is this server (OpenAI wire format)."""
    from muster.agents import AssistantAgent
    from muster.models.openai import OpenAIChatCompletionClient

    client = OpenAIChatCompletionClient(model="gpt-4o", api_key="test-key", base_url=base_url, max_retries=0)
    agent = AssistantAgent(name, model_client=client, system_message=f"You are {name}.", **kwargs)
    return agent.dump_component().model_dump()
