"""The timeline data model and its HTML: one bar per span, untrusted text kept as text."""

from __future__ import annotations

import json
import re

from muster.agents import AssistantAgent
from muster.models.replay import ReplayChatCompletionClient
from muster.ops import PerformanceDiagnostics, Timeline, TimelineMessage, TimelineSpan, render_timeline

HOSTILE = '</script><script>alert("x")</script><img src=x onerror=alert(1)>'


async def test_a_diagnosed_run_becomes_a_timeline_with_its_messages() -> None:
    agent = AssistantAgent("echo", model_client=ReplayChatCompletionClient([HOSTILE]))
    diagnostics = PerformanceDiagnostics()
    await diagnostics.diagnose_slow_response(agent, "say something")
    timeline = diagnostics.timeline("Echo")
    turn, call = timeline.spans
    assert (turn.kind, turn.agent, call.kind, call.parent_id) == ("agent_turn", "echo", "model_call", turn.id)
    assert [m.content for m in turn.messages] == [HOSTILE]
    assert 0 <= turn.start <= call.start <= call.end <= turn.end <= timeline.duration
    assert set(timeline.stages) == {
        "message_preprocessing",
        "model_inference",
        "tool_execution",
        "response_postprocessing",
    }
    # plain data: it survives JSON, as the service will store and serve it
    assert Timeline.model_validate_json(timeline.model_dump_json()) == timeline


def test_the_page_draws_one_bar_per_span_and_never_runs_message_text() -> None:
    spans = [
        TimelineSpan(
            id="1",
            kind="agent_turn",
            agent="alice",
            start=0.0,
            end=1.0,
            messages=[TimelineMessage(time=0.9, source="alice", type="TextMessage", content=HOSTILE)],
        ),
        TimelineSpan(id="2", parent_id="1", kind="model_call", agent="alice", start=0.1, end=0.5, attempts=3),
        TimelineSpan(
            id="3", parent_id="1", kind="tool_call", tool=HOSTILE, start=0.5, end=0.8, status="error"
        ),
        TimelineSpan(id="4", kind="model_call", start=1.0, end=1.2, cached=True, model="gpt-4o"),
    ]
    page = render_timeline(Timeline(title=HOSTILE, duration=1.2, spans=spans))
    assert len(re.findall(r'class="bar[ "]', page)) == 4
    assert len(re.findall(r'data-kind="model_call"', page)) == 2
    assert "<script>alert" not in page and "<img src=x" not in page
    data = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S)
    assert data is not None
    decoded = json.loads(data.group(1))
    assert decoded["spans"][0]["messages"][0]["content"] == HOSTILE  # intact, as text
    assert "3 attempts" in page and "cache hit" in page and "badge err" in page
    assert "http://" not in page and "https://" not in page  # nothing to fetch


def test_an_empty_timeline_still_renders() -> None:
    page = render_timeline(Timeline(title="nothing", duration=0.0))
    assert "Nothing was recorded." in page
