"""OpenTelemetry tracing of runs: the run, its agent turns, model calls and tool calls as spans.

Why it exists: a slow or failed run in production is found in the tracing backend the
operators already use, next to the HTTP request that started it. The spans follow the
GenAI semantic conventions (names and attributes in :mod:`muster.ops._tracing_genai`).

How: :class:`Tracing` is built on the framework's instrumentation hook
(:mod:`muster.core.instrumentation`), the one muster's diagnostics use: ``Tracing.run``
opens the run's span and, inside it, a :class:`~muster.core.instrumentation.Recorder`
that turns every instrumentation span into an OpenTelemetry span. There is no second
mechanism in the framework, and with no ``Tracing.run`` block active the call sites cost
what they always cost (one ``ContextVar`` lookup).

Each span is also made OpenTelemetry's *current* span while its work runs, so an HTTP
client instrumented by the application nests under the model call, and log lines carry
the span's ids (``muster.service.logs``).

Nothing is sent anywhere unless asked: :func:`enable_tracing` needs an endpoint (or an
exporter), and OpenTelemetry itself is imported only when a :class:`Tracing` is built
(``pip install 'muster[otel]'``).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from muster import __version__
from muster.core.instrumentation import Recorder, Span, SpanKind

from ._tracing_genai import attributes_of, is_client_call, name_of

__all__ = ["TracedRun", "Tracing", "enable_tracing", "otlp_traces_endpoint"]

_TRACES_PATH = "/v1/traces"


@functools.cache
def _otel() -> Any:
    """The OpenTelemetry API modules, imported on first use."""
    try:
        from opentelemetry import context, trace
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
    except ImportError as exc:  # pragma: no cover - the otel extra is part of dev
        raise ImportError("tracing needs OpenTelemetry: pip install 'muster[otel]'") from exc
    return SimpleNamespace(context=context, trace=trace, propagator=TraceContextTextMapPropagator())


def otlp_traces_endpoint(endpoint: str | None = None, environ: Mapping[str, str] | None = None) -> str | None:
    """The OTLP/HTTP URL spans go to: ``endpoint``, else the standard environment variables.

    ``endpoint`` and ``OTEL_EXPORTER_OTLP_ENDPOINT`` are base URLs (``http://collector:4318``)
    that get ``/v1/traces`` appended unless they end with it already;
    ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is used as is. ``None``: nowhere is configured.
    """
    env = os.environ if environ is None else environ
    if not endpoint:
        signal = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
        if signal:
            return signal
        endpoint = env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip() or None
    if not endpoint:
        return None
    base = endpoint.rstrip("/")
    return base if base.endswith(_TRACES_PATH) else base + _TRACES_PATH


def _hex_ids(span: Any) -> tuple[str, str]:
    context = span.get_span_context()
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


class TracedRun:
    """The span of one traced run, as ``Tracing.run`` yields it.

    Attributes:
        span: The OpenTelemetry span (``invoke_workflow {name}``).
        trace_id: 32 hex digits, as logs and tracing backends show it.
        span_id: 16 hex digits.
    """

    def __init__(self, span: Any) -> None:
        self.span = span
        self.trace_id, self.span_id = _hex_ids(span)

    @property
    def traceparent(self) -> str:
        """The W3C ``traceparent`` of the run's span: hand it on to continue the trace elsewhere."""
        carrier: dict[str, str] = {}
        otel = _otel()
        otel.propagator.inject(carrier, context=otel.trace.set_span_in_context(self.span))
        return carrier.get("traceparent", "")

    def set(self, **attributes: Any) -> None:
        """Add attributes to the run's span (``None`` values are left out)."""
        self.span.set_attributes({k: v for k, v in attributes.items() if v is not None})

    def fail(self, error_type: str, message: str = "") -> None:
        """Mark the run failed (a run that ends in error without raising)."""
        otel = _otel()
        self.span.set_attribute("error.type", error_type)
        self.span.set_status(otel.trace.Status(otel.trace.StatusCode.ERROR, message or error_type))


class _Live:
    __slots__ = ("inherited", "previous", "span", "tokens")

    def __init__(self, span: Any, previous: Any) -> None:
        self.span = span
        self.previous = previous
        self.inherited: dict[str, str] = {}
        self.tokens = [0, 0]


class _SpanBridge(Recorder):
    """Turns the instrumentation spans of one run into OpenTelemetry spans under the run's span."""

    def __init__(self, tracer: Any, root: Any, capture_content: bool) -> None:
        super().__init__()
        self._tracer = tracer
        self._root = root
        self._capture_content = capture_content
        self._live: dict[int, _Live] = {}
        self.tokens = [0, 0]

    def on_start(self, span: Span) -> None:
        otel = _otel()
        parent = self._live.get(span.parent.span_id) if span.parent is not None else None
        parent_span = parent.span if parent is not None else self._root
        kind = otel.trace.SpanKind.CLIENT if is_client_call(span) else otel.trace.SpanKind.INTERNAL
        # The name is provisional: the call site adds its facts (the tool, the model) later.
        started = self._tracer.start_span(
            name_of(span), context=otel.trace.set_span_in_context(parent_span), kind=kind
        )
        previous = otel.context.get_current()
        otel.context.attach(otel.trace.set_span_in_context(started, previous))
        self._live[span.span_id] = _Live(started, previous)

    def on_end(self, span: Span) -> None:
        live = self._live.pop(span.span_id, None)
        if live is None:
            return
        otel = _otel()
        target = live.span
        attributes = attributes_of(span, capture_content=self._capture_content)
        if span.kind is SpanKind.AGENT_TURN:
            for key, value in live.inherited.items():
                attributes.setdefault(key, value)
            if live.tokens != [0, 0]:
                attributes["gen_ai.usage.input_tokens"] = live.tokens[0]
                attributes["gen_ai.usage.output_tokens"] = live.tokens[1]
        target.update_name(name_of(span))
        target.set_attributes(attributes)
        self._add_events(target, span)
        if span.status == "error":
            target.set_status(otel.trace.Status(otel.trace.StatusCode.ERROR, span.error or "error"))
        self._hand_up(span, attributes)
        target.end()
        # Restored by value, like the instrumentation's own scope, and only where this span
        # is still the current one (an async generator may end it from another context).
        if otel.trace.get_current_span() is target:
            otel.context.attach(live.previous)

    def _hand_up(self, span: Span, attributes: Mapping[str, Any]) -> None:
        """Give a turn what its model calls tell (provider, model, tokens), for its own span."""
        if span.kind is SpanKind.TOOL_CALL:
            return
        parent = self._live.get(span.parent.span_id) if span.parent is not None else None
        tally = parent.tokens if parent is not None else self.tokens
        tally[0] += int(attributes.get("gen_ai.usage.input_tokens", 0))
        tally[1] += int(attributes.get("gen_ai.usage.output_tokens", 0))
        if parent is not None:
            for key in ("gen_ai.provider.name", "gen_ai.request.model"):
                if key in attributes:
                    parent.inherited.setdefault(key, str(attributes[key]))

    def _add_events(self, target: Any, span: Span) -> None:
        if not span.events:
            return
        # Event times are perf_counter readings: place them on the wall clock from now.
        now_ns, now = time.time_ns(), time.perf_counter()
        for event in span.events:
            attributes = {
                f"muster.message.{key}": value
                for key, value in event.attributes.items()
                if value is not None and (self._capture_content or key != "content")
            }
            timestamp = now_ns - int((now - event.time) * 1e9)
            target.add_event(f"muster.{event.name}", attributes=attributes, timestamp=timestamp)


class Tracing:
    """Traces runs into an OpenTelemetry tracer provider (see the module docstring).

    Args:
        tracer_provider: Where spans go; ``None`` uses OpenTelemetry's global provider (a
            no-op one unless the application set one up).
        capture_content: Also record tool-call arguments and results and message texts.
            Off by default: they may hold personal data.
        owns_provider: :meth:`shutdown` shuts ``tracer_provider`` down (it was built for
            this object alone, as :func:`enable_tracing` does).
    """

    def __init__(
        self, tracer_provider: Any = None, *, capture_content: bool = False, owns_provider: bool = False
    ) -> None:
        otel = _otel()
        self.tracer_provider = (
            tracer_provider if tracer_provider is not None else otel.trace.get_tracer_provider()
        )
        self.tracer = self.tracer_provider.get_tracer("muster", __version__)
        self.capture_content = capture_content
        self._owns_provider = owns_provider and tracer_provider is not None

    @contextmanager
    def run(
        self,
        name: str,
        *,
        conversation_id: str | None = None,
        traceparent: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> Iterator[TracedRun]:
        """Trace the run done in this block: ``invoke_workflow {name}``, turns and calls beneath.

        Args:
            name: The team (or spec) run, ``gen_ai.workflow.name``.
            conversation_id: ``gen_ai.conversation.id`` (a service thread).
            traceparent: A W3C ``traceparent`` to continue (the request that queued the run);
                ``None`` (or an invalid one) continues OpenTelemetry's current span, if any.
            attributes: More attributes for the run's span.
        """
        otel = _otel()
        parent = otel.propagator.extract({"traceparent": traceparent}) if traceparent else None
        given = {
            "gen_ai.operation.name": "invoke_workflow",
            "gen_ai.workflow.name": name,
            "gen_ai.conversation.id": conversation_id,
            **(attributes or {}),
        }
        span = self.tracer.start_span(
            f"invoke_workflow {name}",
            context=parent,
            kind=otel.trace.SpanKind.INTERNAL,
            attributes={k: v for k, v in given.items() if v is not None},
        )
        token = otel.context.attach(otel.trace.set_span_in_context(span))
        traced = TracedRun(span)
        bridge = _SpanBridge(self.tracer, span, self.capture_content)
        try:
            with bridge.recording():
                yield traced
        except BaseException as exc:
            if isinstance(exc, Exception):
                span.record_exception(exc)
                traced.fail(type(exc).__name__, str(exc))
            else:  # cancelled, or the process is exiting: not the run's error
                span.set_attribute("muster.cancelled", True)
            raise
        finally:
            if bridge.tokens != [0, 0]:
                span.set_attribute("gen_ai.usage.input_tokens", bridge.tokens[0])
                span.set_attribute("gen_ai.usage.output_tokens", bridge.tokens[1])
            otel.context.detach(token)
            span.end()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export the spans ended so far now (when the provider batches them); ``True`` if done."""
        flush = getattr(self.tracer_provider, "force_flush", None)
        return bool(flush(timeout_millis)) if flush is not None else True

    def shutdown(self) -> None:
        """Flush and stop the provider, if it is this object's own (see ``owns_provider``)."""
        if self._owns_provider:
            self.tracer_provider.shutdown()


def enable_tracing(
    endpoint: str | None = None,
    *,
    service_name: str = "muster",
    headers: Mapping[str, str] | None = None,
    sample_ratio: float = 1.0,
    resource_attributes: Mapping[str, str] | None = None,
    exporter: Any = None,
    capture_content: bool = False,
    timeout: float = 10.0,
) -> Tracing:
    """A :class:`Tracing` with a tracer provider of its own, exporting over OTLP/HTTP (protobuf).

    Spans go to ``endpoint`` (see :func:`otlp_traces_endpoint`: the standard
    ``OTEL_EXPORTER_OTLP_*`` variables are read when it is ``None``), or to ``exporter``
    (an OpenTelemetry ``SpanExporter``, e.g. in tests), in batches from a background thread.
    The provider is not made OpenTelemetry's global one. Call :meth:`Tracing.shutdown` at
    exit to send what is left.

    Args:
        endpoint: The collector's OTLP/HTTP base URL (``http://127.0.0.1:4318``).
        service_name: The ``service.name`` resource attribute.
        headers: HTTP headers for the collector (an API key of a hosted backend).
        sample_ratio: The share of new traces kept (a continued trace follows its parent's
            decision).
        resource_attributes: More resource attributes (``service.instance.id``...).
        exporter: Export to this instead of OTLP/HTTP.
        capture_content: See :class:`Tracing`.
        timeout: Seconds an export may take.

    Raises:
        ValueError: neither an endpoint nor an exporter is given or configured: nothing is
            ever sent to a default address.
    """
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    if exporter is None:
        url = otlp_traces_endpoint(endpoint)
        if url is None:
            raise ValueError(
                "tracing has nowhere to send spans: give an endpoint or set OTEL_EXPORTER_OTLP_ENDPOINT"
            )
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=url, headers=dict(headers) if headers else None, timeout=timeout)
    resource = Resource.create({**(resource_attributes or {}), "service.name": service_name})
    provider = TracerProvider(resource=resource, sampler=ParentBased(TraceIdRatioBased(sample_ratio)))
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=1000))
    return Tracing(provider, capture_content=capture_content, owns_provider=True)
