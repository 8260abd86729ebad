"""``make demo``: the seed's first app and its weather agent, printed by the console.

Offline (the default) a replay model answers from a script, and the banner says so; set
OPENAI_API_KEY, or MUSTER_MODEL_BASE_URL for a local OpenAI-compatible server, to run the
very same code against a real model.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import first_app  # noqa: E402
import weather_agent  # noqa: E402
from demo_model import demo_model_client, describe_model  # noqa: E402

from muster.base import TaskResult  # noqa: E402
from muster.ui import Console  # noqa: E402


def _banner(title: str) -> None:
    print(f"\n=== {title} " + "=" * max(0, 66 - len(title)), flush=True)


async def main() -> list[TaskResult]:
    """Run both seed examples, streaming every message to the terminal."""
    print("muster demo: " + describe_model(demo_model_client(["probe"])), flush=True)

    _banner("1. First app: one AssistantAgent, streamed by Console")
    first = await first_app.main()

    _banner("2. Weather agent: an AssistantAgent subclass with a get_weather tool")
    agent = weather_agent.WeatherAgent("your-weather-api-key")
    second = await Console(
        agent.run_stream(task="What is the weather like in Beijing today?"), output_stats=True
    )

    _banner("done")
    for label, result in (("first app", first), ("weather agent", second)):
        print(f"{label}: {len(result.messages)} messages, last from {result.messages[-1].source!r}")
    return [first, second]


if __name__ == "__main__":
    asyncio.run(main())
