"""Agents: memory per plain AssistantAgent, all sharing one replay client (bytes per agent).

The agent's own cost, with the model client (usually shared by a service) left out.
"""

from __future__ import annotations

from benchmarks.scenarios._agent_memory import bytes_per_plain_agent
from benchmarks.scenarios._common import scenario_main

NAME = "agent: memory per plain agent, shared client"
UNIT = "B/agent"
GOAL = None
LIMIT = 1000.0


async def run(flavor: str, quick: bool) -> float:
    return bytes_per_plain_agent(flavor, quick, shared_client=True)


if __name__ == "__main__":
    scenario_main(run)
