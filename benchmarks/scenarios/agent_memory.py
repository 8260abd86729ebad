"""Agents: memory held per AssistantAgent with one tool (KiB per agent, traced allocations)."""

from __future__ import annotations

import gc
import tracemalloc

from benchmarks._flavor import load
from benchmarks.scenarios._common import scenario_main

NAME = "agent: memory per agent"
UNIT = "KiB/agent"
MODEL_INFO = {
    "vision": False,
    "function_calling": True,
    "json_output": False,
    "family": "unknown",
    "structured_output": False,
}
GOAL = 1.0


def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"Sunny in {city}"


async def run(flavor: str, quick: bool) -> float:
    replay = load(flavor, "replay")
    agents = load(flavor, "agents")
    count = 200 if quick else 1_000
    client = replay.ReplayChatCompletionClient(["ok"], model_info=MODEL_INFO)
    # Warm up class-level caches (schemas, pydantic validators) outside the measurement.
    agents.AssistantAgent("warm", model_client=client, tools=[get_weather])
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    keep = [agents.AssistantAgent(f"a{i}", model_client=client, tools=[get_weather]) for i in range(count)]
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(keep) == count
    return (after - before) / count / 1024


if __name__ == "__main__":
    scenario_main(run)
