"""Cache: latency of a ``ChatCompletionCache`` hit with the in-memory store (µs per hit).

A hit is the whole price of asking a cached question again: hashing the request into a
key, the store lookup and handing back the cached ``CreateResult``. The request is a
realistic ten-message conversation with a system prompt, since the key covers every
message. Both flavors use their core's ``InMemoryStore``; the wrapped replay client holds
a single reply, so any request reaching it past the first would fail the run.
"""

from __future__ import annotations

import time

from benchmarks._flavor import load
from benchmarks.scenarios._common import best_of, per_op_us, scenario_main

NAME = "cache: ChatCompletionCache hit (in-memory)"
UNIT = "µs/hit"
GOAL = None
ANSWER = "Paris is the capital of France."


async def run(flavor: str, quick: bool) -> float:
    core = load(flavor, "core")
    models = load(flavor, "models")
    replay = load(flavor, "replay")
    cache_mod = load(flavor, "cache")
    count = 500 if quick else 5_000

    messages: list[object] = [models.SystemMessage(content="You are a concise geography assistant.")]
    for turn in range(4):
        messages.append(
            models.UserMessage(content=f"Question {turn}: name a country in Europe.", source="user")
        )
        messages.append(models.AssistantMessage(content=f"Country number {turn} is Portugal.", source="geo"))
    messages.append(models.UserMessage(content="What is the capital of France?", source="user"))

    inner = replay.ReplayChatCompletionClient([ANSWER])
    inner.set_cached_bool_value(False)  # replay results say cached=True by default; only hits should
    cache = cache_mod.ChatCompletionCache(inner, store=core.InMemoryStore())
    first = await cache.create(messages)
    assert not first.cached and first.content == ANSWER, first

    async def body() -> float:
        start = time.perf_counter()
        for _ in range(count):
            result = await cache.create(messages)
        per = per_op_us(start, count)
        assert result.cached and result.content == ANSWER, result
        return per

    value = await best_of(3, body)
    assert len(inner.create_calls) == 1, len(inner.create_calls)  # every timed call was a hit
    return value


if __name__ == "__main__":
    scenario_main(run)
