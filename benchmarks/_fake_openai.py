"""A loopback OpenAI-compatible chat-completions server for the provider benchmarks.

Why not ``tests/models/fake_llm_server.py``: that server runs uvicorn in a thread of the
test process and scripts every reply, which is right for tests but wrong for a
benchmark: its CPU time would be charged to the framework being measured (same process,
same GIL), and queueing 1,000 scripted replies per run is itself work. This one is a raw
asyncio HTTP/1.1 server in its own process, so on a multi-core machine its cost lands on
another core, and it always answers the same completion after a fixed ``--latency``.

It stops by itself: when its stdin closes (the benchmark process exited or closed the
pipe), or after ``--lifetime`` seconds, whichever comes first, so a crashed benchmark
can never leave it running.

Use from a scenario::

    with FakeOpenAIServer(latency=0.05) as server:
        client = OpenAIChatCompletionClient(model="gpt-4o", api_key="sk-bench", base_url=server.base_url)
        ...
        assert server.stats()["completions"] == expected

Run by hand: ``python -m benchmarks._fake_openai --latency 0.05``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

__all__ = ["COMPLETION_TEXT", "FakeOpenAIServer", "LoadResult", "run_all_at_once"]

COMPLETION_TEXT = "The answer is 42."
"""What every completion says; scenarios assert the agents received it."""

_COMPLETION = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o-2024-08-06",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": COMPLETION_TEXT},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 6, "total_tokens": 18},
    }
).encode()


def _response(body: bytes, status: str = "200 OK") -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
        "x-request-id: req_bench\r\n\r\n"
    )
    return head.encode() + body


class _Server:
    """Answers ``POST .../chat/completions`` after ``latency`` seconds; ``GET /stats`` at once."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.completions = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self.connections = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                request_line, _, header_block = head.decode("latin-1").partition("\r\n")
                method, path, _ = request_line.split(" ", 2)
                length = 0
                close = False
                for line in header_block.split("\r\n"):
                    name, _, value = line.partition(":")
                    name = name.strip().lower()
                    if name == "content-length":
                        length = int(value)
                    elif name == "connection" and value.strip().lower() == "close":
                        close = True
                if length:
                    await reader.readexactly(length)
                if method == "GET" and path == "/stats":
                    writer.write(_response(json.dumps(self.stats()).encode()))
                elif method == "POST" and path.endswith("/chat/completions"):
                    self.in_flight += 1
                    self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
                    try:
                        if self.latency:
                            await asyncio.sleep(self.latency)
                    finally:
                        self.in_flight -= 1
                    self.completions += 1
                    writer.write(_response(_COMPLETION))
                else:
                    writer.write(_response(b'{"error": {"message": "not found"}}', "404 Not Found"))
                await writer.drain()
                if close:
                    return
        except ConnectionError:
            return
        finally:
            writer.close()

    def stats(self) -> dict[str, int]:
        return {
            "completions": self.completions,
            "peak_in_flight": self.peak_in_flight,
            "connections": self.connections,
        }


async def _serve(latency: float, lifetime: float) -> None:
    server = _Server(latency)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0, backlog=4096)
    port = listener.sockets[0].getsockname()[1]
    print(json.dumps({"port": port}), flush=True)
    loop = asyncio.get_running_loop()
    # stdin closing means the benchmark is gone: stop with it.
    stdin_closed = loop.run_in_executor(None, sys.stdin.buffer.read)
    async with listener:
        await asyncio.wait([asyncio.ensure_future(stdin_closed)], timeout=lifetime)
    # The executor thread may still block on stdin after a lifetime timeout; do not wait for it.
    os._exit(0)


class FakeOpenAIServer:
    """Starts the server in a child process; the context manager stops it.

    Args:
        latency: Seconds each completion waits before answering (the "model time").
        lifetime: Seconds after which the server exits even if nobody stopped it.
    """

    def __init__(self, latency: float = 0.0, lifetime: float = 600.0) -> None:
        self.latency = latency
        self.lifetime = lifetime
        self._proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def start(self) -> FakeOpenAIServer:
        cmd = [sys.executable, "-m", "benchmarks._fake_openai", "--latency", str(self.latency)]
        cmd += ["--lifetime", str(self.lifetime)]
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("fake OpenAI server did not start")
        self.port = int(json.loads(line)["port"])
        return self

    def stop(self) -> None:
        if self._proc is None:
            return
        assert self._proc.stdin is not None
        self._proc.stdin.close()  # the server exits on stdin EOF
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc = None

    @property
    def base_url(self) -> str:
        """The ``base_url`` for OpenAI clients (``.../v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def stats(self) -> dict[str, Any]:
        """Completions served, peak concurrent completions and connections accepted so far."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stats", timeout=10) as reply:
            return dict(json.loads(reply.read()))

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


@dataclass
class LoadResult:
    """What :func:`run_all_at_once` measured."""

    count: int
    wall: float
    """Seconds from submitting the first run to the last one finishing."""
    latencies: list[float]
    """Per run, seconds from the common submission time to that run finishing."""
    results: list[Any]

    @property
    def runs_per_second(self) -> float:
        return self.count / self.wall

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile latency in milliseconds (``q`` in 1..99)."""
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(q) - 1] * 1e3

    def describe(self, label: str) -> str:
        return (
            f"{label}: {self.count} runs in {self.wall:.2f} s = {self.runs_per_second:.0f} runs/s, "
            f"p50 {self.percentile(50):.0f} ms, p99 {self.percentile(99):.0f} ms"
        )


async def run_all_at_once(count: int, one_run: Callable[[int], Awaitable[Any]]) -> LoadResult:
    """Submit ``count`` runs at the same instant, as a burst of users would, and time them.

    Latency is measured from the common submission time, so it includes any queueing the
    framework (a pool, a batcher, the HTTP connection limit) imposes before a run starts.
    """
    finished: list[float] = [0.0] * count

    async def timed(index: int) -> Any:
        result = await one_run(index)
        finished[index] = time.perf_counter()
        return result

    start = time.perf_counter()
    results = await asyncio.gather(*(timed(i) for i in range(count)))
    wall = time.perf_counter() - start
    return LoadResult(count, wall, [end - start for end in finished], list(results))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._fake_openai")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each completion answers")
    parser.add_argument(
        "--lifetime", type=float, default=600.0, help="exit after this many seconds regardless"
    )
    args = parser.parse_args()
    asyncio.run(_serve(args.latency, args.lifetime))


if __name__ == "__main__":
    main()
