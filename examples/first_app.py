"""Seed section 1.2: the first app - one AssistantAgent, its answer streamed to the terminal.

Run ``python examples/first_app.py``. Offline it uses a scripted model; with
OPENAI_API_KEY set, ``demo_model_client`` returns a real OpenAI client instead.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from demo_model import demo_model_client  # noqa: E402

from muster.agents import AssistantAgent  # noqa: E402
from muster.base import TaskResult  # noqa: E402
from muster.ui import Console  # noqa: E402

TASK = "Please introduce the main features of the AutoGen framework."

SCRIPT = [
    "AutoGen's main features: (1) agents that converse to solve tasks; (2) tools, so agents can "
    "call functions and other agents; (3) teams such as round-robin, selector and swarm group "
    "chats; (4) an event-driven core runtime; (5) pluggable model clients. TERMINATE"
]
"""What the offline model answers."""


async def main() -> TaskResult:
    """Create the model client and the assistant, then stream one task to the console."""
    # 1. The model client (scripted offline, OpenAI when a key is configured).
    model_client = demo_model_client(SCRIPT)
    # 2. The assistant agent.
    assistant = AssistantAgent(
        name="assistant",
        model_client=model_client,
        description="A helpful AI assistant",
    )
    # 3. Run the conversation, printing each message as it arrives.
    return await Console(assistant.run_stream(task=TASK))


if __name__ == "__main__":
    asyncio.run(main())
