"""Usage and cost per call, per agent and per run, against the loopback provider server."""

from __future__ import annotations

import asyncio

import pytest
from fake_llm_server import FakeLLMServer, openai_completion

from muster.agents import AssistantAgent
from muster.conditions import MaxMessageTermination
from muster.models.openai import OpenAIChatCompletionClient
from muster.models.pricing import get_model_price
from muster.models.usage import UsageTracker, current_usage_scope, usage_scope
from muster.teams import RoundRobinGroupChat


def _client(fake_llm: FakeLLMServer, tracker: UsageTracker) -> OpenAIChatCompletionClient:
    return OpenAIChatCompletionClient(
        model="gpt-4o", api_key="k", base_url=fake_llm.openai_url, usage_tracker=tracker
    )


async def test_calls_are_totalled_per_agent_and_per_run(fake_llm: FakeLLMServer) -> None:
    tracker = UsageTracker()
    client = _client(fake_llm, tracker)
    fake_llm.queue(
        openai_completion("one", prompt_tokens=100, completion_tokens=10),
        openai_completion("two", prompt_tokens=200, completion_tokens=20),
        openai_completion("three", prompt_tokens=300, completion_tokens=30),
    )
    alice = AssistantAgent("alice", model_client=client)
    bob = AssistantAgent("bob", model_client=client)
    team = RoundRobinGroupChat([alice, bob], termination_condition=MaxMessageTermination(3))
    with usage_scope(run_id="run-1"):
        result = await team.run(task="go")
    assert [m.source for m in result.messages] == ["user", "alice", "bob"]

    # A call outside any run scope is attributed to its agent only.
    await alice.run(task="again")

    assert tracker.for_agent("alice").prompt_tokens == 100 + 300
    assert tracker.for_agent("bob").prompt_tokens == 200
    run = tracker.for_run("run-1")
    assert (run.calls, run.prompt_tokens, run.completion_tokens) == (2, 300, 30)
    price = get_model_price("gpt-4o-2024-08-06")
    assert price is not None
    assert run.cost_usd == pytest.approx(300 * price.input_per_mtok / 1e6 + 30 * price.output_per_mtok / 1e6)
    assert tracker.last is not None and tracker.last.agent == "alice" and tracker.last.run_id is None
    assert tracker.for_run("unknown").calls == 0
    await client.close()


async def test_scopes_nest_and_restore() -> None:
    assert current_usage_scope().agent is None
    with usage_scope(run_id="r"):
        with usage_scope(agent="a"):
            assert (current_usage_scope().agent, current_usage_scope().run_id) == ("a", "r")
        assert current_usage_scope().agent is None and current_usage_scope().run_id == "r"

        async def in_task() -> str | None:
            return current_usage_scope().run_id

        assert await asyncio.create_task(in_task()) == "r"
    assert current_usage_scope().run_id is None


def test_per_run_totals_stay_bounded() -> None:
    from muster.models.usage import ModelCallRecord

    tracker = UsageTracker()
    for i in range(UsageTracker.MAX_RUNS + 5):
        tracker.record(
            ModelCallRecord(
                provider="openai", model="gpt-4o", prompt_tokens=1, completion_tokens=1,
                cached_prompt_tokens=0, cache_creation_tokens=0, cost_usd=None, latency_s=0.0,
                attempts=1, streamed=False, run_id=f"r{i}",
            )
        )  # fmt: skip
    assert len(tracker.by_run) == UsageTracker.MAX_RUNS
    assert "r0" not in tracker.by_run and f"r{UsageTracker.MAX_RUNS + 4}" in tracker.by_run
