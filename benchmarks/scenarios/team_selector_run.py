"""Teams: SelectorGroupChat of 3 replay AssistantAgents, 300 messages via ``team.run`` (µs per message).

Before every turn the selector formats the conversation into its prompt and asks a replay
selector model (which answers the next speaker's name) who speaks; the per-message figure
therefore includes building and "sending" a prompt that grows with the history.
"""

from __future__ import annotations

import time

from benchmarks._flavor import load
from benchmarks.scenarios._common import best_of, per_op_us, scenario_main

NAME = "team: selector run (3 agents)"
UNIT = "µs/message"
GOAL = None
SPEAKERS = ("alice", "bob", "carol")


async def run(flavor: str, quick: bool) -> float:
    replay = load(flavor, "replay")
    agents = load(flavor, "agents")
    teams = load(flavor, "teams")
    conditions = load(flavor, "conditions")
    count = 90 if quick else 300
    turns = count // len(SPEAKERS)

    def build() -> tuple[object, object]:
        participants = [
            agents.AssistantAgent(
                name,
                description=f"{name}, who counts when asked.",
                model_client=replay.ReplayChatCompletionClient([f"{name} says {k}" for k in range(turns)]),
            )
            for name in SPEAKERS
        ]
        # Speakers never repeat back to back, so every pick is a real model call among two candidates.
        selector = replay.ReplayChatCompletionClient([SPEAKERS[i % len(SPEAKERS)] for i in range(count)])
        team = teams.SelectorGroupChat(
            participants,
            model_client=selector,
            termination_condition=conditions.MaxMessageTermination(count + 1),
        )
        return team, selector

    async def body() -> float:
        team, selector = build()
        start = time.perf_counter()
        result = await team.run(task="Take turns counting.")
        per = per_op_us(start, count)
        messages = result.messages
        assert len(messages) == count + 1, len(messages)
        assert [m.source for m in messages[1:7]] == list(SPEAKERS) * 2, [m.source for m in messages[1:7]]
        assert messages[-1].content == f"carol says {turns - 1}", messages[-1].content
        # One selector call per message: the first pick (among all three) included.
        assert len(selector.create_calls) == count, len(selector.create_calls)
        return per

    return await best_of(1 if quick else 3, body)


if __name__ == "__main__":
    scenario_main(run)
