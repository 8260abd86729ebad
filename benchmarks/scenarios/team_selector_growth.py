"""Teams: the selector's cost per message once the history holds 1,200 messages (µs per message).

A selector must show its model the conversation, so each pick costs at least formatting a
prompt that grows with the history; the goal is that nothing else grows. To see the
selector alone, the agents keep only their last few messages in their model context
(``BufferedChatCompletionContext``), so their own turns cost the same at message 50 and at
message 1,200.

One 1,200-message ``run_stream`` is timed message by message; the cost "at N" is the
median gap between consecutive messages over the 100 messages ending at N (a median, so a
garbage-collection pause does not count). The value reported is the cost at 1,200; the
cost at 300, the growth 300 -> 1,200, and a reference figure (joining the same history
into one string, the least any selector prompt costs) go to stderr and docs/benchmarks.md.
"""

from __future__ import annotations

import statistics
import sys
import time

from benchmarks._flavor import load
from benchmarks.scenarios._common import scenario_main

NAME = "team: selector per-message cost at 1200 msgs"
UNIT = "µs/message"
GOAL = None
SPEAKERS = ("alice", "bob", "carol")
WINDOW = 100


def _cost_at(stamps: list[float], n: int) -> float:
    """Median gap (µs) between the messages ``n - WINDOW`` .. ``n`` (1-based, task excluded)."""
    gaps = [stamps[i] - stamps[i - 1] for i in range(n - WINDOW + 1, n + 1)]
    return statistics.median(gaps) * 1e6


def _format_cost(messages: list[object], n: int) -> float:
    """µs to join the first ``n`` messages as "source: text" lines: the floor of any selector prompt."""
    history = messages[:n]
    best = float("inf")
    for _ in range(20):
        start = time.perf_counter()
        "\n".join(f"{m.source}: {m.content}" for m in history)  # type: ignore[attr-defined]
        best = min(best, time.perf_counter() - start)
    return best * 1e6


async def run(flavor: str, quick: bool) -> float:
    replay = load(flavor, "replay")
    agents = load(flavor, "agents")
    teams = load(flavor, "teams")
    conditions = load(flavor, "conditions")
    model_context = load(flavor, "model_context")
    messages_mod = load(flavor, "messages")
    early, late = (150, 600) if quick else (300, 1_200)
    count = late
    turns = count // len(SPEAKERS)

    participants = [
        agents.AssistantAgent(
            name,
            description=f"{name}, who counts when asked.",
            model_client=replay.ReplayChatCompletionClient([f"{name} says {k}" for k in range(turns)]),
            model_context=model_context.BufferedChatCompletionContext(buffer_size=6),
        )
        for name in SPEAKERS
    ]
    selector = replay.ReplayChatCompletionClient([SPEAKERS[i % len(SPEAKERS)] for i in range(count)])
    team = teams.SelectorGroupChat(
        participants,
        model_client=selector,
        termination_condition=conditions.MaxMessageTermination(count + 1),
    )

    stamps: list[float] = []
    streamed: list[object] = []
    async for item in team.run_stream(task="Take turns counting."):
        if isinstance(item, messages_mod.BaseChatMessage):
            stamps.append(time.perf_counter())
            streamed.append(item)
    # stamps[0] is the task; stamps[i] is the i-th agent message.
    assert len(streamed) == count + 1, len(streamed)
    assert [m.source for m in streamed[1:7]] == list(SPEAKERS) * 2  # type: ignore[attr-defined]
    assert streamed[-1].content == f"carol says {turns - 1}"  # type: ignore[attr-defined]
    assert len(selector.create_calls) == count, len(selector.create_calls)
    # The last pick must have shown the model the whole history, first message to last.
    prompt = "\n".join(str(m.content) for m in selector.create_calls[-1]["messages"])
    assert "alice says 0" in prompt and f"bob says {turns - 1}" in prompt, prompt[-300:]

    at_early, at_late = _cost_at(stamps, early), _cost_at(stamps, late)
    fmt_early, fmt_late = _format_cost(streamed, early), _format_cost(streamed, late)
    print(
        f"[{flavor}] selector per-message cost: {at_early:.0f} µs at {early}, {at_late:.0f} µs at {late} "
        f"(+{at_late - at_early:.0f} µs, x{at_late / at_early:.2f}); joining the history alone: "
        f"{fmt_early:.0f} µs at {early}, {fmt_late:.0f} µs at {late} (+{fmt_late - fmt_early:.0f} µs)",
        file=sys.stderr,
    )
    return at_late


if __name__ == "__main__":
    scenario_main(run)
