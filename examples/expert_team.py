"""Seed section "expert team": researcher, writer and reviewer take turns on one report.

Run ``python examples/expert_team.py``. Offline each expert replays a script; with
OPENAI_API_KEY (or MUSTER_MODEL_BASE_URL) set, ``demo_model_client`` gives them a real
model. The same team as a declarative spec is ``examples/expert_team.yaml``
(``muster run examples/expert_team.yaml --task "..."``); regenerate it with
``python examples/expert_team.py --dump-yaml``.

The seed stops the team with ``MaxMessageTermination(15)`` while telling the reviewer to
say TERMINATE when done; here the mention stops the team (so the stop reason says the
review is finished) and 15 messages remain the safety limit.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from demo_model import demo_model_client  # noqa: E402

from muster.agents import AssistantAgent  # noqa: E402
from muster.base import TaskResult  # noqa: E402
from muster.conditions import MaxMessageTermination, TextMentionTermination  # noqa: E402
from muster.teams import RoundRobinGroupChat  # noqa: E402

TASK = (
    "Write a technical report on applications of artificial intelligence in healthcare; "
    "it must be accurate, well structured and professionally worded."
)

RESEARCHER_SCRIPT = [
    "Findings: AI is used in medical imaging (radiology, pathology), clinical decision support, "
    "drug discovery, and hospital operations. Key risks: data privacy, bias, and regulatory approval.",
    "Added evidence: FDA-cleared imaging algorithms now number in the hundreds; sepsis prediction "
    "models show mixed real-world results, which the report should say plainly.",
]
WRITER_SCRIPT = [
    "Draft report: 1. Introduction. 2. Imaging and diagnostics. 3. Decision support. "
    "4. Drug discovery. 5. Operations. 6. Risks and regulation. 7. Conclusion.",
    "Revised report: each section now cites the evidence above, the risks section discusses "
    "bias and validation, and the conclusion states what remains unproven.",
]
REVIEWER_SCRIPT = [
    "Review: the structure is clear, but sections 3 and 6 need evidence and a balanced view of "
    "real-world results. Please revise.",
    "Review: the revision is accurate, well structured and professional. Approved. TERMINATE",
]


def create_expert_team() -> RoundRobinGroupChat:
    """The seed's three experts in a round-robin team."""
    researcher = AssistantAgent(
        name="researcher",
        model_client=demo_model_client(RESEARCHER_SCRIPT),
        description="A professional researcher who gathers and analyses information.",
        system_message="You are a professional researcher, skilled at gathering and analysing information.",
    )
    writer = AssistantAgent(
        name="writer",
        model_client=demo_model_client(WRITER_SCRIPT),
        description="A professional writer who creates the content.",
        system_message="You are a professional writer, skilled at writing all kinds of documents.",
    )
    reviewer = AssistantAgent(
        name="reviewer",
        model_client=demo_model_client(REVIEWER_SCRIPT),
        description="A professional reviewer responsible for quality control.",
        system_message=(
            "You are a professional reviewer: check the content's quality and suggest improvements. "
            "Say 'TERMINATE' when the work is complete."
        ),
    )
    return RoundRobinGroupChat(
        name="expert_team",
        description="A team of experts that researches, writes and reviews a report.",
        participants=[researcher, writer, reviewer],
        termination_condition=TextMentionTermination("TERMINATE") | MaxMessageTermination(15),
    )


async def main() -> TaskResult:
    """Run the expert team on the seed's task and print the conversation."""
    team = create_expert_team()
    result = await team.run(task=TASK)
    for message in result.messages:
        print(f"---------- {message.source} ----------\n{message.to_text()}\n")
    print(f"Stop reason: {result.stop_reason}")
    return result


def dump_yaml() -> str:
    """The team as a declarative spec, in YAML (what ``examples/expert_team.yaml`` holds)."""
    import yaml

    spec = create_expert_team().dump_component().model_dump(mode="json", exclude_none=True)
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=100)


if __name__ == "__main__":
    if "--dump-yaml" in sys.argv:
        print(dump_yaml(), end="")
    else:
        asyncio.run(main())
