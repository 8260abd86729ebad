"""Groups messages for the same agents into batches and runs the batches concurrently."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, Self

from .exceptions import BatchAbortedError, BatchProcessorClosedError

__all__ = ["BatchProcessor", "RunnableAgent"]

logger = logging.getLogger(__name__)


class RunnableAgent(Protocol):
    """What the batch processor needs from an agent: AutoGen's ``run(task=...)``."""

    async def run(self, *, task: str) -> Any: ...


@dataclass(eq=False, slots=True)
class _Pending:
    message: Any
    agent: RunnableAgent
    future: asyncio.Future[Any]
    enqueued_at: float


class BatchProcessor:
    """Collects messages into batches, then runs each batch's agents concurrently.

    A batch closes when it holds ``batch_size`` messages or ``timeout`` seconds after its
    first message arrived, whichever comes first. Its messages are grouped by agent
    (identity, not equality); groups run concurrently, but one agent's messages run one
    after another, in arrival order, because an agent keeps conversation state and is
    not safe to run twice at once. Batches run one at a time for the same reason;
    messages arriving meanwhile form the next batch.

    Every caller gets its own outcome: the agent's result, or the exception its run
    raised, never another message's. If the collector itself stops (it is cancelled, or
    fails), every message it still held is resolved with :class:`BatchAbortedError`, so
    no caller waits forever.

    Args:
        batch_size: Most messages per batch (at least 1).
        timeout: Seconds a batch waits for more messages after its first one.
    """

    def __init__(self, batch_size: int = 10, timeout: float = 1.0) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if timeout < 0:
            raise ValueError(f"timeout must not be negative, got {timeout}")
        self.batch_size = batch_size
        self.timeout = timeout
        self._queue: deque[_Pending] = deque()
        self._in_flight: list[_Pending] = []
        self._arrived = asyncio.Event()
        self._collector: asyncio.Task[None] | None = None
        self._closing = False
        self._flushing = 0
        self._batches_run = 0

    @property
    def pending(self) -> int:
        """Messages submitted and not yet resolved."""
        return len(self._queue) + sum(1 for item in self._in_flight if not item.future.done())

    @property
    def batches_run(self) -> int:
        """Batches dispatched so far (for tests and metrics)."""
        return self._batches_run

    async def process_message(self, message: Any, agent: RunnableAgent) -> Any:
        """Queue ``message`` for ``agent`` and return what ``agent.run(task=str(message))`` returns.

        Raises:
            BatchProcessorClosedError: :meth:`close` was called.
            BatchAbortedError: the collector stopped before the message completed.
            Exception: whatever the agent's run raised for this message.
        """
        if self._closing:
            raise BatchProcessorClosedError()
        loop = asyncio.get_running_loop()
        item = _Pending(message, agent, loop.create_future(), loop.time())
        self._queue.append(item)
        self._arrived.set()
        if self._collector is None or self._collector.done():
            self._collector = loop.create_task(self._collect(), name="muster-batch-collector")
        # A caller that is cancelled cancels its future; the collector then skips the
        # message if it has not started it yet.
        return await item.future

    async def _collect(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._queue:
                deadline = self._queue[0].enqueued_at + self.timeout
                while len(self._queue) < self.batch_size and not (self._closing or self._flushing):
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        break
                    self._arrived.clear()
                    try:
                        # Waiting on an event, not on the queue, so a timeout never loses an item.
                        await asyncio.wait_for(self._arrived.wait(), remaining)
                    except TimeoutError:
                        break
                count = min(self.batch_size, len(self._queue))
                self._in_flight = [self._queue.popleft() for _ in range(count)]
                self._batches_run += 1
                await self._run_batch(self._in_flight)
                self._in_flight = []
        except Exception as exc:
            # Already logged and delivered to every caller: re-raising would only leave an
            # unretrieved task exception behind.
            logger.error("batch collector failed; aborting its messages", exc_info=True)
            self._abort(exc)
        except BaseException:
            self._abort(None)
            raise

    def _abort(self, cause: BaseException | None) -> None:
        abandoned = self._in_flight + list(self._queue)
        self._in_flight = []
        self._queue.clear()
        for item in abandoned:
            if not item.future.done():
                item.future.set_exception(BatchAbortedError(cause))

    async def _run_batch(self, batch: list[_Pending]) -> None:
        groups: dict[int, list[_Pending]] = {}
        for item in batch:
            groups.setdefault(id(item.agent), []).append(item)
        await asyncio.gather(*(self._run_group(items) for items in groups.values()))

    async def _run_group(self, items: list[_Pending]) -> None:
        for item in items:
            if item.future.done():
                continue  # the caller gave up before its turn
            try:
                result = await item.agent.run(task=str(item.message))
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise  # the collector is being cancelled: it aborts the rest
                # The agent's own run was cancelled from inside: that is this message's outcome.
                item.future.cancel()
            except Exception as exc:
                if not item.future.done():
                    item.future.set_exception(exc)
            else:
                if not item.future.done():
                    item.future.set_result(result)

    async def flush(self) -> None:
        """Run every queued message now, without waiting for batches to fill or time out."""
        if self._collector is None or self._collector.done():
            return
        self._flushing += 1
        self._arrived.set()
        try:
            # asyncio.wait, not await: the caller's cancellation must not reach the
            # collector, and a collector that died has already resolved its callers.
            await asyncio.wait({self._collector})
        finally:
            self._flushing -= 1

    async def close(self) -> None:
        """Refuse new messages, run the queued ones at once, and wait for them to finish."""
        self._closing = True
        self._arrived.set()
        if self._collector is not None and not self._collector.done():
            # Cancelling close() must not abort the messages being flushed.
            await asyncio.wait({self._collector})

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
