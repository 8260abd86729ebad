"""Agents: one AssistantAgent run whose model calls one tool, then answers (µs per run)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from benchmarks._flavor import load
from benchmarks.scenarios._common import best_of, per_op_us, scenario_main

NAME = "agent: run with one tool call"
UNIT = "µs/run"
MODEL_INFO = {
    "vision": False,
    "function_calling": True,
    "json_output": False,
    "family": "unknown",
    "structured_output": False,
}
GOAL = 3.0


async def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"Sunny in {city}"


def tool_runs(flavor: str, count: int) -> Callable[[], Awaitable[float]]:
    """A timed body: ``count`` one-tool-call agent runs on one replay client, µs per run.

    Shared with ``agent_tool_run_instrumented`` so both scenarios measure the same run.
    """
    core = load(flavor, "core")
    models = load(flavor, "models")
    replay = load(flavor, "replay")
    agents = load(flavor, "agents")

    def script() -> list[object]:
        items: list[object] = []
        for i in range(count):
            call = core.FunctionCall(id=f"call_{i}", name="get_weather", arguments='{"city": "Paris"}')
            items.append(
                models.CreateResult(
                    finish_reason="function_calls",
                    content=[call],
                    usage=models.RequestUsage(prompt_tokens=10, completion_tokens=5),
                    cached=False,
                )
            )
            items.append("It is sunny in Paris.")
        return items

    async def body() -> float:
        client = replay.ReplayChatCompletionClient(script(), model_info=MODEL_INFO)
        start = time.perf_counter()
        for _ in range(count):
            agent = agents.AssistantAgent(
                "weather", model_client=client, tools=[get_weather], reflect_on_tool_use=True
            )
            result = await agent.run(task="Weather in Paris?")
            assert result.messages[-1].content == "It is sunny in Paris.", result.messages[-1]
        return per_op_us(start, count)

    return body


async def run(flavor: str, quick: bool) -> float:
    return await best_of(3, tool_runs(flavor, 100 if quick else 1_000))


if __name__ == "__main__":
    scenario_main(run)
