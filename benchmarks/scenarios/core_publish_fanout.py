"""Core runtime: publish to a topic with 10 subscribed agents (µs per delivered message)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from benchmarks._flavor import load
from benchmarks.scenarios._common import best_of, per_op_us, scenario_main

NAME = "core: publish fan-out (10 subscribers)"
UNIT = "µs/delivery"
GOAL = 10.0
SUBSCRIBERS = 10


@dataclass
class Tick:
    n: int


async def run(flavor: str, quick: bool) -> float:
    core = load(flavor, "core")
    received = [0]

    class Sink(core.RoutedAgent):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__("sink")

        @core.message_handler  # type: ignore[misc]
        async def on_tick(self, message: Tick, ctx: Any) -> None:
            received[0] += 1

    runtime = core.SingleThreadedAgentRuntime()
    for i in range(SUBSCRIBERS):
        await Sink.register(runtime, f"sink{i}", Sink)
        await runtime.add_subscription(core.TypeSubscription("ticks", f"sink{i}"))
    topic = core.TopicId("ticks", "default")
    count = 300 if quick else 3_000

    async def body() -> float:
        received[0] = 0
        runtime.start()
        start = time.perf_counter()
        for i in range(count):
            await runtime.publish_message(Tick(i), topic)
        await runtime.stop_when_idle()
        per = per_op_us(start, count * SUBSCRIBERS)
        assert received[0] == count * SUBSCRIBERS, received[0]
        return per

    return await best_of(3, body)


if __name__ == "__main__":
    scenario_main(run)
