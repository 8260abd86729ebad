"""The instrumentation contract: off is None, spans nest through the context, layers fold."""

from __future__ import annotations

import asyncio

import pytest

from muster.core.instrumentation import Recorder, SpanKind, current_span, open_span


def test_with_nothing_recording_open_span_returns_none() -> None:
    assert open_span(SpanKind.MODEL_CALL, "x") is None
    assert current_span() is None


def test_spans_nest_through_the_context_and_restore_their_parent() -> None:
    recorder = Recorder()
    with recorder.recording():
        turn = open_span(SpanKind.AGENT_TURN, "alice")
        assert turn is not None and current_span() is turn
        with turn:
            call = open_span(SpanKind.MODEL_CALL, "client")
            assert call is not None
            with call:
                call.set(prompt_tokens=3)
            assert current_span() is turn
        assert current_span() is None
    assert open_span(SpanKind.AGENT_TURN, "after") is None
    assert [s.name for s in recorder.spans] == ["client", "alice"]
    assert call.parent is turn and turn.parent is None
    assert call.attributes == {"prompt_tokens": 3}
    assert recorder.started is not None and recorder.ended is not None
    assert recorder.started <= turn.start <= call.start <= call.end <= turn.end <= recorder.ended  # type: ignore[operator]


def test_a_same_kind_span_inside_a_call_is_a_layer_of_that_call() -> None:
    recorder = Recorder()
    with recorder.recording():
        turn = open_span(SpanKind.AGENT_TURN, "alice")
        assert turn is not None
        with turn:
            outer = open_span(SpanKind.MODEL_CALL, "agent")
            assert outer is not None
            with outer:
                outer.set(agent="alice", cached=False)
                cache = open_span(SpanKind.MODEL_CALL, "ChatCompletionCache")
                assert cache is not None and cache.is_layer
                with cache:
                    provider = open_span(SpanKind.MODEL_CALL, "openai")
                    assert provider is not None and provider.is_layer and provider.parent is turn
                    with provider:
                        provider.set(cached=True, model="gpt-4o", attempts=2)
                        provider.set(attempts=3)  # a layer updates its own figures freely
                # the outer span's own facts win; the layers fill the gaps
                outer.set_default(model="unknown", prompt_tokens=7)
    assert [s.name for s in recorder.spans] == ["agent", "alice"]
    assert outer.layers == ["ChatCompletionCache", "openai"]
    assert outer.attributes == {
        "agent": "alice",
        "cached": False,
        "model": "gpt-4o",
        "attempts": 3,
        "prompt_tokens": 7,
    }


def test_an_agent_turn_inside_a_turn_is_its_own_span() -> None:
    recorder = Recorder()
    with recorder.recording():
        outer = open_span(SpanKind.AGENT_TURN, "society")
        assert outer is not None
        with outer:
            inner = open_span(SpanKind.AGENT_TURN, "inner")
            assert inner is not None and not inner.is_layer
            inner.close()
    assert [s.name for s in recorder.spans] == ["inner", "society"]
    assert inner.parent is outer


def test_errors_and_cancellations_are_recorded_and_propagate() -> None:
    recorder = Recorder()
    with recorder.recording():
        with pytest.raises(ValueError):
            span = open_span(SpanKind.TOOL_CALL, "t")
            assert span is not None
            with span:
                raise ValueError("bad input")
        cancelled = open_span(SpanKind.TOOL_CALL, "c")
        assert cancelled is not None
        cancelled.close(asyncio.CancelledError())
        reported = open_span(SpanKind.TOOL_CALL, "r")
        assert reported is not None
        reported.fail("ToolError", "no such city")
        reported.close()
        reported.close()  # idempotent
    failed, cancel, tool_error = recorder.spans
    assert (failed.status, failed.error) == ("error", "ValueError: bad input")
    assert failed.attributes["error_type"] == "ValueError"
    assert cancel.status == "cancelled"
    assert (tool_error.status, tool_error.error) == ("error", "ToolError: no such city")
    assert len(recorder.spans) == 3


def test_events_of_a_layer_land_on_its_call() -> None:
    recorder = Recorder()
    with recorder.recording():
        outer = open_span(SpanKind.TOOL_CALL, "executor")
        assert outer is not None
        with outer:
            layer = open_span(SpanKind.TOOL_CALL, "workbench")
            assert layer is not None
            with layer:
                layer.add_event("progress", step=1)
    (span,) = recorder.spans
    assert [(e.name, e.attributes) for e in span.events] == [("progress", {"step": 1})]


async def test_tasks_started_inside_the_recording_record_into_it() -> None:
    recorder = Recorder()

    async def tool(name: str) -> None:
        span = open_span(SpanKind.TOOL_CALL, name)
        assert span is not None
        with span:
            await asyncio.sleep(0)

    with recorder.recording():
        turn = open_span(SpanKind.AGENT_TURN, "alice")
        assert turn is not None
        with turn:
            await asyncio.gather(tool("a"), tool("b"))
    tools = [s for s in recorder.spans if s.kind is SpanKind.TOOL_CALL]
    assert sorted(s.name for s in tools) == ["a", "b"]
    assert all(s.parent is turn for s in tools)  # concurrent calls are siblings, not layers


def test_recorders_nest_and_a_subclass_sees_each_span() -> None:
    seen: list[str] = []

    class Streaming(Recorder):
        def on_start(self, span: object) -> None:
            seen.append(f"start {span.name}")  # type: ignore[attr-defined]

        def on_end(self, span: object) -> None:
            seen.append(f"end {span.name}")  # type: ignore[attr-defined]

    outer, inner = Recorder(), Streaming()
    with outer.recording():
        with inner.recording():
            span = open_span(SpanKind.MODEL_CALL, "m")
            assert span is not None
            span.close()
        span = open_span(SpanKind.MODEL_CALL, "n")
        assert span is not None
        span.close()
    assert seen == ["start m", "end m"]
    # The outer recorder sees the inner block's spans too (a timing recording inside a
    # traced run must not cut the trace).
    assert [s.name for s in outer.spans] == ["m", "n"]
    assert inner.spans == []


def test_a_nested_recording_keeps_the_outer_span_as_parent() -> None:
    outer, inner = Recorder(), Recorder()
    with outer.recording():
        turn = open_span(SpanKind.AGENT_TURN, "turn")
        assert turn is not None
        with inner.recording():
            call = open_span(SpanKind.MODEL_CALL, "m")
            assert call is not None
            call.close()
        turn.close()
    assert [s.name for s in inner.spans] == ["m"]
    assert inner.spans[0].parent is turn
    assert [s.name for s in outer.spans] == ["m", "turn"]
