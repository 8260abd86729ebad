"""BatchProcessor: batching, grouping, isolation of failures, flushing, collector death."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from muster.ops import BatchAbortedError, BatchProcessor, BatchProcessorClosedError


class RecordingAgent:
    """Duck-typed agent: records tasks, can block on a gate, fails on request."""

    def __init__(self, name: str, gate: asyncio.Event | None = None) -> None:
        self.name = name
        self.gate = gate
        self.tasks: list[str] = []
        self.running = 0
        self.max_running = 0
        self.started = asyncio.Event()

    async def run(self, *, task: str) -> str:
        self.tasks.append(task)
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        self.started.set()
        try:
            if self.gate is not None:
                await self.gate.wait()
            if task.startswith("fail"):
                raise ValueError(f"{self.name} failed on {task}")
            if task.startswith("cancel"):
                raise asyncio.CancelledError
            return f"{self.name}:{task}"
        finally:
            self.running -= 1


def within(awaitable: Any, seconds: float = 5.0) -> Any:
    return asyncio.wait_for(awaitable, seconds)


async def test_full_batch_runs_without_waiting_for_the_timeout() -> None:
    agent = RecordingAgent("a")
    processor = BatchProcessor(batch_size=3, timeout=3600)
    results = await within(asyncio.gather(*(processor.process_message(i, agent) for i in range(3))))
    assert results == ["a:0", "a:1", "a:2"]
    assert processor.batches_run == 1


async def test_partial_batch_is_flushed_by_the_timeout() -> None:
    agent = RecordingAgent("a")
    processor = BatchProcessor(batch_size=10, timeout=0.02)
    results = await within(
        asyncio.gather(processor.process_message("x", agent), processor.process_message("y", agent))
    )
    assert results == ["a:x", "a:y"]
    assert processor.batches_run == 1


async def test_groups_run_concurrently_but_one_agent_runs_sequentially_in_order() -> None:
    gate = asyncio.Event()
    slow = RecordingAgent("slow", gate)
    fast = RecordingAgent("fast")
    processor = BatchProcessor(batch_size=4, timeout=3600)
    calls = [
        processor.process_message("s1", slow),
        processor.process_message("f1", fast),
        processor.process_message("s2", slow),
        processor.process_message("f2", fast),
    ]
    tasks = [asyncio.create_task(c) for c in calls]
    await within(slow.started.wait())
    # The fast agent's group finishes while the slow agent is still blocked.
    assert await within(asyncio.gather(tasks[1], tasks[3])) == ["fast:f1", "fast:f2"]
    assert slow.tasks == ["s1"]
    gate.set()
    assert await within(asyncio.gather(tasks[0], tasks[2])) == ["slow:s1", "slow:s2"]
    assert slow.max_running == 1 and slow.tasks == ["s1", "s2"]


async def test_one_failure_does_not_touch_the_others() -> None:
    agent = RecordingAgent("a")
    processor = BatchProcessor(batch_size=3, timeout=3600)
    outcomes = await within(
        asyncio.gather(
            processor.process_message("ok1", agent),
            processor.process_message("fail-me", agent),
            processor.process_message("ok2", agent),
            return_exceptions=True,
        )
    )
    assert outcomes[0] == "a:ok1" and outcomes[2] == "a:ok2"
    assert isinstance(outcomes[1], ValueError) and "fail-me" in str(outcomes[1])


async def test_an_agent_cancelling_its_own_run_only_cancels_that_caller() -> None:
    agent = RecordingAgent("a")
    processor = BatchProcessor(batch_size=2, timeout=3600)
    outcomes = await within(
        asyncio.gather(
            processor.process_message("cancel-me", agent),
            processor.process_message("fine", agent),
            return_exceptions=True,
        )
    )
    assert isinstance(outcomes[0], asyncio.CancelledError)
    assert outcomes[1] == "a:fine"


async def test_messages_arriving_during_a_batch_are_not_stranded() -> None:
    gate = asyncio.Event()
    agent = RecordingAgent("a", gate)
    processor = BatchProcessor(batch_size=1, timeout=3600)
    first = asyncio.create_task(processor.process_message("1", agent))
    await within(agent.started.wait())
    later = [asyncio.create_task(processor.process_message(str(i), agent)) for i in (2, 3)]
    gate.set()
    assert await within(asyncio.gather(first, *later)) == ["a:1", "a:2", "a:3"]
    assert processor.batches_run == 3


async def test_dead_collector_resolves_every_waiting_caller() -> None:
    gate = asyncio.Event()
    agent = RecordingAgent("a", gate)
    processor = BatchProcessor(batch_size=1, timeout=3600)
    running = asyncio.create_task(processor.process_message("in-flight", agent))
    await within(agent.started.wait())
    queued = asyncio.create_task(processor.process_message("queued", agent))
    await asyncio.sleep(0)
    assert processor.pending == 2
    assert processor._collector is not None
    processor._collector.cancel()
    for task in (running, queued):
        with pytest.raises(BatchAbortedError):
            await within(task)
    assert processor.pending == 0
    # The processor recovers: a new message starts a new collector.
    gate.set()
    assert await within(processor.process_message("after", agent)) == "a:after"


async def test_collector_crash_is_reported_to_callers(monkeypatch: pytest.MonkeyPatch) -> None:
    processor = BatchProcessor(batch_size=1, timeout=3600)

    async def broken(batch: list[Any]) -> None:
        raise RuntimeError("grouping bug")

    monkeypatch.setattr(processor, "_run_batch", broken)
    with pytest.raises(BatchAbortedError) as info:
        await within(processor.process_message("x", RecordingAgent("a")))
    assert isinstance(info.value.cause, RuntimeError)


async def test_close_flushes_pending_and_refuses_new_messages() -> None:
    agent = RecordingAgent("a")
    processor = BatchProcessor(batch_size=100, timeout=3600)
    tasks = [asyncio.create_task(processor.process_message(i, agent)) for i in range(3)]
    await asyncio.sleep(0)
    await within(processor.close())
    assert [t.result() for t in tasks] == ["a:0", "a:1", "a:2"]
    with pytest.raises(BatchProcessorClosedError):
        await processor.process_message("late", agent)


async def test_async_with_flushes_on_exit() -> None:
    agent = RecordingAgent("a")
    async with BatchProcessor(batch_size=100, timeout=3600) as processor:
        task = asyncio.create_task(processor.process_message("m", agent))
        await asyncio.sleep(0)
    assert task.result() == "a:m"


async def test_flush_runs_now_and_keeps_accepting() -> None:
    agent = RecordingAgent("a")
    processor = BatchProcessor(batch_size=100, timeout=3600)
    task = asyncio.create_task(processor.process_message("m", agent))
    await asyncio.sleep(0)
    await within(processor.flush())
    assert task.result() == "a:m"
    second = asyncio.create_task(processor.process_message("n", agent))
    await asyncio.sleep(0)
    await within(processor.close())
    assert second.result() == "a:n"


async def test_cancelled_caller_is_skipped() -> None:
    gate = asyncio.Event()
    agent = RecordingAgent("a", gate)
    processor = BatchProcessor(batch_size=2, timeout=3600)
    blocker = asyncio.create_task(processor.process_message("first", agent))
    abandoned = asyncio.create_task(processor.process_message("abandoned", agent))
    await within(agent.started.wait())
    abandoned.cancel()
    gate.set()
    assert await within(blocker) == "a:first"
    with pytest.raises(asyncio.CancelledError):
        await abandoned
    assert agent.tasks == ["first"]


@pytest.mark.parametrize("kwargs", [{"batch_size": 0}, {"timeout": -1}])
def test_rejects_bad_settings(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        BatchProcessor(**kwargs)


async def test_close_after_the_collector_was_cancelled_does_not_raise() -> None:
    gate = asyncio.Event()
    agent = RecordingAgent("a", gate)
    processor = BatchProcessor(batch_size=1, timeout=3600)
    task = asyncio.create_task(processor.process_message("m", agent))
    await within(agent.started.wait())
    assert processor._collector is not None
    processor._collector.cancel()
    closing = asyncio.create_task(processor.close())
    with pytest.raises(BatchAbortedError):
        await within(task)
    await within(closing)
