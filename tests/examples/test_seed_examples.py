"""The seed's section 1-2 examples run offline end to end and do what the guide describes."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest

from muster.base import TaskResult
from muster.messages import (
    TextMessage,
    ToolCallExecutionEvent,
    ToolCallRequestEvent,
    ToolCallSummaryMessage,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> ModuleType:
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    return importlib.import_module(name)


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def calls_by(result: TaskResult, source: str) -> list[str]:
    return [
        call.name
        for m in result.messages
        if isinstance(m, ToolCallRequestEvent) and m.source == source
        for call in m.content
    ]


async def test_first_app_streams_the_answer(capsys: pytest.CaptureFixture[str]) -> None:
    result = await load("first_app").main()
    assert [type(m).__name__ for m in result.messages] == ["TextMessage", "TextMessage"]
    answer = result.messages[-1]
    assert isinstance(answer, TextMessage) and answer.source == "assistant" and "AutoGen" in answer.content
    out = capsys.readouterr().out
    assert "---------- TextMessage (assistant) ----------" in out and answer.content in out


async def test_weather_agent_calls_its_method_tool(capsys: pytest.CaptureFixture[str]) -> None:
    module = load("weather_agent")
    result = await module.main()
    assert calls_by(result, "weather_agent") == ["get_weather"]
    answer = result.messages[-1]
    assert isinstance(answer, ToolCallSummaryMessage) and answer.content == "Beijing today: sunny, 25°C"
    assert capsys.readouterr().out.strip() == "Beijing today: sunny, 25°C"
    agent = module.WeatherAgent("key")
    assert agent.weather_api_key == "key"
    schema = agent._tools[0].schema
    assert schema["parameters"]["required"] == ["city"] and "date" in schema["parameters"]["properties"]


async def test_travel_planner_delegates_to_agents_that_use_their_tools() -> None:
    result = await load("travel_planner").main()
    assert calls_by(result, "travel_planner") == ["weather_agent", "hotel_agent", "flight_agent"]
    # Each inner agent really called its own tool, and its events reached the planner's stream.
    assert calls_by(result, "weather_agent") == ["get_weather"]
    assert calls_by(result, "hotel_agent") == ["search_hotels"]
    assert calls_by(result, "flight_agent") == ["search_flights"]
    outer = next(
        m for m in result.messages if isinstance(m, ToolCallExecutionEvent) and m.source == "travel_planner"
    )
    assert [r.is_error for r in outer.content] == [False, False, False]
    assert "Bund View Hotel" in outer.content[1].content and "MU5100" in outer.content[2].content
    plan = result.messages[-1]
    assert (
        isinstance(plan, TextMessage)
        and plan.source == "travel_planner"
        and "3-day Shanghai plan" in plan.content
    )


async def test_hierarchical_decision_goes_down_and_back_up(capsys: pytest.CaptureFixture[str]) -> None:
    module = load("hierarchical_decision")
    result = await module.main()
    assert calls_by(result, "executive") == ["manager"]
    executed = next(
        m for m in result.messages if isinstance(m, ToolCallExecutionEvent) and m.source == "executive"
    )
    assert calls_by(result, "manager") == ["data_analyst", "market_researcher", "technical_expert"]
    manager_report = executed.content[0].content
    # The manager's transcript, returned to the executive, includes every expert's finding.
    for expert in ("data_analyst", "market_researcher", "technical_expert"):
        assert f"{expert}: " in manager_report
    assert "manager: Recommendation: proceed" in manager_report
    decision = result.messages[-1]
    assert isinstance(decision, TextMessage) and decision.source == "executive"
    assert decision.content.startswith("Decision: APPROVED")
    assert "Decision: APPROVED" in capsys.readouterr().out
    team = module.HierarchicalTeam()
    assert [t.name for t in team.manager._tools] == ["data_analyst", "market_researcher", "technical_expert"]
