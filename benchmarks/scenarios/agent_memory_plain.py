"""Agents: memory per plain AssistantAgent, each with its own replay client (bytes per agent).

No tools, the default model context and system message: the agent a service keeps per
thread. Beside ``agent_memory`` (an agent with one tool, sharing its client).
"""

from __future__ import annotations

from benchmarks.scenarios._agent_memory import bytes_per_plain_agent
from benchmarks.scenarios._common import scenario_main

NAME = "agent: memory per plain agent + own client"
UNIT = "B/agent"
GOAL = None
LIMIT = 1300.0


async def run(flavor: str, quick: bool) -> float:
    return bytes_per_plain_agent(flavor, quick, shared_client=False)


if __name__ == "__main__":
    scenario_main(run)
