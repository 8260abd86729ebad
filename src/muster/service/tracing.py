"""The service's OpenTelemetry traces (docs/tracing.md): HTTP requests and runs, when enabled.

One trace follows a run from the request that created it, through the queue, to the
worker that executes it:

- :class:`TraceContextMiddleware` gives each HTTP request a ``SERVER`` span, the child of
  the client's W3C ``traceparent`` header when there is one. A run created by the request
  stores that span's ``traceparent`` in its ``metadata`` (:func:`with_trace_context`), the
  one thing a run carries from the API to whichever process executes it.
- :func:`trace_run` wraps a run's execution (``RunRunner``) in ``muster.ops.Tracing.run``:
  the run's ``invoke_workflow`` span, the child of the stored ``traceparent``, with the
  agent turns, model calls and tool calls beneath it.

With ``tracing.enabled`` false (the default) nothing of OpenTelemetry is imported and
nothing is sent: a client's ``traceparent`` is still stored with the runs it creates and
its trace id logged (plain string handling), so a worker with tracing on, or the logs,
can still join the client's trace.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .logs import log_context
from .models import Run, RunStatus
from .settings import TracingSettings

if TYPE_CHECKING:
    from muster.ops import TracedRun, Tracing

__all__ = [
    "TRACEPARENT_KEY",
    "RunTrace",
    "ServiceTracing",
    "TraceContextMiddleware",
    "parse_traceparent",
    "trace_run",
    "with_trace_context",
]

TRACEPARENT_KEY = "traceparent"
"""The run ``metadata`` key holding the trace the run continues."""

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_request_traceparent: ContextVar[str | None] = ContextVar("muster_request_traceparent", default=None)


def parse_traceparent(value: Any) -> str | None:
    """``value`` if it is a valid W3C ``traceparent`` (version 00 layout), else ``None``."""
    if not isinstance(value, str):
        return None
    match = _TRACEPARENT.match(value.strip().lower())
    if match is None:
        return None
    version, trace_id, span_id, _ = match.groups()
    if version == "ff" or trace_id == "0" * 32 or span_id == "0" * 16:
        return None
    return match.group(0)


def with_trace_context(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """A new run's ``metadata``, with the ``traceparent`` of the request creating it (if any).

    A ``traceparent`` the client put in the metadata itself is kept when the request has none.
    """
    current = _request_traceparent.get()
    if current is None:
        return dict(metadata)
    return {**metadata, TRACEPARENT_KEY: current}


class ServiceTracing:
    """The process's tracing, built from ``settings.tracing``: inert until :meth:`start`.

    Args:
        settings: The ``tracing`` section.
        instance: This process's name (the ``service.instance.id`` resource attribute).
    """

    def __init__(self, settings: TracingSettings, *, instance: str | None = None) -> None:
        self.settings = settings
        self.instance = instance
        self.tracing: Tracing | None = None

    def start(self) -> None:
        """Build the tracer provider and its OTLP/HTTP exporter (when enabled; else nothing).

        Raises:
            ValueError: enabled, but no endpoint is configured (``tracing.endpoint`` or the
                standard ``OTEL_EXPORTER_OTLP_ENDPOINT``).
        """
        if not self.settings.enabled or self.tracing is not None:
            return
        from muster.ops import enable_tracing

        settings = self.settings
        self.tracing = enable_tracing(
            settings.endpoint,
            service_name=settings.service_name,
            headers={k: v.get_secret_value() for k, v in settings.headers.items()} or None,
            sample_ratio=settings.sample_ratio,
            resource_attributes={"service.instance.id": self.instance} if self.instance else None,
            capture_content=settings.capture_content,
        )

    def shutdown(self) -> None:
        """Send the spans not exported yet and stop the exporter."""
        tracing, self.tracing = self.tracing, None
        if tracing is not None:
            tracing.shutdown()


class RunTrace:
    """A run's span as :func:`trace_run` yields it (inert when tracing is off)."""

    def __init__(self, traced: TracedRun | None) -> None:
        self.traced = traced

    def ended(self, run: Run | None) -> Run | None:
        """Put how the run ended on its span; returns ``run`` (``None``: given back or lost)."""
        traced = self.traced
        if traced is not None:
            traced.set(**{"muster.run.status": str(run.status) if run is not None else "released"})
            if run is not None and run.status is RunStatus.FAILED and run.error is not None:
                traced.fail(run.error.type, run.error.message)
        return run


@contextmanager
def trace_run(tracing: ServiceTracing | None, run: Run) -> Iterator[RunTrace]:
    """Trace the execution of ``run`` in this block (a no-op unless tracing started)."""
    active = tracing.tracing if tracing is not None else None
    if active is None:
        yield RunTrace(None)
        return
    attributes = {
        "muster.run.id": run.id,
        "muster.run.attempt": run.attempt,
        "muster.spec.version": run.spec_version,
        "muster.worker": run.worker,
    }
    with active.run(
        run.spec,
        conversation_id=run.thread_id,
        traceparent=parse_traceparent(run.metadata.get(TRACEPARENT_KEY)),
        attributes=attributes,
    ) as traced:
        yield RunTrace(traced)


class TraceContextMiddleware:
    """Trace each HTTP request (tracing on), or pass the client's ``traceparent`` on (off).

    Install it outermost, so the access log line of a request is written inside its span.

    Args:
        app: The wrapped app.
        tracing: The app's :class:`ServiceTracing` (started by the lifespan), or ``None``.
    """

    def __init__(self, app: ASGIApp, tracing: ServiceTracing | None = None) -> None:
        self.app = app
        self.tracing = tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = None
        for key, value in scope.get("headers") or ():
            if key == b"traceparent":
                given = parse_traceparent(value.decode("latin-1"))
                break
        active = self.tracing.tracing if self.tracing is not None else None
        if active is not None:
            await self._traced(active, given, scope, receive, send)
            return
        if given is None:
            await self.app(scope, receive, send)
            return
        token = _request_traceparent.set(given)
        try:
            with log_context(trace_id=given.split("-")[1]):
                await self.app(scope, receive, send)
        finally:
            _request_traceparent.reset(token)

    async def _traced(
        self, tracing: Tracing, given: str | None, scope: Scope, receive: Receive, send: Send
    ) -> None:
        from opentelemetry import context, trace
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        propagator = TraceContextTextMapPropagator()
        method = scope.get("method", "GET")
        span = tracing.tracer.start_span(
            method,
            context=propagator.extract({"traceparent": given}) if given else None,
            kind=trace.SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": scope.get("path", "")},
        )
        status = 500  # what the client gets if the app fails before answering

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        carrier: dict[str, str] = {}
        current = trace.set_span_in_context(span)
        propagator.inject(carrier, context=current)
        attached = context.attach(current)
        stored = _request_traceparent.set(carrier.get("traceparent"))
        try:
            await self.app(scope, receive, observed_send)
        except Exception as exc:
            span.record_exception(exc)
            raise
        finally:
            _request_traceparent.reset(stored)
            route = getattr(scope.get("route"), "path", None)
            if route:
                span.update_name(f"{method} {route}")
                span.set_attribute("http.route", route)
            span.set_attribute("http.response.status_code", status)
            if status >= 500:
                span.set_attribute("error.type", str(status))
                span.set_status(trace.Status(trace.StatusCode.ERROR))
            context.detach(attached)
            span.end()
