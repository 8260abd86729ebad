"""MemoryMonitor: levels, callbacks (sync, async, failing), backpressure, the monitoring loop."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from muster.ops import MemoryMonitor, MemorySample, psutil_probe


class ScriptedProbe:
    """Returns the usage fractions it is given, one per reading (the last one repeats)."""

    def __init__(self, *usages: float) -> None:
        self.usages = list(usages)
        self.readings = 0

    def __call__(self) -> MemorySample:
        usage = self.usages[min(self.readings, len(self.usages) - 1)]
        self.readings += 1
        return MemorySample(system_usage_percent=usage, process_memory_mb=100.0, available_memory_mb=900.0)


@pytest.mark.parametrize(
    ("usage", "level"),
    [
        (0.0, "normal"),
        (0.79, "normal"),
        (0.8, "warning"),
        (0.89, "warning"),
        (0.9, "critical"),
        (1.0, "critical"),
    ],
)
def test_levels_follow_the_thresholds(usage: float, level: str) -> None:
    monitor = MemoryMonitor(probe=ScriptedProbe(usage))
    status = monitor.check_memory()
    assert status == {
        "system_usage_percent": usage,
        "process_memory_mb": 100.0,
        "available_memory_mb": 900.0,
        "level": level,
    }
    assert monitor.last_status == status


def test_only_the_matching_level_callbacks_run() -> None:
    seen: list[tuple[str, float]] = []
    monitor = MemoryMonitor(probe=ScriptedProbe(0.5, 0.85, 0.95))
    for level in ("normal", "warning", "critical"):
        monitor.add_callback(
            level, lambda status, level=level: seen.append((level, status["system_usage_percent"]))
        )
    for _ in range(3):
        monitor.check_memory()
    assert seen == [("normal", 0.5), ("warning", 0.85), ("critical", 0.95)]


def test_unknown_level_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown memory level 'severe'"):
        MemoryMonitor(probe=ScriptedProbe(0.1)).add_callback("severe", lambda status: None)


@pytest.mark.parametrize(("warning", "critical"), [(0.9, 0.8), (0.0, 0.5), (0.5, 1.5)])
def test_inconsistent_thresholds_are_rejected(warning: float, critical: float) -> None:
    with pytest.raises(ValueError, match="thresholds"):
        MemoryMonitor(warning, critical, probe=ScriptedProbe(0.1))


def test_failing_callback_is_logged_and_the_next_still_runs(caplog: pytest.LogCaptureFixture) -> None:
    ran: list[str] = []
    monitor = MemoryMonitor(probe=ScriptedProbe(0.95))

    def broken(status: dict[str, Any]) -> None:
        raise RuntimeError("cleanup exploded")

    monitor.add_callback("critical", broken)
    monitor.add_callback("critical", lambda status: ran.append("second"))
    with caplog.at_level(logging.ERROR, logger="muster.ops"):
        status = monitor.check_memory()
    assert status["level"] == "critical"
    assert ran == ["second"]
    assert "cleanup exploded" in caplog.text


def test_backpressure_turns_on_at_critical_and_off_only_at_normal() -> None:
    monitor = MemoryMonitor(probe=ScriptedProbe(0.5, 0.95, 0.85, 0.5, 0.85))
    states = []
    for _ in range(5):
        monitor.check_memory()
        states.append(monitor.backpressure)
    assert states == [False, True, True, False, False]


async def test_async_callbacks_are_awaited_by_acheck_memory(caplog: pytest.LogCaptureFixture) -> None:
    done = asyncio.Event()
    monitor = MemoryMonitor(probe=ScriptedProbe(0.85))

    async def on_warning(status: dict[str, Any]) -> None:
        done.set()

    async def failing(status: dict[str, Any]) -> None:
        raise OSError("cannot shed")

    monitor.add_callback("warning", failing)
    monitor.add_callback("warning", on_warning)
    await monitor.acheck_memory()
    assert done.is_set()
    assert "cannot shed" in caplog.text


async def test_async_callbacks_are_scheduled_by_sync_check(caplog: pytest.LogCaptureFixture) -> None:
    done = asyncio.Event()
    monitor = MemoryMonitor(probe=ScriptedProbe(0.85))

    async def on_warning(status: dict[str, Any]) -> None:
        done.set()
        raise OSError("after the fact")

    monitor.add_callback("warning", on_warning)
    monitor.check_memory()
    await asyncio.wait_for(done.wait(), 5)
    await asyncio.wait_for(asyncio.gather(*monitor._background), 5)
    assert "async memory callback failed" in caplog.text


def test_async_callback_without_a_loop_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    called = False

    async def on_warning(status: dict[str, Any]) -> None:
        nonlocal called
        called = True

    monitor = MemoryMonitor(probe=ScriptedProbe(0.85))
    monitor.add_callback("warning", on_warning)
    monitor.check_memory()
    assert not called
    assert "running event loop" in caplog.text


async def test_monitoring_loop_checks_until_stopped() -> None:
    probe = ScriptedProbe(0.5)
    monitor = MemoryMonitor(probe=probe)
    third = asyncio.Event()
    monitor.add_callback("normal", lambda status: third.set() if probe.readings >= 3 else None)
    task = asyncio.create_task(monitor.start_monitoring(interval=0.001))
    await asyncio.wait_for(third.wait(), 5)
    monitor.stop()
    await asyncio.wait_for(task, 5)
    assert task.done() and not task.cancelled()


async def test_monitoring_loop_survives_a_failing_probe_and_can_be_cancelled(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recovered = asyncio.Event()
    calls = 0

    def flaky() -> MemorySample:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("/proc unreadable")
        recovered.set()
        return MemorySample(0.1, 1.0, 1.0)

    monitor = MemoryMonitor(probe=flaky)
    task = asyncio.create_task(monitor.start_monitoring(interval=0.001))
    await asyncio.wait_for(recovered.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert "memory check failed" in caplog.text


async def test_rejects_non_positive_interval() -> None:
    with pytest.raises(ValueError, match="interval"):
        await MemoryMonitor(probe=ScriptedProbe(0.1)).start_monitoring(interval=0)


def test_psutil_probe_reads_real_numbers() -> None:
    sample = psutil_probe()
    assert 0.0 < sample.system_usage_percent <= 1.0
    assert sample.process_memory_mb > 1.0
    assert sample.available_memory_mb > 0.0
    status = MemoryMonitor().check_memory()
    assert status["level"] in ("normal", "warning", "critical")


async def test_stop_right_after_starting_the_task_ends_it_before_any_check() -> None:
    probe = ScriptedProbe(0.5)
    monitor = MemoryMonitor(probe=probe)
    task = asyncio.create_task(monitor.start_monitoring(interval=0.001))
    monitor.stop()  # the task has not run a single step yet
    await asyncio.wait_for(task, 10)
    assert probe.readings == 0


async def test_stop_twice_is_harmless() -> None:
    probe = ScriptedProbe(0.5)
    monitor = MemoryMonitor(probe=probe)
    task = asyncio.create_task(monitor.start_monitoring(interval=0.001))
    monitor.stop()
    monitor.stop()
    await asyncio.wait_for(task, 10)
    monitor.stop()  # and after the run ended
    assert task.done() and not task.cancelled()


async def test_stop_during_the_first_check_ends_the_run_after_it() -> None:
    monitor: MemoryMonitor

    def stopping_probe() -> MemorySample:
        monitor.stop()
        return MemorySample(0.5, 1.0, 1.0)

    monitor = MemoryMonitor(probe=stopping_probe)
    checked: list[str] = []
    monitor.add_callback("normal", lambda status: checked.append(status["level"]))
    await asyncio.wait_for(monitor.start_monitoring(interval=3600), 10)
    assert checked == ["normal"]


async def test_stop_before_start_does_not_stop_a_later_run() -> None:
    probe = ScriptedProbe(0.5)
    monitor = MemoryMonitor(probe=probe)
    monitor.stop()  # nothing to stop yet: a no-op, not a trap for the next run
    second = asyncio.Event()
    monitor.add_callback("normal", lambda status: second.set() if probe.readings >= 2 else None)
    task = asyncio.create_task(monitor.start_monitoring(interval=0.001))
    await asyncio.wait_for(second.wait(), 10)
    monitor.stop()
    await asyncio.wait_for(task, 10)
    # Restartable: a new run after a stop checks again.
    third = asyncio.Event()
    monitor.add_callback("normal", lambda status: third.set())
    task = asyncio.create_task(monitor.start_monitoring(interval=0.001))
    await asyncio.wait_for(third.wait(), 10)
    monitor.stop()
    await asyncio.wait_for(task, 10)
