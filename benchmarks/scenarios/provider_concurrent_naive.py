"""Providers: 1,000 single-agent runs started at once against a loopback OpenAI server, one shared client.

The server answers every completion after a fixed 50 ms ("model latency"), in its own
process, so what limits throughput is the client side: agent turns, the provider client,
the OpenAI SDK and its HTTP stack, all on one event loop. The value is wall-clock seconds
per 1,000 runs (lower is better); runs/s and p50/p99 latency, measured from the common
start, go to stderr and docs/benchmarks.md.

This module also holds the driver for the pooled and batched variants
(``provider_concurrent_pooled``, ``provider_concurrent_batched``), which are muster-only:
AutoGen has neither a client pool nor a batcher, so on the autogen flavor those scenarios
measure this naive shared-client setup, i.e. what an AutoGen application would do.
"""

from __future__ import annotations

import asyncio
import math
import sys
from typing import Any

from benchmarks._fake_openai import COMPLETION_TEXT, FakeOpenAIServer, LoadResult, run_all_at_once
from benchmarks._flavor import load
from benchmarks.scenarios._common import scenario_main

NAME = "provider: 1k runs, naive (shared client)"
UNIT = "s/1k runs"
GOAL = None
LATENCY = 0.05
POOL_SIZE = 100
BATCH_SIZE = 100


async def measure(flavor: str, quick: bool, variant: str) -> float:
    """Run the burst with ``variant`` ("naive", "pooled" or "batched"); return seconds per 1,000 runs."""
    if flavor == "autogen":
        variant = "naive"  # AutoGen has no pool or batcher: compare with what its users would run.
    agents = load(flavor, "agents")
    openai_models = load(flavor, "openai")
    count = 200 if quick else 1_000

    with FakeOpenAIServer(latency=LATENCY) as server:

        def new_client() -> Any:
            return openai_models.OpenAIChatCompletionClient(
                model="gpt-4o", api_key="sk-bench", base_url=server.base_url
            )

        shared = new_client()
        # Warm-up outside the timing: imports, the SDK's first-call setup, one connection.
        warm = await agents.AssistantAgent("warm", model_client=shared).run(task="warm up")
        assert warm.messages[-1].content == COMPLETION_TEXT, warm.messages[-1]
        extra: dict[str, Any] = {}

        if variant == "naive":

            async def one(i: int) -> Any:
                return await agents.AssistantAgent(f"agent{i}", model_client=shared).run(
                    task=f"Question {i}?"
                )

            result = await run_all_at_once(count, one)
        elif variant == "pooled":
            ops = load(flavor, "ops")
            async with ops.ModelClientPool(max_connections=POOL_SIZE, client_factory=new_client) as pool:
                # Fill the pool outside the timing, as a long-lived server's pool would be: building
                # a client (an SDK client with its own HTTP stack and TLS context) takes tens of ms,
                # so a cold pool of 100 would measure construction, not serving.
                filled = await asyncio.gather(*(pool.get_client() for _ in range(POOL_SIZE)))
                for client in filled:
                    await pool.return_client(client)
                warm_stats = pool.get_stats()

                async def one(i: int) -> Any:
                    async with pool.client() as client:
                        agent = agents.AssistantAgent(f"agent{i}", model_client=client)
                        return await agent.run(task=f"Question {i}?")

                result = await run_all_at_once(count, one)
                extra = pool.get_stats()
            # Every timed loan reused a pooled client: nothing was built during the burst.
            assert extra["cache_misses"] == warm_stats["cache_misses"] == POOL_SIZE, extra
            assert extra["requests"] == POOL_SIZE + count, extra
        elif variant == "batched":
            ops = load(flavor, "ops")
            async with ops.BatchProcessor(batch_size=BATCH_SIZE, timeout=0.01) as batches:

                async def one(i: int) -> Any:
                    agent = agents.AssistantAgent(f"agent{i}", model_client=shared)
                    return await batches.process_message(f"Question {i}?", agent)

                result = await run_all_at_once(count, one)
                extra = {"batches_run": batches.batches_run}
            assert extra["batches_run"] >= math.ceil(count / BATCH_SIZE), extra
        else:
            raise ValueError(variant)
        await shared.close()
        stats = server.stats()

    _check(result, count, stats)
    if variant == "pooled":
        assert stats["peak_in_flight"] <= POOL_SIZE, stats
    if variant == "batched":
        assert stats["peak_in_flight"] <= BATCH_SIZE, stats
    label = {"naive": "one shared client", "pooled": f"ModelClientPool({POOL_SIZE})"}
    label["batched"] = f"BatchProcessor({BATCH_SIZE})"
    print(
        result.describe(f"[{flavor}] {variant} ({label[variant]})") + f"; server peak in flight "
        f"{stats['peak_in_flight']}, connections {stats['connections']}" + (f"; {extra}" if extra else ""),
        file=sys.stderr,
    )
    return result.wall / count * 1_000


def _check(result: LoadResult, count: int, stats: dict[str, Any]) -> None:
    """Every run got the server's answer, and the server answered each run exactly once."""
    assert len(result.results) == count
    for i, task_result in enumerate(result.results):
        last = task_result.messages[-1]
        assert last.source == f"agent{i}" and last.content == COMPLETION_TEXT, last
    assert stats["completions"] == count + 1, stats  # + the warm-up


async def run(flavor: str, quick: bool) -> float:
    return await measure(flavor, quick, "naive")


if __name__ == "__main__":
    scenario_main(run)
