"""Teams: memory held per RoundRobinGroupChat of 3 AssistantAgents (KiB per team, traced allocations).

Counts what an idle, ready-to-run team costs: its three agents (each with a replay
client and a model context), its termination condition and whatever runtime and
bookkeeping the team sets up at construction. A server hosting one team per user pays
this per user.
"""

from __future__ import annotations

import gc
import tracemalloc

from benchmarks._flavor import load
from benchmarks.scenarios._common import scenario_main

NAME = "team: memory per team of 3"
UNIT = "KiB/team"
GOAL = 1.0
SPEAKERS = ("alice", "bob", "carol")


async def run(flavor: str, quick: bool) -> float:
    replay = load(flavor, "replay")
    agents = load(flavor, "agents")
    teams = load(flavor, "teams")
    conditions = load(flavor, "conditions")
    count = 30 if quick else 200

    def build() -> object:
        participants = [
            agents.AssistantAgent(name, model_client=replay.ReplayChatCompletionClient(["ok"]))
            for name in SPEAKERS
        ]
        return teams.RoundRobinGroupChat(
            participants, termination_condition=conditions.MaxMessageTermination(10)
        )

    # Warm up class-level caches (pydantic validators, schemas) outside the measurement.
    build()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    keep = [build() for _ in range(count)]
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(keep) == count and len({id(team) for team in keep}) == count
    assert all(len(team._participants) == len(SPEAKERS) for team in keep)  # type: ignore[attr-defined]
    return (after - before) / count / 1024


if __name__ == "__main__":
    scenario_main(run)
