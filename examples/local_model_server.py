"""A scripted OpenAI-compatible model server on loopback, standing in for vLLM, Ollama or llama.cpp.

The service demo needs a model that takes a moment to answer (so a run can be killed
mid-way) and counts what it was asked (so the demo can show a crash cost no second call),
without a network or an API key. Each *model name* has a script: ``POST
/v1/chat/completions`` with ``"model": "researcher"`` answers the researcher's next line.
Which line is next is read from the request itself (how many assistant messages the prompt
already holds), so the server keeps no conversation state and answers a repeated request
the same way.

Run: ``python examples/local_model_server.py --script script.json --latency 0.8`` (prints
``PORT <n>`` once listening); ``GET /stats`` returns the number of completions per model.
It exits when its stdin closes, so it never outlives the process that started it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from typing import Any


class ScriptedModels:
    """The scripts, and what was asked of them."""

    def __init__(self, scripts: dict[str, list[str]], latency: float) -> None:
        self.scripts = scripts
        self.latency = latency
        self.served: Counter[str] = Counter()

    def reply(self, body: dict[str, Any]) -> dict[str, Any]:
        model = str(body.get("model", ""))
        script = self.scripts.get(model) or [f"(no script for model {model!r})"]
        turn = sum(1 for m in body.get("messages", []) if m.get("role") == "assistant")
        text = script[min(turn, len(script) - 1)]
        self.served[model] += 1
        words = len(text.split())
        prompt = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
        return {
            "id": f"chatcmpl-{model}-{turn}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": prompt, "completion_tokens": words, "total_tokens": prompt + words},
        }


async def _handle(models: ScriptedModels, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            request_line = await reader.readline()
            if not request_line:
                return
            method, path, _ = request_line.decode().split(" ", 2)
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode().partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            raw = await reader.readexactly(length) if length else b""
            if method == "POST" and path.rstrip("/").endswith("/chat/completions"):
                await asyncio.sleep(models.latency)  # the "model" thinking: what the demo kills mid-way
                status, payload = 200, models.reply(json.loads(raw or b"{}"))
            elif method == "GET" and path == "/stats":
                status, payload = 200, dict(models.served)
            else:
                status, payload = 404, {"error": {"message": f"no route {method} {path}"}}
            body = json.dumps(payload).encode()
            head = f"HTTP/1.1 {status} OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
            writer.write(head.encode() + body)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        return
    finally:
        writer.close()


async def serve(models: ScriptedModels, port: int) -> None:
    server = await asyncio.start_server(lambda r, w: _handle(models, r, w), "127.0.0.1", port)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    loop = asyncio.get_running_loop()
    async with server:
        await loop.run_in_executor(None, sys.stdin.read)  # returns when stdin closes


def main() -> None:
    parser = argparse.ArgumentParser(prog="local_model_server")
    parser.add_argument("--script", required=True, help="JSON file: {model name: [reply, ...]}")
    parser.add_argument("--latency", type=float, default=0.8)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    with open(args.script, encoding="utf-8") as f:
        scripts = json.load(f)
    asyncio.run(serve(ScriptedModels(scripts, args.latency), args.port))


if __name__ == "__main__":
    main()
