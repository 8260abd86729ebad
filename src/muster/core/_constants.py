"""Logger names used by the core runtime."""

__all__ = ["EVENT_LOGGER_NAME", "ROOT_LOGGER_NAME", "TRACE_LOGGER_NAME"]

ROOT_LOGGER_NAME = "muster.core"
"""Parent logger of everything the core runtime logs."""
EVENT_LOGGER_NAME = "muster.core.events"
"""Structured runtime events (messages sent, delivered, dropped)."""
TRACE_LOGGER_NAME = "muster.core.trace"
"""Human-readable debug traces."""
