"""GET /v1/runs/{id}/timeline: the timings the runner stored with each turn, drawn as one page.

Real runs on the loopback model server (and a replay model calling a tool), on SQLite and on
PostgreSQL: the timeline must hold every turn, model call and tool call the run made, with
the figures the model returned, and the page must draw each as a bar.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from api_kit import Api, make_settings, running_api
from model_server import ModelServer
from team_specs import charging_agent, duo

PROBLEM = "application/problem+json"


async def wait_run(api: Api, spec: str, task: str = "hi") -> dict[str, Any]:
    thread = await api.thread()
    done = await api.client.post(f"/v1/threads/{thread}/runs/wait", json={"spec": spec, "task": task})
    assert done.status_code == 200, done.text
    return dict(done.json()["run"])


async def timeline_json(api: Api, run_id: str) -> dict[str, Any]:
    response = await api.client.get(f"/v1/runs/{run_id}/timeline", params={"format": "json"})
    assert response.status_code == 200, response.text
    return dict(response.json())


def of_kind(data: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [span for span in data["spans"] if span["kind"] == kind]


async def test_the_timeline_holds_every_turn_and_model_call_of_the_run(
    api: Api, model_server: ModelServer
) -> None:
    await api.put_spec("duo", duo(model_server.url, max_turns=3))
    run = await wait_run(api, "duo")
    assert run["status"] == "succeeded"
    data = await timeline_json(api, run["id"])

    turns = of_kind(data, "agent_turn")
    calls = of_kind(data, "model_call")
    assert [t["agent"] for t in turns] == ["alice", "bob", "alice"]
    assert len(calls) == 3 and len(data["spans"]) == 6
    by_id = {span["id"]: span for span in data["spans"]}
    for call, turn in zip(calls, turns, strict=True):
        assert call["parent_id"] == turn["id"]  # each call drawn under its turn
        assert call["agent"] == turn["agent"] and call["model"] == "gpt-4o"
        assert call["prompt_tokens"] > 0 and call["completion_tokens"] > 0
        assert call["cached"] is False and call["attempts"] == 1
        assert turn["start"] <= call["start"] <= call["end"] <= turn["end"]
        assert [m["source"] for m in turn["messages"]] == [turn["agent"]]
    assert all(span["parent_id"] is None or span["parent_id"] in by_id for span in data["spans"])
    # times are from the run's start, in order, within its duration
    starts = [span["start"] for span in data["spans"]]
    assert starts == sorted(starts) and starts[0] >= 0
    assert max(span["end"] for span in data["spans"]) <= data["duration"] + 1e-6
    assert data["run_id"] == run["id"] and "duo v1" in data["title"] and "succeeded" in data["title"]
    # the answers the model server gave are the ones on the bars
    assert [c["response"] for c in calls] == [m["content"] for t in turns for m in t["messages"]]

    page = await api.client.get(f"/v1/runs/{run['id']}/timeline")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert len(re.findall(r'class="bar[^"]*"[^>]*data-kind="agent_turn"', html)) == 3
    assert len(re.findall(r'class="bar[^"]*"[^>]*data-kind="model_call"', html)) == 3
    assert "Content-Security-Policy" in html and "http://" not in html.split("</head>")[0]


async def test_the_event_stream_carries_each_turns_timing_after_its_messages(
    api: Api, model_server: ModelServer
) -> None:
    await api.put_spec("duo", duo(model_server.url, max_turns=2))
    run = await wait_run(api, "duo")
    events = await api.events(run["id"])
    kinds = [e.event for e in events]
    # the task's boundary, alice's turn, bob's turn, then the end; ids stay contiguous
    assert kinds == ["message", "timing"] * 3 + ["status", "end"]
    assert [int(e.id) for e in events if e.id] == list(range(1, len(events) + 1))
    timings = [e.data for e in events if e.event == "timing"]
    assert [t["turn"] for t in timings] == [0, 1, 2]
    assert [[s["agent"] for s in t["spans"] if s["kind"] == "agent_turn"] for t in timings] == [
        [],
        ["alice"],
        ["bob"],
    ]
    assert len(of_kind(await timeline_json(api, run["id"]), "agent_turn")) == 2


async def test_a_tool_call_is_timed_under_its_turn(api: Api) -> None:
    await api.put_spec("clerk", charging_agent())
    run = await wait_run(api, "clerk", "charge 5")
    data = await timeline_json(api, run["id"])
    (tool,) = of_kind(data, "tool_call")
    (turn,) = of_kind(data, "agent_turn")
    assert tool["tool"] == "charge" and tool["call_id"] == "call_7" and tool["status"] == "ok"
    assert tool["parent_id"] == turn["id"] and turn["start"] <= tool["start"] <= tool["end"] <= turn["end"]
    assert '"amount"' in tool["arguments"]
    assert len(of_kind(data, "model_call")) == 2  # the call asking for the tool, then the answer


async def test_answers_from_the_shared_cache_are_marked_cached(
    database: Any, model_server: ModelServer
) -> None:
    settings = make_settings(database, cache={"type": "memory"})
    async with running_api(settings, database) as api:
        await api.put_spec("duo", duo(model_server.url, max_turns=2))
        first = await timeline_json(api, (await wait_run(api, "duo"))["id"])
        second = await timeline_json(api, (await wait_run(api, "duo"))["id"])
    assert [c["cached"] for c in of_kind(first, "model_call")] == [False, False]
    assert [c["cached"] for c in of_kind(second, "model_call")] == [True, True]
    assert model_server.asked("alice") == 1 and model_server.asked("bob") == 1


async def test_a_failed_run_names_its_error_and_keeps_its_finished_turns(
    api: Api, model_server: ModelServer
) -> None:
    from muster.agents import AssistantAgent
    from muster.models.openai import OpenAIChatCompletionClient
    from muster.teams import RoundRobinGroupChat

    broken = OpenAIChatCompletionClient(
        model="gpt-4o", api_key="k", base_url="http://127.0.0.1:9/v1", max_retries=0
    )  # nothing listens on port 9
    good = OpenAIChatCompletionClient(model="gpt-4o", api_key="k", base_url=model_server.url, max_retries=0)
    team = RoundRobinGroupChat(
        [AssistantAgent("alice", model_client=good), AssistantAgent("bob", model_client=broken)], max_turns=2
    )
    await api.put_spec("half", team.dump_component().model_dump())
    run = await wait_run(api, "half")
    assert run["status"] == "failed"
    data = await timeline_json(api, run["id"])
    assert [t["agent"] for t in of_kind(data, "agent_turn")] == ["alice"]
    assert run["error"]["type"] in data["title"]


async def test_unknown_runs_get_404_and_the_route_needs_a_key(api: Api) -> None:
    missing = await api.client.get("/v1/runs/0123456789abcdef0123456789abcdef/timeline")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    assert missing.json()["status"] == 404
    async with httpx.AsyncClient(base_url=api.url) as anonymous:
        refused = await anonymous.get("/v1/runs/0123456789abcdef0123456789abcdef/timeline")
    assert refused.status_code == 401 and refused.headers["content-type"] == PROBLEM
