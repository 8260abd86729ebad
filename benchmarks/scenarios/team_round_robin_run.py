"""Teams: RoundRobinGroupChat of 3 replay AssistantAgents, 300 messages via ``team.run`` (µs per message).

The per-message figure is the team's whole cost of one turn: the manager picking the next
speaker, the group-chat broadcast to every participant, the agent's model turn on a replay
client (no network), and the termination check. The agents keep their default unbounded
model context, as a ported AutoGen app would.
"""

from __future__ import annotations

import time

from benchmarks.scenarios._common import SPEAKERS, best_of, per_op_us, round_robin_team, scenario_main

NAME = "team: round robin run (3 agents)"
UNIT = "µs/message"
GOAL = 5.0


async def run(flavor: str, quick: bool) -> float:
    count = 90 if quick else 300
    turns = count // len(SPEAKERS)

    async def body() -> float:
        team = round_robin_team(flavor, count)
        start = time.perf_counter()
        result = await team.run(task="Take turns counting.")
        per = per_op_us(start, count)
        messages = result.messages
        assert len(messages) == count + 1, len(messages)
        assert [m.source for m in messages[1:7]] == list(SPEAKERS) * 2, [m.source for m in messages[1:7]]
        assert messages[-1].content == f"carol says {turns - 1}", messages[-1].content
        return per

    return await best_of(1 if quick else 3, body)


if __name__ == "__main__":
    scenario_main(run)
