"""JSON log lines written inside a span carry its ``trace_id`` and ``span_id``; others carry none."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402

from muster.agents import AssistantAgent  # noqa: E402
from muster.core import FunctionCall  # noqa: E402
from muster.models import CreateResult, RequestUsage  # noqa: E402
from muster.models.replay import ReplayChatCompletionClient  # noqa: E402
from muster.ops import Tracing  # noqa: E402
from muster.service.logs import configure_logging, log_context, log_request  # noqa: E402
from muster.service.settings import LoggingSettings  # noqa: E402
from muster.tools import FunctionTool  # noqa: E402

logger = logging.getLogger("muster.tests.tracing")


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = configure_logging(LoggingSettings(level="INFO", format="json"), stream=stream)
    yield stream
    logging.getLogger().removeHandler(handler)


def parsed(stream: io.StringIO) -> dict[str, dict[str, Any]]:
    """Each test line by its message."""
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    return {r["message"]: r for r in records if r["logger"] == logger.name}


def lookup(order: str) -> str:
    """Look an order up."""
    logger.info("inside the tool")
    return f"order {order}: shipped"


async def test_lines_inside_spans_carry_their_ids_and_lines_outside_none(lines: io.StringIO) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    call = CreateResult(
        finish_reason="function_calls",
        content=[FunctionCall(id="call_1", name="lookup", arguments='{"order": "42"}')],
        usage=RequestUsage(prompt_tokens=3, completion_tokens=2),
        cached=False,
    )
    info = {
        "vision": False,
        "function_calling": True,
        "json_output": False,
        "family": "unknown",
        "structured_output": False,
    }
    agent = AssistantAgent(
        "clerk",
        model_client=ReplayChatCompletionClient(chat_completions=[call], model_info=info),
        tools=[FunctionTool(lookup, description="Look an order up.")],
    )
    logger.info("before the run")
    with Tracing(provider).run("orders") as traced:
        logger.info("inside the run")
        await agent.run(task="where is order 42?")
    logger.info("after the run")
    provider.shutdown()

    spans = {s.name: s for s in exporter.get_finished_spans()}
    found = parsed(lines)
    assert "trace_id" not in found["before the run"] and "span_id" not in found["before the run"]
    assert "trace_id" not in found["after the run"] and "span_id" not in found["after the run"]
    inside = found["inside the run"]
    assert (inside["trace_id"], inside["span_id"]) == (traced.trace_id, traced.span_id)
    tool_span = spans["execute_tool lookup"]
    in_tool = found["inside the tool"]
    assert in_tool["trace_id"] == traced.trace_id
    assert in_tool["span_id"] == format(tool_span.context.span_id, "016x")


def test_a_trace_id_given_explicitly_wins_and_brings_no_span_id(lines: io.StringIO) -> None:
    with log_context(trace_id="4bf92f3577b34da6a3ce929d0e0e4736"):
        logger.info("bound")
    log_request("GET", "/health", 200, 1.0)
    records = [json.loads(line) for line in lines.getvalue().splitlines()]
    bound = next(r for r in records if r["message"] == "bound")
    assert bound["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736" and "span_id" not in bound
    access = next(r for r in records if r["logger"] == "muster.service.access")
    assert "trace_id" not in access
