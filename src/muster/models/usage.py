"""What model calls consumed and cost: one record per call, running totals per tracker.

Every provider client owns a :class:`UsageTracker` (``client.usage_tracker``); pass the
same tracker to several clients (``usage_tracker=...``) to total a whole team. Each
finished call is also logged on the ``muster.models.usage`` logger at INFO with the
record in ``extra={"model_call": record}``, for log-based accounting; a call that fails for
good is logged there too, with ``extra={"model_call_failure": failure}``. The record is
built only once per call and logging is skipped unless enabled, so the bookkeeping
costs microseconds against calls that take hundreds of milliseconds.

The scope functions live here; the tracker and its records (``_usage_tracker``) load on
first access, since every agent turn enters a scope but only provider clients track.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from muster.core.internal import lazy_exports

if TYPE_CHECKING:
    from ._usage_tracker import ModelCallFailure, ModelCallRecord, UsageTotals, UsageTracker

__all__ = [
    "USAGE_LOGGER_NAME",
    "ModelCallFailure",
    "ModelCallRecord",
    "UsageScope",
    "UsageTotals",
    "UsageTracker",
    "current_usage_scope",
    "enter_usage_scope",
    "restore_usage_scope",
    "usage_scope",
]

USAGE_LOGGER_NAME = "muster.models.usage"
"""Logger that receives one INFO record per finished model call."""


class UsageScope:
    """Who a model call is billed to: the agent making it and the run it belongs to.

    Immutable, compared and hashed by value. A plain class rather than a frozen dataclass:
    the decorator compiles its generated methods at import, about 0.5 ms of every process's
    start-up, and every agent run imports this module.
    """

    __slots__ = ("agent", "run_id")

    agent: str | None
    run_id: str | None

    def __init__(self, agent: str | None = None, run_id: str | None = None) -> None:
        object.__setattr__(self, "agent", agent)
        object.__setattr__(self, "run_id", run_id)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"UsageScope is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"UsageScope is immutable; cannot delete {name!r}")

    def __eq__(self, other: object) -> bool:
        if type(other) is not UsageScope:
            return NotImplemented
        return self.agent == other.agent and self.run_id == other.run_id

    def __hash__(self) -> int:
        return hash((self.agent, self.run_id))

    def __repr__(self) -> str:
        return f"UsageScope(agent={self.agent!r}, run_id={self.run_id!r})"


# UsageScope is immutable, so sharing one default instance is safe.
_SCOPE: ContextVar[UsageScope] = ContextVar("muster_usage_scope", default=UsageScope())  # noqa: B039


def current_usage_scope() -> UsageScope:
    """The scope calls made from here are attributed to."""
    return _SCOPE.get()


def enter_usage_scope(*, agent: str | None = None, run_id: str | None = None) -> UsageScope:
    """Narrow the current scope (unset fields are inherited); returns the scope to restore.

    Agents use this pair instead of :func:`usage_scope` inside async generators: restoring
    a value (rather than resetting a ContextVar token) cannot fail when a generator is
    resumed from another context.
    """
    previous = _SCOPE.get()
    _SCOPE.set(UsageScope(agent or previous.agent, run_id or previous.run_id))
    return previous


def restore_usage_scope(previous: UsageScope) -> None:
    """Undo :func:`enter_usage_scope`."""
    _SCOPE.set(previous)


@contextmanager
def usage_scope(*, agent: str | None = None, run_id: str | None = None) -> Iterator[UsageScope]:
    """Attribute the model calls made inside the block to ``agent`` and/or ``run_id``.

    Agents set ``agent`` themselves around their model calls; set ``run_id`` around a
    ``team.run(...)`` to total a whole run (``tracker.for_run(run_id)``).
    """
    previous = enter_usage_scope(agent=agent, run_id=run_id)
    try:
        yield _SCOPE.get()
    finally:
        restore_usage_scope(previous)


_EXPORTS = {
    "ModelCallFailure": "muster.models._usage_tracker",
    "ModelCallRecord": "muster.models._usage_tracker",
    "UsageTotals": "muster.models._usage_tracker",
    "UsageTracker": "muster.models._usage_tracker",
}
"""Name -> module that defines it; imported on first access (see ``muster.core.internal``)."""

if not TYPE_CHECKING:  # hidden from mypy, which sees the imports above; a typo stays an error
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
