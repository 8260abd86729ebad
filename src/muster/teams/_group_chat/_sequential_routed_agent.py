"""A routed agent that handles chosen message types one at a time, in arrival order.

The runtime may run several deliveries to one agent concurrently. The group-chat manager
and containers must not: a response handled before the start that preceded it would
corrupt the thread. A FIFO lock serialises exactly those message types.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from typing import Any

from muster.core import MessageContext, RoutedAgent, TopicId

__all__ = ["FIFOLock", "SequentialRoutedAgent"]


class FIFOLock:
    """A lock granted strictly in request order.

    ``asyncio.Lock`` does not promise FIFO hand-over under contention. The uncontended
    path (the common one in a group chat) takes no await and allocates nothing.
    """

    __slots__ = ("_locked", "_waiters")

    def __init__(self) -> None:
        self._locked = False
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def locked(self) -> bool:
        """Whether some coroutine holds the lock."""
        return self._locked

    def try_acquire(self) -> bool:
        """Take the lock if it is free (never when others wait: they hold it in turn)."""
        if self._locked:
            return False
        self._locked = True
        return True

    async def acquire(self) -> None:
        """Wait for the lock behind every earlier requester."""
        if not self._locked:
            self._locked = True
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            # Ownership may have been handed over just before the cancellation landed;
            # pass it on, or every later requester would wait forever.
            if waiter.done() and not waiter.cancelled():
                self.release()
            raise

    def release(self) -> None:
        """Hand the lock to the oldest live waiter, or free it."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._locked = False


class SequentialRoutedAgent(RoutedAgent):
    """A :class:`~muster.core.RoutedAgent` that serialises the given message types.

    Args:
        description: The agent's description.
        sequential_message_types: Messages of these types are handled one at a time in
            arrival order; other messages (pause, resume) are handled immediately, which is
            how a pause can reach an agent that is busy with its turn.
    """

    def __init__(self, description: str, sequential_message_types: Sequence[type[Any]]) -> None:
        super().__init__(description=description)
        self._fifo_lock = FIFOLock()
        self._sequential_message_types = tuple(sequential_message_types)
        self._topic_ids: dict[str, TopicId] = {}

    def _topic(self, topic_type: str) -> TopicId:
        """The topic of type ``topic_type`` in this agent's session (its key).

        What ``DefaultTopicId(type=...)`` gives inside a handler, built once per type
        instead of on every publish (topic ids are immutable and validated on creation).
        """
        topic = self._topic_ids.get(topic_type)
        if topic is None:
            topic = self._topic_ids[topic_type] = TopicId(topic_type, self.id.key)
        return topic

    async def on_message_impl(self, message: Any, ctx: MessageContext) -> Any:
        if not isinstance(message, self._sequential_message_types):
            return await super().on_message_impl(message, ctx)
        lock = self._fifo_lock
        # Uncontended (the usual case), taking the lock costs no coroutine.
        if not lock.try_acquire():
            await lock.acquire()
        try:
            return await super().on_message_impl(message, ctx)
        finally:
            lock.release()
