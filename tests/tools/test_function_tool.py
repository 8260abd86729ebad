"""Calling functions through FunctionTool: sync, async, methods, cancellation, bad input."""

from __future__ import annotations

import asyncio
import functools
import threading
from typing import Annotated

import pytest
from pydantic import BaseModel

from muster.core import CancellationToken
from muster.tools import FunctionTool, Tool
from muster.tools.exceptions import ToolArgumentsError


class Forecast(BaseModel):
    city: str
    temperature: float


class WeatherAgent:
    """Mirrors the seed: a bound async method with an implicit-Optional parameter."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    async def get_weather(self, city: str, date: str = None) -> str:  # type: ignore[assignment]
        """Get the weather for a city.

        Args:
            city: The city.
            date: The day, today when omitted.
        """
        self.calls.append((city, date))
        return f"Sunny in {city} on {date or 'today'}"


async def test_bound_async_method_as_in_the_seed() -> None:
    agent = WeatherAgent()
    tool = FunctionTool(agent.get_weather, description=agent.get_weather.__doc__ or "")
    assert tool.name == "get_weather"
    assert "self" not in tool.schema["parameters"]["properties"]
    assert tool.description.startswith("Get the weather")
    token = CancellationToken()
    assert await tool.run_json({"city": "Paris"}, token) == "Sunny in Paris on today"
    assert await tool.run_json({"city": "Oslo", "date": None}, token) == "Sunny in Oslo on today"
    assert await tool.run_json({"city": "Rome", "date": "Monday"}, token) == "Sunny in Rome on Monday"
    assert agent.calls == [("Paris", None), ("Oslo", None), ("Rome", "Monday")]


async def test_sync_function_runs_in_a_worker_thread() -> None:
    loop_thread = threading.get_ident()

    def where(x: int) -> int:
        return threading.get_ident()

    thread_id = await FunctionTool(where, description="d").run_json({"x": 1}, CancellationToken())
    assert thread_id != loop_thread


async def test_bound_sync_method_and_custom_name() -> None:
    class Counter:
        def __init__(self) -> None:
            self.total = 0

        def add(self, amount: int = 1) -> int:
            self.total += amount
            return self.total

    counter = Counter()
    tool = FunctionTool(counter.add, description="add", name="increment")
    assert tool.name == "increment"
    assert await tool.run_json({}, CancellationToken()) == 1
    assert await tool.run_json({"amount": 5}, CancellationToken()) == 6


async def test_partial_and_callable_object() -> None:
    def power(base: int, exponent: int) -> int:
        return base**exponent

    class Doubler:
        async def __call__(self, x: Annotated[int, "value"]) -> int:
            return 2 * x

    square = FunctionTool(functools.partial(power, exponent=2), description="square")
    assert square.name == "power"
    assert await square.run_json({"base": 7}, CancellationToken()) == 49
    doubler = FunctionTool(Doubler(), description="double")
    assert doubler.name == "Doubler"
    assert doubler.schema["parameters"]["properties"]["x"]["description"] == "value"
    assert await doubler.run_json({"x": 4}, CancellationToken()) == 8


async def test_positional_only_and_keyword_only_parameters() -> None:
    def f(a: int, /, b: int, *, c: int = 3) -> tuple[int, int, int]:
        return (a, b, c)

    assert await FunctionTool(f, description="d").run_json({"a": 1, "b": 2}, CancellationToken()) == (1, 2, 3)


async def test_pydantic_arguments_arrive_as_models_and_results_render_as_json() -> None:
    def forecast(place: Forecast, delta: float = 0.0) -> Forecast:
        return Forecast(city=place.city, temperature=place.temperature + delta)

    tool = FunctionTool(forecast, description="d")
    result = await tool.run_json(
        {"place": {"city": "Lima", "temperature": 20}, "delta": 1.5}, CancellationToken()
    )
    assert result == Forecast(city="Lima", temperature=21.5)
    assert tool.return_value_as_string(result) == '{"city": "Lima", "temperature": 21.5}'
    assert tool.return_value_as_string([1, "a"]) == "[1, 'a']"
    assert tool.return_value_as_string(None) == "None"


async def test_cancellation_token_is_passed_by_name_or_by_annotation() -> None:
    seen: list[CancellationToken] = []

    async def by_name(x: int, cancellation_token: CancellationToken) -> int:
        seen.append(cancellation_token)
        return x

    def by_type(x: int, tok: CancellationToken) -> int:
        seen.append(tok)
        return x

    token = CancellationToken()
    assert await FunctionTool(by_name, description="d").run_json({"x": 1}, token) == 1
    assert await FunctionTool(by_type, description="d").run_json({"x": 2}, token) == 2
    assert seen == [token, token]


async def test_cancelling_the_token_cancels_an_async_run() -> None:
    started = asyncio.Event()
    cleaned_up = asyncio.Event()

    async def slow(x: int) -> int:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            cleaned_up.set()
        return x

    token = CancellationToken()
    call = asyncio.create_task(FunctionTool(slow, description="d").run_json({"x": 1}, token))
    await started.wait()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert cleaned_up.is_set()


async def test_cancelling_the_token_stops_waiting_for_a_sync_run() -> None:
    entered = threading.Event()
    release = threading.Event()
    finished = threading.Event()
    saw_cancel: list[bool] = []

    def blocking(x: int, cancellation_token: CancellationToken) -> int:
        entered.set()
        release.wait(timeout=10)
        saw_cancel.append(cancellation_token.is_cancelled())
        finished.set()
        return x

    token = CancellationToken()
    call = asyncio.create_task(FunctionTool(blocking, description="d").run_json({"x": 1}, token))
    await asyncio.to_thread(entered.wait, 10)
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    release.set()
    # The thread cannot be killed; it finishes and can observe that the token was cancelled.
    assert await asyncio.to_thread(finished.wait, 10)
    assert saw_cancel == [True]


async def test_sync_wrapper_returning_a_coroutine_is_awaited() -> None:
    async def inner(x: int) -> int:
        return x + 1

    def wrapper(x: int) -> int:
        return inner(x)  # type: ignore[return-value]

    assert await FunctionTool(wrapper, description="d").run_json({"x": 1}, CancellationToken()) == 2


@pytest.mark.parametrize(
    ("arguments", "field", "problem"),
    [
        ({}, "city", "Field required"),
        ({"city": 3}, "city", "valid string"),
        ({"city": "Paris", "days": "many"}, "days", "valid integer"),
    ],
)
async def test_invalid_arguments_raise_a_typed_error_naming_the_field(
    arguments: dict[str, object], field: str, problem: str
) -> None:
    def weather(city: str, days: int = 1) -> str:
        return city

    with pytest.raises(ToolArgumentsError) as info:
        await FunctionTool(weather, description="d").run_json(arguments, CancellationToken())
    error = info.value
    assert error.tool_name == "weather"
    assert [f for f, _ in error.errors] == [field]
    assert problem in error.errors[0][1]
    assert str(error).startswith(f"Invalid arguments for tool 'weather': {field}: ")
    assert error.validation_error is not None
    assert isinstance(error, ValueError)


async def test_exceptions_from_the_function_propagate_unchanged_to_direct_callers() -> None:
    def broken(x: int) -> int:
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        await FunctionTool(broken, description="d").run_json({"x": 1}, CancellationToken())


def test_function_tool_satisfies_the_tool_protocol() -> None:
    def f(x: int) -> int:
        return x

    assert isinstance(FunctionTool(f, description="d"), Tool)


async def test_save_and_load_state_are_noops_for_functions() -> None:
    def f(x: int) -> int:
        return x

    tool = FunctionTool(f, description="d")
    assert await tool.save_state_json() == {}
    await tool.load_state_json({"anything": 1})
