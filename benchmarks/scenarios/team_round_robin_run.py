"""Teams: RoundRobinGroupChat of 3 replay AssistantAgents, 300 messages via ``team.run`` (µs per message).

The per-message figure is the team's whole cost of one turn: the manager picking the next
speaker, the group-chat broadcast to every participant, the agent's model turn on a replay
client (no network), and the termination check. The agents keep their default unbounded
model context, as a ported AutoGen app would.
"""

from __future__ import annotations

import time

from benchmarks._flavor import load
from benchmarks.scenarios._common import best_of, per_op_us, scenario_main

NAME = "team: round robin run (3 agents)"
UNIT = "µs/message"
GOAL = 5.0
SPEAKERS = ("alice", "bob", "carol")


async def run(flavor: str, quick: bool) -> float:
    replay = load(flavor, "replay")
    agents = load(flavor, "agents")
    teams = load(flavor, "teams")
    conditions = load(flavor, "conditions")
    count = 90 if quick else 300
    turns = count // len(SPEAKERS)

    def build() -> object:
        participants = [
            agents.AssistantAgent(
                name,
                model_client=replay.ReplayChatCompletionClient([f"{name} says {k}" for k in range(turns)]),
            )
            for name in SPEAKERS
        ]
        # The task counts as a message, hence count + 1.
        return teams.RoundRobinGroupChat(
            participants, termination_condition=conditions.MaxMessageTermination(count + 1)
        )

    async def body() -> float:
        team = build()
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
