"""What a team and its manager share about the current run: output, run id, hook, snapshots.

The team object lives with the caller; the manager lives inside the runtime and only
hears from the team through messages. A handful of things must nevertheless pass between
them without a message round trip: the run's output queue, the run id, the turn hook the
caller installed, and requests for a snapshot made by ``save_state()`` during a run. They
live on one :class:`RunControl` that the team creates and hands to its manager with the
rest of the wiring.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from muster.messages import BaseAgentEvent, BaseChatMessage, ModelClientStreamingChunkEvent

from ._events import GroupChatTermination

if TYPE_CHECKING:
    from .._checkpoint import TurnCheckpoint

__all__ = ["OutputQueue", "RunControl", "TurnHook"]

TurnHook = Callable[["TurnCheckpoint"], Awaitable[None]]
"""An async callback awaited at every turn boundary with a :class:`~muster.teams.TurnCheckpoint`."""


class OutputQueue(asyncio.Queue[BaseAgentEvent | BaseChatMessage | GroupChatTermination]):
    """Where a run's output goes: messages and events in order, then one GroupChatTermination.

    While a turn hook is installed the queue also keeps the messages of the current turn
    (streaming chunks aside), which is how the hook learns what each turn added without
    the participants knowing hooks exist. With no hook, ``_turn`` is ``None`` and a put
    costs one attribute check more than a plain queue's.
    """

    _turn: list[BaseAgentEvent | BaseChatMessage] | None = None

    def put_nowait(self, item: BaseAgentEvent | BaseChatMessage | GroupChatTermination) -> None:
        turn = self._turn
        if turn is not None and not isinstance(item, GroupChatTermination | ModelClientStreamingChunkEvent):
            turn.append(item)
        super().put_nowait(item)

    def record_turns(self, enabled: bool) -> None:
        """Start (or stop) keeping the current turn's messages."""
        self._turn = [] if enabled else None

    def take_turn(self) -> list[BaseAgentEvent | BaseChatMessage]:
        """The messages output since the previous call; empty when not recording."""
        turn = self._turn
        if turn is None:
            return []
        self._turn = []
        return turn


class RunControl:
    """The team-side facts of the current run that its manager reads at turn boundaries.

    Attributes:
        output: The run's output queue (built on first use: an idle team pays nothing).
        run_id: The id of the run in progress, or of the last one.
        turn_hook: The caller's hook for this run, or ``None``.
        previous_state: The last snapshot taken (at a boundary or by ``load_state``): the
            base the next checkpoint's delta is computed against.
        hook_error: What the turn hook raised in this run, re-raised to the caller as is.
    """

    __slots__ = (
        "_output",
        "_snapshot_waiters",
        "hook_error",
        "previous_state",
        "run_id",
        "team_name",
        "turn_hook",
    )

    def __init__(self, team_name: str = "") -> None:
        self._output: OutputQueue | None = None
        self._snapshot_waiters: list[asyncio.Future[Mapping[str, Any]]] = []
        self.team_name = team_name
        self.run_id: str | None = None
        self.turn_hook: TurnHook | None = None
        self.previous_state: Mapping[str, Any] | None = None
        self.hook_error: BaseException | None = None

    @property
    def output(self) -> OutputQueue:
        queue = self._output
        if queue is None:
            queue = self._output = OutputQueue()
        return queue

    def drain(self) -> None:
        """Drop whatever output the last run left behind."""
        queue = self._output
        if queue is None:
            return
        while not queue.empty():
            queue.get_nowait()
        queue.record_turns(False)

    @property
    def wants_snapshot(self) -> bool:
        """Whether the next boundary must take a snapshot (a hook, or a waiting ``save_state``)."""
        return self.turn_hook is not None or bool(self._snapshot_waiters)

    def request_snapshot(self) -> asyncio.Future[Mapping[str, Any]]:
        """A future resolved with the snapshot taken at the next turn boundary.

        The requester may cancel it at any time: the boundary skips cancelled futures, and
        nothing waits on the requester, so a cancelled ``save_state()`` cannot hold a run.
        """
        future: asyncio.Future[Mapping[str, Any]] = asyncio.get_running_loop().create_future()
        self._snapshot_waiters.append(future)
        return future

    def discard_request(self, future: asyncio.Future[Mapping[str, Any]]) -> None:
        """Forget a request whose requester gave up."""
        try:
            self._snapshot_waiters.remove(future)
        except ValueError:
            pass

    def deliver_snapshot(self, state: Mapping[str, Any]) -> None:
        """Hand a boundary snapshot to every ``save_state()`` waiting for one."""
        waiters, self._snapshot_waiters = self._snapshot_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(state)
