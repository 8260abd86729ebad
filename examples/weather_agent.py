"""Seed section 2.1: a single-responsibility agent - WeatherAgent, whose tool is its own method.

The method's signature and docstring become the tool schema the model sees. Offline, the
scripted model asks for ``get_weather`` and the agent answers with the tool's result.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from demo_model import demo_model_client  # noqa: E402

from muster.agents import AssistantAgent  # noqa: E402
from muster.base import TaskResult  # noqa: E402
from muster.core import FunctionCall  # noqa: E402
from muster.models import ChatCompletionClient, CreateResult, RequestUsage  # noqa: E402


def tool_call(name: str, arguments: dict[str, str], call_id: str = "call_1") -> CreateResult:
    """A scripted model reply that calls one tool (what a real model returns for a function call)."""
    return CreateResult(
        finish_reason="function_calls",
        content=[FunctionCall(id=call_id, name=name, arguments=json.dumps(arguments))],
        usage=RequestUsage(prompt_tokens=60, completion_tokens=12),
        cached=False,
    )


class WeatherAgent(AssistantAgent):
    """An agent that only answers weather questions."""

    def __init__(
        self,
        weather_api_key: str,
        model_client: ChatCompletionClient | None = None,
        script: Sequence[str | CreateResult] | None = None,
    ) -> None:
        super().__init__(
            name="weather_agent",
            model_client=model_client
            or demo_model_client(list(script or [tool_call("get_weather", {"city": "Beijing"})])),
            tools=[self.get_weather],
            description="A professional weather assistant",
            system_message="You are a professional weather assistant. Answer weather-related questions.",
        )
        self.weather_api_key = weather_api_key

    async def get_weather(self, city: str, date: str | None = None) -> str:
        """Get the weather for a city.

        Args:
            city: Name of the city.
            date: The day (optional, today by default).

        Returns:
            The weather as a sentence.
        """
        # A real agent would call a weather API with self.weather_api_key here.
        when = date or "today"
        return f"{city} {when}: sunny, 25°C"


async def main() -> TaskResult:
    """Ask the weather agent one question and print its answer."""
    weather_agent = WeatherAgent("your-weather-api-key")
    result = await weather_agent.run(task="What is the weather like in Beijing today?")
    print(result.messages[-1].to_text())
    return result


if __name__ == "__main__":
    asyncio.run(main())
