"""Teams: the round-robin scenario consumed through ``run_stream`` (µs per message).

Same team and 300 messages as ``team_round_robin_run``, but every message is pulled from
the stream, so this adds the cost of handing each message to the caller as it happens,
which is how UIs (``Console``) drive teams.
"""

from __future__ import annotations

import time

from benchmarks._flavor import load
from benchmarks.scenarios._common import SPEAKERS, best_of, per_op_us, round_robin_team, scenario_main

NAME = "team: round robin run_stream (3 agents)"
UNIT = "µs/message"
GOAL = 5.0


async def run(flavor: str, quick: bool) -> float:
    messages_mod = load(flavor, "messages")
    count = 90 if quick else 300
    turns = count // len(SPEAKERS)

    async def body() -> float:
        team = round_robin_team(flavor, count)
        streamed = []
        final = None
        start = time.perf_counter()
        async for item in team.run_stream(task="Take turns counting."):
            if isinstance(item, messages_mod.BaseChatMessage):
                streamed.append(item)
            else:
                final = item
        per = per_op_us(start, count)
        # The stream yields the task, every chat message, then the TaskResult.
        assert len(streamed) == count + 1, len(streamed)
        assert final is not None and len(final.messages) == count + 1, final
        assert [m.source for m in streamed[1:7]] == list(SPEAKERS) * 2
        assert streamed[-1].content == f"carol says {turns - 1}", streamed[-1].content
        return per

    return await best_of(1 if quick else 3, body)


if __name__ == "__main__":
    scenario_main(run)
