"""Providers: per-call overhead of ``OpenAIChatCompletionClient.create`` over the raw ``openai`` SDK (%).

Both make the same one-message chat completion against the same zero-latency loopback
server, through the same SDK and HTTP stack (the framework client wraps an
``AsyncOpenAI``), so the difference is the framework's own work per call: converting
messages, building the request, turning the SDK's reply into a ``CreateResult``, usage
accounting and logging. Goal for muster: under 5 %; the autogen flavor measures AutoGen's
client the same way, against the same SDK.

The two are timed in short alternating blocks, and the overhead is the median over the
pairs of adjacent blocks of (client time / SDK time - 1): a noisy neighbour on the shared
machine slows both blocks of a pair alike, so the ratio survives load that swings the
absolute figures by 2-3x. Per-call µs, and the same ratio on the process's CPU time
(which excludes the server process entirely), go to stderr.
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any

from benchmarks._fake_openai import COMPLETION_TEXT, FakeOpenAIServer
from benchmarks._flavor import load
from benchmarks.scenarios._common import scenario_main

NAME = "provider: create() overhead vs raw SDK"
UNIT = "% over SDK"
GOAL = None
PROMPT = "What is six times seven?"


async def run(flavor: str, quick: bool) -> float:
    import openai

    models = load(flavor, "models")
    openai_models = load(flavor, "openai")
    blocks, per_block = (15, 20) if quick else (60, 20)

    with FakeOpenAIServer(latency=0.0) as server:
        sdk = openai.AsyncOpenAI(api_key="sk-bench", base_url=server.base_url)
        client = openai_models.OpenAIChatCompletionClient(
            model="gpt-4o", api_key="sk-bench", base_url=server.base_url
        )
        messages = [models.UserMessage(content=PROMPT, source="user")]

        async def sdk_call() -> str | None:
            reply = await sdk.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": PROMPT}]
            )
            return reply.choices[0].message.content

        async def client_call() -> Any:
            return (await client.create(messages)).content

        async def block(call: Any) -> tuple[float, float]:
            """(wall µs, CPU µs) per call over one block."""
            start, cpu = time.perf_counter(), time.process_time()
            for _ in range(per_block):
                content = await call()
            wall = (time.perf_counter() - start) / per_block * 1e6
            cpu = (time.process_time() - cpu) / per_block * 1e6
            assert content == COMPLETION_TEXT, content
            return wall, cpu

        # Warm both paths (connections, lazy imports, first-call caches) before timing.
        await block(sdk_call)
        await block(client_call)
        sdk_us, client_us = [], []
        for _ in range(blocks):
            sdk_us.append(await block(sdk_call))
            client_us.append(await block(client_call))
        await client.close()
        await sdk.close()
        served = server.stats()["completions"]

    assert served == 2 * per_block * (blocks + 1), served
    overhead = (statistics.median(c[0] / s[0] for s, c in zip(sdk_us, client_us, strict=True)) - 1) * 100
    cpu_overhead = (statistics.median(c[1] / s[1] for s, c in zip(sdk_us, client_us, strict=True)) - 1) * 100
    sdk_wall, client_wall = (
        statistics.median(s[0] for s in sdk_us),
        statistics.median(c[0] for c in client_us),
    )
    print(
        f"[{flavor}] median raw SDK {sdk_wall:.0f} µs/call, client.create {client_wall:.0f} µs/call; "
        f"paired overhead {overhead:+.1f} % wall, {cpu_overhead:+.1f} % CPU",
        file=sys.stderr,
    )
    return overhead


if __name__ == "__main__":
    scenario_main(run)
