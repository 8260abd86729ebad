"""Human in the loop: a UserProxyAgent asking for input interrupts the run instead of blocking.

A served run cannot wait on ``input()``: nobody sits at the worker's terminal, and a run
holding a worker slot for hours while a person thinks would starve the others. So the
runner loads every ``UserProxyAgent`` of a spec as a :class:`ServiceUserProxyAgent`,
whose input function is the run's :class:`HumanInput`:

- the run was created with input for the proxy (the thread's previous run stopped
  asking for it, and the new run's task is the answer): the proxy's turn returns it;
- otherwise the input function tells the runner (``on_request``), which stops the run:
  the proxy's turn is cancelled, so the checkpoint left is the boundary before it, and
  the run ends ``interrupted`` with the stop reason :func:`input_stop_reason`. The next
  run posted to the thread carries the answer and resumes exactly there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Self

from muster.agents import UserProxyAgent
from muster.core import CancellationToken

from ._context import current_build

__all__ = [
    "INPUT_STOP_PREFIX",
    "HumanInput",
    "ServiceUserProxyAgent",
    "input_requester",
    "input_stop_reason",
]

INPUT_STOP_PREFIX = "Input requested by "
"""How the stop reason of a run waiting for a human starts (the agent's name follows)."""


def input_stop_reason(agent: str) -> str:
    """The stop reason of a run interrupted because ``agent`` asked for input."""
    return f"{INPUT_STOP_PREFIX}{agent}."


def input_requester(stop_reason: str | None) -> str | None:
    """The proxy a run stopped for (see :func:`input_stop_reason`), or ``None``."""
    if stop_reason and stop_reason.startswith(INPUT_STOP_PREFIX) and stop_reason.endswith("."):
        return stop_reason[len(INPUT_STOP_PREFIX) : -1]
    return None


class HumanInput:
    """The answers a run holds for its user proxies, and what happens when it has none.

    Args:
        answer: The input posted for the proxy that stopped the previous run, if any.
        on_request: Called with the agent's name when a proxy asks and no answer waits;
            the runner stops the run there.
    """

    def __init__(self, answer: str | None, on_request: Callable[[str], None]) -> None:
        self._answer = answer
        self._on_request = on_request
        self._waiting: set[asyncio.Future[str]] = set()
        self.requested_by: str | None = None

    def input_func(self, agent: str) -> Callable[[str, CancellationToken | None], Awaitable[str]]:
        """The async input function of proxy ``agent``."""

        async def ask(prompt: str, cancellation_token: CancellationToken | None) -> str:
            if self._answer is not None:
                answer, self._answer = self._answer, None
                return answer
            self.requested_by = agent
            future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            self._waiting.add(future)
            if cancellation_token is not None:
                cancellation_token.link_future(future)
            self._on_request(agent)
            try:
                # Never answered: the run is being stopped; the cancellation ends the turn.
                return await future
            finally:
                self._waiting.discard(future)

        return ask

    def abandon(self) -> None:
        """Cancel every input function still waiting (the run is ending)."""
        for future in list(self._waiting):
            future.cancel()


class ServiceUserProxyAgent(UserProxyAgent):
    """A ``UserProxyAgent`` whose input comes from the run (see the module docstring)."""

    component_provider_override = "muster.service.execution.human.ServiceUserProxyAgent"

    @classmethod
    def _from_config(cls, config: Any) -> Self:
        # Any: the config class is UserProxyAgent's, which muster.agents does not export.
        human = current_build("ServiceUserProxyAgent").human
        return cls(name=config.name, description=config.description, input_func=human.input_func(config.name))
