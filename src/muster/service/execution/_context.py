"""What the service's spec components read while a run's team is being built.

A spec is plain data, and the framework builds it with ``ComponentLoader.load_component``:
there is no argument through which a component could receive the run's store. The two
components the service substitutes into a spec (the response recorder and the service's
user proxy) read the run they belong to from this context variable instead, which the
runner sets only for the duration of the ``load_component`` call. A spec that names them
outside a run fails to load, so a posted spec cannot reach another run's recordings.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from muster.core.exceptions import MusterError

if TYPE_CHECKING:
    from ..store.base import Store
    from ._held import HeldWrites
    from .human import HumanInput

__all__ = ["BuildContext", "building", "current_build"]


@dataclass(slots=True)
class BuildContext:
    """The run a team is being built for."""

    store: Store | None
    """``None`` when a spec is only being checked (nothing is recorded then)."""
    run_id: str
    human: HumanInput
    metrics: Any = None
    """The process's ``ServiceMetrics`` (replays count as cache hits), or ``None``."""
    response_cache: Any = None
    """The process's shared response cache (``cache.type``), or ``None``."""
    clients: list[Any] = field(default_factory=list)
    """Every recording model client built for the run (the runner closes them at the end)."""
    fresh: bool = False
    """The run's first execution: nothing was recorded for it before, so its recorded
    responses are only the ones this execution makes (no store lookups needed)."""
    held: HeldWrites | None = None
    """Where the run's recorder sends answers to write (``None``: straight to ``store``)."""


_CURRENT: ContextVar[BuildContext | None] = ContextVar("muster_service_build", default=None)


@contextmanager
def building(context: BuildContext) -> Iterator[BuildContext]:
    """Make ``context`` the run that service components built inside the block belong to."""
    token = _CURRENT.set(context)
    try:
        yield context
    finally:
        _CURRENT.reset(token)


def current_build(component: str) -> BuildContext:
    """The run being built.

    Raises:
        MusterError: no run is being built (the component was named in a spec loaded
            outside the service's runner).
    """
    context = _CURRENT.get()
    if context is None:
        raise MusterError(f"{component} is built by the service for a run; a spec cannot name it directly")
    return context
