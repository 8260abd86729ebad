"""The timeline of a real stored run, served by the service, in headless Chromium.

The research team of ``_research_team.py`` is posted to the service as a spec and run there
(SQLite, runs executing in the serving process) against the loopback provider server: the
researcher's first request is refused once (429) and retried, it calls a tool that takes
50 ms, the writer streams, the reviewer answers from a replay model. The browser opens
``GET /v1/runs/{id}/timeline`` with the API key and must draw one bar per stored turn and
call, with their figures on hover, and load nothing else: every other request is refused.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from _research_team import MODEL_INFO, queue_replies
from fake_llm_server import FakeLLMServer

sys.path.insert(0, str(Path(__file__).parents[1] / "service"))
sys.path.insert(0, str(Path(__file__).parents[1] / "service" / "api"))

from api_kit import API_KEY, Api, make_settings, running_api  # noqa: E402


@dataclass(frozen=True)
class Sqlite:
    url: str
    backend: str = "sqlite"
    schema: str | None = None


async def search_papers(query: str) -> str:
    """Search the paper index for a query."""
    await asyncio.sleep(0.05)
    return f"3 papers on {query}: imaging (2023), sepsis models (2024), triage (2025)"


def research_spec(server: FakeLLMServer) -> dict[str, Any]:
    """The research team as a spec the service stores (the tool carries its source)."""
    from muster.agents import AssistantAgent
    from muster.conditions import MaxMessageTermination, TextMentionTermination
    from muster.models.openai import OpenAIChatCompletionClient
    from muster.models.replay import ReplayChatCompletionClient
    from muster.models.retry import RetryPolicy
    from muster.teams import RoundRobinGroupChat
    from muster.tools import FunctionTool

    retry = RetryPolicy(max_retries=2, initial_delay=0.01, max_delay=0.05)

    def client() -> OpenAIChatCompletionClient:
        return OpenAIChatCompletionClient(
            model="gpt-4o", api_key="k", base_url=server.openai_url, retry_policy=retry, model_info=MODEL_INFO
        )

    tool = FunctionTool(search_papers, "Search the paper index for a query.", global_imports=["asyncio"])
    team = RoundRobinGroupChat(
        [
            AssistantAgent("researcher", model_client=client(), tools=[tool], reflect_on_tool_use=True),
            AssistantAgent("writer", model_client=client(), model_client_stream=True),
            AssistantAgent(
                "reviewer",
                model_client=ReplayChatCompletionClient(["Accurate and clear. Approved. TERMINATE"]),
            ),
        ],
        termination_condition=TextMentionTermination("TERMINATE") | MaxMessageTermination(12),
    )
    return team.dump_component().model_dump()


@pytest.fixture
async def stored_run(
    fake_llm: FakeLLMServer, tmp_path: Path
) -> AsyncIterator[tuple[Api, str, dict[str, Any]]]:
    """The served API, the id of a finished research run, and its timeline as JSON."""
    database = Sqlite(f"sqlite:///{tmp_path / 'muster.db'}")
    async with running_api(make_settings(database), database) as api:
        await api.put_spec("research", research_spec(fake_llm))
        queue_replies(fake_llm)
        thread = await api.thread()
        done = await api.client.post(
            f"/v1/threads/{thread}/runs/wait",
            json={"spec": "research", "task": "Summarise the evidence on AI in hospitals"},
        )
        assert done.status_code == 200 and done.json()["run"]["status"] == "succeeded", done.text
        run_id = done.json()["run"]["id"]
        data = (await api.client.get(f"/v1/runs/{run_id}/timeline", params={"format": "json"})).json()
        yield api, run_id, data


async def test_every_turn_and_call_of_a_stored_run_is_drawn(
    browser: Any, stored_run: tuple[Api, str, dict[str, Any]], tmp_path: Path
) -> None:
    api, run_id, data = stored_run
    spans = data["spans"]
    kinds = [span["kind"] for span in spans]
    # what the run did: 3 turns, 4 model calls (the first retried once), 1 tool call
    assert (kinds.count("agent_turn"), kinds.count("model_call"), kinds.count("tool_call")) == (3, 4, 1)
    calls = [span for span in spans if span["kind"] == "model_call"]
    assert calls[0]["attempts"] == 2 and calls[0]["agent"] == "researcher"
    assert [c["agent"] for c in calls] == ["researcher", "researcher", "writer", "reviewer"]
    assert calls[2]["streamed"] is True and calls[2]["prompt_tokens"] == 260
    (tool,) = [span for span in spans if span["kind"] == "tool_call"]
    assert tool["tool"] == "search_papers" and tool["end"] - tool["start"] >= 0.05

    context = await browser.new_context(
        viewport={"width": 1280, "height": 720}, extra_http_headers={"Authorization": f"Bearer {API_KEY}"}
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    response = await page.goto(f"{api.url}/v1/runs/{run_id}/timeline")
    assert response is not None and response.status == 200

    assert await page.locator(".bar").count() == len(spans) == 8
    for kind in ("agent_turn", "model_call", "tool_call"):
        assert await page.locator(f'.bar[data-kind="{kind}"]').count() == kinds.count(kind)
    boxes = [await bar.bounding_box() for bar in await page.locator(".bar").all()]
    assert all(box is not None and box["width"] >= 2 and box["height"] > 0 for box in boxes)
    # the turns' rows carry the agents' names, in order
    labels = await page.locator(".row.turn .lbl").all_inner_texts()
    assert [label.split()[0] for label in labels] == ["researcher", "writer", "reviewer"]

    tip = page.locator("#tip")
    await page.locator('.bar[data-kind="tool_call"]').hover()
    assert await tip.is_visible() and "Tool call · search_papers" in await tip.inner_text()
    await page.locator('.bar[data-kind="model_call"]').first.hover()
    card = await tip.inner_text()
    assert "attempts\n2" in card
    await page.locator(".msg").last.hover()
    assert "Approved" in await tip.inner_text()

    shot = tmp_path / "service-timeline.png"
    await page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    assert errors == []
    await context.close()


async def test_the_served_timeline_needs_no_network(
    browser: Any, stored_run: tuple[Api, str, dict[str, Any]]
) -> None:
    api, run_id, data = stored_run
    page_url = f"{api.url}/v1/runs/{run_id}/timeline"
    context = await browser.new_context(extra_http_headers={"Authorization": f"Bearer {API_KEY}"})
    refused: list[str] = []

    async def only_the_page(route: Any) -> None:
        if route.request.url == page_url:
            await route.continue_()
        else:
            refused.append(route.request.url)
            await route.abort()

    await context.route("**/*", only_the_page)
    page = await context.new_page()
    page.on("pageerror", lambda exc: refused.append(f"error: {exc}"))
    page.on("console", lambda message: refused.append(message.text) if message.type == "error" else None)
    await page.goto(page_url, wait_until="load")
    assert await page.locator(".bar").count() == len(data["spans"])
    # force: a turn shorter than its message's 8 px marker is covered by it, and the hover
    # then lands on the marker; either way the inline script must show the card.
    await page.locator('.bar[data-kind="agent_turn"]').first.hover(force=True)
    assert await page.locator("#tip").is_visible()  # the inline script ran
    assert refused == []
    await context.close()
