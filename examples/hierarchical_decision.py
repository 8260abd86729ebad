"""Seed section 2.2: hierarchical decisions - experts under a manager under an executive.

The operational experts are tools of the manager (AgentTool), and the manager is a tool of
the executive: the executive delegates, the manager fans out to the experts in parallel
and summarises, and the executive decides.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from demo_model import demo_model_client  # noqa: E402

from muster.agents import AssistantAgent  # noqa: E402
from muster.base import TaskResult  # noqa: E402
from muster.core import FunctionCall  # noqa: E402
from muster.models import CreateResult, RequestUsage  # noqa: E402
from muster.tools import AgentTool  # noqa: E402

QUESTION = "Should our company invest in developing a new AI product? Analyse it fully and recommend."


def delegate(*calls: tuple[str, str]) -> CreateResult:
    """A scripted reply calling agent tools, each with a task."""
    return CreateResult(
        finish_reason="function_calls",
        content=[
            FunctionCall(id=f"call_{i}", name=name, arguments=json.dumps({"task": task}))
            for i, (name, task) in enumerate(calls)
        ],
        usage=RequestUsage(prompt_tokens=150, completion_tokens=40),
        cached=False,
    )


class HierarchicalTeam:
    """Decisions made in three layers: operational experts, a manager, an executive."""

    def __init__(self) -> None:
        # Operational layer
        self.operational_agents = [
            self.create_data_analyst(),
            self.create_market_researcher(),
            self.create_technical_expert(),
        ]
        # Management layer
        self.manager = self.create_manager()
        # Executive layer
        self.executive = self.create_executive()

    def create_data_analyst(self) -> AssistantAgent:
        return AssistantAgent(
            name="data_analyst",
            model_client=demo_model_client(
                [
                    "Data: AI tooling spend in our segment grows 28% a year; our churn data shows demand for automation."
                ]
            ),
            description="Data analysis expert",
            system_message="You are a data analysis expert. Analyse data and provide insights.",
        )

    def create_market_researcher(self) -> AssistantAgent:
        return AssistantAgent(
            name="market_researcher",
            model_client=demo_model_client(
                ["Market: three funded competitors, none focused on mid-size firms; a clear gap exists."]
            ),
            description="Market research expert",
            system_message="You are a market research expert. Assess markets and competitors.",
        )

    def create_technical_expert(self) -> AssistantAgent:
        return AssistantAgent(
            name="technical_expert",
            model_client=demo_model_client(
                ["Technical: feasible in 9 months with the current team plus two ML engineers."]
            ),
            description="Technical feasibility expert",
            system_message="You are a technical expert. Judge feasibility, cost and risk.",
        )

    def create_manager(self) -> AssistantAgent:
        return AssistantAgent(
            name="manager",
            model_client=demo_model_client(
                [
                    delegate(
                        ("data_analyst", "Analyse demand data for an AI product."),
                        ("market_researcher", "Assess the market and competitors."),
                        ("technical_expert", "Assess technical feasibility and cost."),
                    ),
                    "Recommendation: proceed with a focused AI product for mid-size firms; demand is growing, "
                    "the segment is under-served, and delivery in 9 months is feasible.",
                ]
            ),
            tools=[AgentTool(agent) for agent in self.operational_agents],
            description="Project manager coordinating the experts",
            system_message=(
                "You are the project manager. 1. Analyse the task. 2. Assign work to the right experts. "
                "3. Combine their findings. 4. Give a recommendation."
            ),
            # The recommendation is written from the experts' findings.
            reflect_on_tool_use=True,
        )

    def create_executive(self) -> AssistantAgent:
        return AssistantAgent(
            name="executive",
            model_client=demo_model_client(
                [
                    delegate(("manager", QUESTION)),
                    "Decision: APPROVED. Invest in the mid-market AI product with a 9-month roadmap. "
                    "Reason: growing demand, an open market gap and feasible delivery. TERMINATE",
                ]
            ),
            tools=[AgentTool(self.manager)],
            description="Senior decision maker",
            system_message=(
                "You are the senior decision maker. 1. Review management's advice. 2. Weigh strategy. "
                "3. Make the final decision. 4. Explain why."
            ),
            reflect_on_tool_use=True,
        )

    async def make_decision(self, task: str) -> TaskResult:
        """Run the hierarchical decision process."""
        return await self.executive.run(task=task)


async def main() -> TaskResult:
    """Make one decision and print it."""
    team = HierarchicalTeam()
    decision = await team.make_decision(QUESTION)
    print(decision.messages[-1].to_text())
    return decision


if __name__ == "__main__":
    asyncio.run(main())
