"""Core runtime: publish to a topic with 10 subscribed agents (µs per delivered message)."""

from __future__ import annotations

import asyncio
import contextvars
import time
from dataclasses import dataclass
from typing import Any

from benchmarks._flavor import load
from benchmarks.scenarios._common import best_of, per_op_us, scenario_main

NAME = "core: publish fan-out (10 subscribers)"
UNIT = "µs/delivery"
GOAL = 10.0
SUBSCRIBERS = 10
FLOOR = "one named asyncio task per delivery (AutoGen's semantics), each setting a context variable"
# The floor's tasks are named, as muster's are: an unnamed task formats a "Task-<n>" name,
# about 1k instructions a delivery that neither needs to pay.


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


_HANDLER_AGENT: contextvars.ContextVar[int] = contextvars.ContextVar("handler_agent")


async def floor(quick: bool) -> float:
    """The same publishes with a runtime reduced to its semantics: a task per delivery, nothing else.

    Each delivery runs in its own task (so a slow handler holds up no other), with the
    recipient in a context variable (``MessageHandlerContext``), calling an async handler;
    as in the scenario, publishing does not yield, so every task is created before any runs.
    Tasks get a name made in advance, as muster's do (the cheaper way to create one).
    """
    loop = asyncio.get_running_loop()
    count = 300 if quick else 3_000
    total = count * SUBSCRIBERS
    received = [0]
    done = asyncio.Event()
    names = [f"deliver to {recipient}" for recipient in range(SUBSCRIBERS)]

    async def handler(message: Tick) -> None:
        received[0] += 1
        if received[0] == total:
            done.set()

    async def deliver(recipient: int, message: Tick) -> None:
        _HANDLER_AGENT.set(recipient)
        await handler(message)

    async def body() -> float:
        received[0] = 0
        done.clear()
        start = time.perf_counter()
        for i in range(count):
            message = Tick(i)
            for recipient in range(SUBSCRIBERS):
                asyncio.Task(deliver(recipient, message), loop=loop, name=names[recipient])
        await done.wait()
        per = per_op_us(start, total)
        assert received[0] == total, received[0]
        return per

    return await best_of(3, body)


if __name__ == "__main__":
    scenario_main(run, floor)
