"""A small research team that talks to the loopback provider server: latency, a retry, a tool.

Shared by the diagnostics tests, the browser tests of the timeline, and the script that
makes the screenshot in docs/troubleshooting.md (``python tests/ops/_research_team.py OUT.png``),
so the picture in the docs is the page the tests check.

The researcher's first request is refused once (429, retry after 30 ms), then asks for the
``search_papers`` tool; the tool awaits a real delay (the delay is what is measured); the
researcher answers from the tool's result; the writer streams its draft; the reviewer, on a
replay model, approves. Server latencies are set per reply.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "models"))

from fake_llm_server import (  # noqa: E402
    ErrorReply,
    FakeLLMServer,
    openai_completion,
    openai_stream,
    openai_tool_call,
)

from muster.agents import AssistantAgent  # noqa: E402
from muster.conditions import MaxMessageTermination, TextMentionTermination  # noqa: E402
from muster.models.openai import OpenAIChatCompletionClient  # noqa: E402
from muster.models.replay import ReplayChatCompletionClient  # noqa: E402
from muster.models.retry import RetryPolicy  # noqa: E402
from muster.teams import RoundRobinGroupChat  # noqa: E402

TOOL_DELAY = 0.05
"""Seconds the search tool awaits (a real wait: it is the tool time being measured)."""
MODEL_INFO = {
    "vision": False,
    "function_calling": True,
    "json_output": False,
    "family": "unknown",
    "structured_output": False,
}


async def search_papers(query: str) -> str:
    """Search the paper index for a query."""
    await asyncio.sleep(TOOL_DELAY)
    return f"3 papers on {query}: imaging (2023), sepsis models (2024), triage (2025)"


def queue_replies(server: FakeLLMServer, *, model_delay: float = 0.1) -> None:
    """Script the server for one run of the team."""
    server.queue(
        ErrorReply(status=429, headers={"retry-after-ms": "30"}),
        openai_completion(
            tool_calls=[openai_tool_call("call_1", "search_papers", {"query": "AI in hospitals"})],
            prompt_tokens=120,
            completion_tokens=18,
            delay=model_delay,
        ),
        openai_completion(
            "Findings: imaging is mature, sepsis prediction is mixed, triage is early.",
            prompt_tokens=210,
            completion_tokens=24,
            delay=model_delay * 0.8,
        ),
        openai_stream(
            ["Draft: ", "AI helps ", "radiology most; ", "sepsis tools ", "need validation."],
            prompt_tokens=260,
            completion_tokens=15,
            delay=model_delay * 0.5,
            interval=model_delay * 0.1,
        ),
    )


def build_team(server: FakeLLMServer) -> tuple[RoundRobinGroupChat, list[OpenAIChatCompletionClient]]:
    """The team, and the provider clients the caller must close."""
    retry = RetryPolicy(max_retries=2, initial_delay=0.01, max_delay=0.05)
    clients = [
        OpenAIChatCompletionClient(
            model="gpt-4o", api_key="k", base_url=server.openai_url, retry_policy=retry, model_info=MODEL_INFO
        )
        for _ in range(2)
    ]
    researcher = AssistantAgent(
        "researcher", model_client=clients[0], tools=[search_papers], reflect_on_tool_use=True
    )
    writer = AssistantAgent("writer", model_client=clients[1], model_client_stream=True)
    reviewer = AssistantAgent(
        "reviewer", model_client=ReplayChatCompletionClient(["Accurate and clear. Approved. TERMINATE"])
    )
    team = RoundRobinGroupChat(
        [researcher, writer, reviewer],
        termination_condition=TextMentionTermination("TERMINATE") | MaxMessageTermination(12),
    )
    return team, clients


async def _screenshot(out: Path) -> None:  # pragma: no cover - a docs helper, run by hand
    from playwright.async_api import async_playwright

    from muster.ops import PerformanceDiagnostics, render_timeline

    server = FakeLLMServer().start()
    try:
        queue_replies(server)
        team, clients = build_team(server)
        diagnostics = PerformanceDiagnostics()
        await diagnostics.diagnose_slow_response(team, "Summarise the evidence on AI in hospitals")
        for client in clients:
            await client.close()
        page_file = out.with_suffix(".html")
        page_file.write_text(render_timeline(diagnostics.timeline("Research team")), encoding="utf-8")
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = await browser.new_page(viewport={"width": 1280, "height": 720}, device_scale_factor=1)
            await page.goto(page_file.as_uri())
            bar = page.locator('.bar[data-kind="tool_call"]').first
            await bar.hover()
            await page.screenshot(path=str(out), full_page=True)
            await browser.close()
        page_file.unlink()
    finally:
        server.stop()


if __name__ == "__main__":  # pragma: no cover
    asyncio.run(_screenshot(Path(sys.argv[1]).resolve()))
