"""Seed section 2.1: a composite agent - a travel planner whose tools are other agents.

The planner asks the weather, hotel and flight agents (each wrapped in an AgentTool) in
parallel; each of them calls its own tool; the planner then writes the plan from their
answers. Every step is scripted offline so the run is the same each time.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from demo_model import demo_model_client  # noqa: E402
from weather_agent import WeatherAgent, tool_call  # noqa: E402

from muster.agents import AssistantAgent  # noqa: E402
from muster.base import TaskResult  # noqa: E402
from muster.core import FunctionCall  # noqa: E402
from muster.models import CreateResult, RequestUsage  # noqa: E402
from muster.tools import AgentTool  # noqa: E402
from muster.ui import Console  # noqa: E402


class HotelAgent(AssistantAgent):
    """Finds hotels."""

    def __init__(self, hotel_api_key: str) -> None:
        super().__init__(
            name="hotel_agent",
            model_client=demo_model_client([tool_call("search_hotels", {"city": "Shanghai", "nights": "3"})]),
            tools=[self.search_hotels],
            description="Searches hotels in a city",
            system_message="You find hotels. Use the search_hotels tool.",
        )
        self.hotel_api_key = hotel_api_key

    async def search_hotels(self, city: str, nights: str = "1") -> str:
        """Search hotels in a city for a number of nights."""
        return (
            f"{city}, {nights} nights: Bund View Hotel (4*, 780 CNY/night), Jing'an Loft (3*, 420 CNY/night)"
        )


class FlightAgent(AssistantAgent):
    """Finds flights."""

    def __init__(self, flight_api_key: str) -> None:
        super().__init__(
            name="flight_agent",
            model_client=demo_model_client([tool_call("search_flights", {"destination": "Shanghai"})]),
            tools=[self.search_flights],
            description="Searches flights to a destination",
            system_message="You find flights. Use the search_flights tool.",
        )
        self.flight_api_key = flight_api_key

    async def search_flights(self, destination: str, date: str | None = None) -> str:
        """Search flights to a destination, optionally on a date."""
        return f"To {destination} {date or 'next Monday'}: MU5100 08:00-10:15, 1,250 CNY"


PLAN = (
    "3-day Shanghai plan. Day 1: fly MU5100 (08:00), check in at Bund View Hotel, evening walk on the "
    "Bund. Day 2: Yu Garden and the old city, dinner in Xintiandi. Day 3: Shanghai Museum, fly back. "
    "Weather is sunny, 25°C: pack light. TERMINATE"
)

PLANNER_SCRIPT: list[str | CreateResult] = [
    CreateResult(
        finish_reason="function_calls",
        content=[
            FunctionCall(
                id="w", name="weather_agent", arguments='{"task": "Weather in Shanghai next week?"}'
            ),
            FunctionCall(id="h", name="hotel_agent", arguments='{"task": "Hotels in Shanghai for 3 nights"}'),
            FunctionCall(
                id="f", name="flight_agent", arguments='{"task": "Flights to Shanghai next Monday"}'
            ),
        ],
        usage=RequestUsage(prompt_tokens=180, completion_tokens=45),
        cached=False,
    ),
    PLAN,
]


class TravelPlannerAgent(AssistantAgent):
    """Plans trips by combining specialised agents."""

    def __init__(self) -> None:
        super().__init__(
            name="travel_planner",
            model_client=demo_model_client(PLANNER_SCRIPT),
            tools=[
                AgentTool(
                    WeatherAgent("weather-key", script=[tool_call("get_weather", {"city": "Shanghai"})])
                ),
                AgentTool(HotelAgent("hotel-key")),
                AgentTool(FlightAgent("flight-key")),
            ],
            description="A professional travel planning assistant",
            system_message=(
                "You are a professional travel planner. You can:\n"
                "1. look up the weather\n2. search hotels\n3. find flights\n4. write a detailed plan\n"
                "Use the tools as needed to build the best plan for the user."
            ),
            # The plan is written from the agents' answers, not just a list of them.
            reflect_on_tool_use=True,
        )


async def main() -> TaskResult:
    """Plan a trip and stream every step, including the inner agents' work, to the console."""
    planner = TravelPlannerAgent()
    return await Console(
        planner.run_stream(task="I want to visit Shanghai for 3 days next week. Please make a detailed plan.")
    )


if __name__ == "__main__":
    asyncio.run(main())
