"""Core runtime: sequential send_message round trips to one RoutedAgent (µs per round trip)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from benchmarks._flavor import load
from benchmarks.scenarios._common import best_of, per_op_us, scenario_main

NAME = "core: RPC round trip"
UNIT = "µs/call"
GOAL = 5.0


@dataclass
class Ping:
    n: int


async def run(flavor: str, quick: bool) -> float:
    core = load(flavor, "core")

    class Echo(core.RoutedAgent):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__("echo")

        @core.message_handler  # type: ignore[misc]
        async def on_ping(self, message: Ping, ctx: Any) -> Ping:
            return Ping(message.n + 1)

    runtime = core.SingleThreadedAgentRuntime()
    await Echo.register(runtime, "echo", Echo)
    runtime.start()
    target = core.AgentId("echo", "default")
    count = 2_000 if quick else 20_000
    await runtime.send_message(Ping(0), target)  # instantiate the agent outside the timing

    async def body() -> float:
        start = time.perf_counter()
        for i in range(count):
            await runtime.send_message(Ping(i), target)
        return per_op_us(start, count)

    result = await best_of(3, body)
    await runtime.stop()
    return result


if __name__ == "__main__":
    scenario_main(run)
