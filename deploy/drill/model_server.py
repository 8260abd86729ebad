"""The drill's model: an OpenAI-compatible server on loopback that takes its time to answer.

The drill needs runs to be *in flight* when it kills a worker, and it needs to know what
every run's transcript must be. This server gives both: every ``POST
/v1/chat/completions`` is answered after ``--delay`` seconds (the model "thinking": the
server's behaviour, so nothing in the drill sleeps), and the answer follows from the
prompt alone, so a run resumed in another process gets the same answers and its
transcript can be predicted (:func:`expected_transcript`):

    "<agent> #<n> on <task>"

``agent`` is the first word after "You are" in the system message, ``n`` the number of
messages in the prompt (different at every turn), ``task`` the run's first user message
(so two runs' answers never look alike). ``GET /prompts`` returns, per task, the
distinct prompts asked. ``GET /stats`` returns the number of requests and of prompts
asked more than once: a crash may cost one repeated call per run in
flight (the call the killed worker was waiting for), never more, because the service
replays what it recorded.

Run: ``python -m deploy.drill.model_server --delay 0.4`` prints ``PORT <n>`` once it
listens, and exits when its stdin closes, so it never outlives the drill.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["agent_of", "expected_transcript", "reply_text"]


def agent_of(body: dict[str, Any]) -> str:
    """The agent a request comes from (its system message says "You are NAME")."""
    for message in body.get("messages", []):
        if message.get("role") == "system":
            found = re.search(r"You are (\w+)", str(message.get("content", "")))
            if found:
                return found.group(1)
    return "unknown"


def _task_of(body: dict[str, Any]) -> str:
    for message in body.get("messages", []):
        if message.get("role") == "user":
            return str(message.get("content", ""))
    return ""


def reply_text(agent: str, prompt_messages: int, task: str) -> str:
    """What the model answers ``agent`` for a prompt of ``prompt_messages`` messages on ``task``."""
    return f"{agent} #{prompt_messages} on {task}"


def expected_transcript(task: str, agents: list[str], turns: int) -> list[tuple[str, str]]:
    """The thread's messages ``(source, content)`` after a round robin of ``agents`` for ``turns`` turns.

    At turn ``k`` (1-based) an agent's prompt holds its system message, the task and the
    ``k - 1`` replies before it: ``k + 1`` messages.
    """
    transcript = [("user", task)]
    for k in range(1, turns + 1):
        agent = agents[(k - 1) % len(agents)]
        transcript.append((agent, reply_text(agent, k + 1, task)))
    return transcript


class _Model:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.prompts: Counter[str] = Counter()
        self.by_task: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self.lock = threading.Lock()

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        messages = body.get("messages", [])
        key = hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()
        with self.lock:
            self.prompts[key] += 1
            self.by_task.setdefault(_task_of(body), {})[key] = messages
        time.sleep(self.delay)  # the model thinking (this thread's request only)
        text = reply_text(agent_of(body), len(messages), _task_of(body))
        return {
            "id": f"chatcmpl-{key[:16]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "drill"),
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            ],
            "usage": {
                "prompt_tokens": 10 * len(messages),
                "completion_tokens": 8,
                "total_tokens": 10 * len(messages) + 8,
            },
        }

    def prompts_of(self) -> dict[str, list[list[dict[str, Any]]]]:
        """Per task, the distinct prompts asked (each a list of messages)."""
        with self.lock:
            return {task: list(prompts.values()) for task, prompts in self.by_task.items()}

    def stats(self) -> dict[str, int]:
        with self.lock:
            return {
                "requests": sum(self.prompts.values()),
                "repeated": sum(n - 1 for n in self.prompts.values() if n > 1),
            }


def _handler(model: _Model) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the asking worker was killed meanwhile: that is the drill

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("content-length", "0"))
            raw = self.rfile.read(length)
            if len(raw) < length:
                # The asker was killed while sending (headers through, body not): no request.
                self.close_connection = True
                return
            body = json.loads(raw or b"{}")
            if self.path.rstrip("/").endswith("/chat/completions"):
                self._send(200, model.answer(body))
            else:
                self._send(404, {"error": {"message": f"no route POST {self.path}"}})

        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/stats":
                self._send(200, model.stats())
            elif self.path == "/prompts":
                self._send(200, model.prompts_of())
            else:
                self._send(404, {"error": {"message": f"no route GET {self.path}"}})

    return Handler


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # a hundred runs may ask at once; the default backlog is 5
    daemon_threads = True


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.drill.model_server")
    parser.add_argument("--delay", type=float, default=0.4, help="seconds before each answer")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = _Server(("127.0.0.1", args.port), _handler(_Model(args.delay)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"PORT {server.server_address[1]}", flush=True)
    sys.stdin.read()  # returns when the drill closes our stdin (or dies)
    server.shutdown()


if __name__ == "__main__":
    main()
