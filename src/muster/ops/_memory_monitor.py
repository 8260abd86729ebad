"""Watches system memory and tells the application when to shed load."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal, get_args

__all__ = ["MemoryCallback", "MemoryLevel", "MemoryMonitor", "MemorySample", "psutil_probe"]

logger = logging.getLogger(__name__)

MemoryLevel = Literal["normal", "warning", "critical"]
_LEVELS: tuple[str, ...] = get_args(MemoryLevel)

MemoryCallback = Callable[[dict[str, Any]], Awaitable[None] | None]
"""Receives the status dict of :meth:`MemoryMonitor.check_memory`; may be sync or async."""


@dataclass(frozen=True, slots=True)
class MemorySample:
    """One reading of memory use."""

    system_usage_percent: float
    """Fraction of system memory in use, 0.0-1.0 (the seed's name, despite "percent")."""
    process_memory_mb: float
    """Resident memory of this process."""
    available_memory_mb: float
    """System memory still available."""


def psutil_probe() -> MemorySample:
    """Read memory use with psutil (extra ``muster[ops]``), imported on first use."""
    import psutil

    system = psutil.virtual_memory()
    rss = psutil.Process().memory_info().rss
    return MemorySample(
        system_usage_percent=system.percent / 100.0,
        process_memory_mb=rss / 1024 / 1024,
        available_memory_mb=system.available / 1024 / 1024,
    )


class MemoryMonitor:
    """Classifies memory use as normal, warning or critical and calls back on each check.

    Every :meth:`check_memory` runs the callbacks registered for the level it finds, so a
    warning callback (say ``gc.collect``) keeps firing while memory stays high. A failing
    callback is logged and the others still run: monitoring must never take the
    application down. :attr:`backpressure` turns on at critical and off only when usage
    is back to normal, not merely to warning, so a service does not flap between
    accepting and refusing work around the critical threshold.

    Args:
        warning_threshold: Usage fraction (0-1) from which the level is ``"warning"``.
        critical_threshold: Usage fraction from which the level is ``"critical"``.
        probe: Returns a :class:`MemorySample`; defaults to :func:`psutil_probe`. Tests
            inject one to drive the levels.
    """

    def __init__(
        self,
        warning_threshold: float = 0.8,
        critical_threshold: float = 0.9,
        *,
        probe: Callable[[], MemorySample] | None = None,
    ) -> None:
        if not 0.0 < warning_threshold <= critical_threshold <= 1.0:
            raise ValueError(
                "thresholds must satisfy 0 < warning <= critical <= 1, "
                f"got warning={warning_threshold}, critical={critical_threshold}"
            )
        self.warning_threshold = warning_threshold
        self.critical_threshold = critical_threshold
        self._probe = probe or psutil_probe
        self.callbacks: dict[str, list[MemoryCallback]] = {level: [] for level in _LEVELS}
        self._backpressure = False
        self._last_status: dict[str, Any] | None = None
        # One stop event per run of start_monitoring, registered when the run is created.
        self._runs: set[asyncio.Event] = set()
        self._background: set[asyncio.Task[None]] = set()

    @property
    def backpressure(self) -> bool:
        """Whether new work should be refused: set at critical, cleared back at normal."""
        return self._backpressure

    @property
    def last_status(self) -> dict[str, Any] | None:
        """The status dict of the latest check, or ``None`` before the first."""
        return self._last_status

    def add_callback(self, level: str, callback: MemoryCallback) -> None:
        """Call ``callback(status)`` on every check that finds ``level``.

        Raises:
            ValueError: ``level`` is not ``"normal"``, ``"warning"`` or ``"critical"``.
        """
        if level not in self.callbacks:
            raise ValueError(f"unknown memory level {level!r}; expected one of {', '.join(_LEVELS)}")
        self.callbacks[level].append(callback)

    def level_for(self, usage: float) -> MemoryLevel:
        """The level a usage fraction falls in."""
        if usage >= self.critical_threshold:
            return "critical"
        if usage >= self.warning_threshold:
            return "warning"
        return "normal"

    def _sample(self) -> dict[str, Any]:
        sample = self._probe()
        level = self.level_for(sample.system_usage_percent)
        if level == "critical":
            self._backpressure = True
        elif level == "normal":
            self._backpressure = False
        status: dict[str, Any] = {
            "system_usage_percent": sample.system_usage_percent,
            "process_memory_mb": sample.process_memory_mb,
            "available_memory_mb": sample.available_memory_mb,
            "level": level,
        }
        self._last_status = status
        return status

    def check_memory(self) -> dict[str, Any]:
        """Take a reading, update :attr:`backpressure` and run the level's callbacks.

        Sync callbacks run here; async ones are scheduled on the running loop (and logged
        if no loop runs). Use :meth:`acheck_memory` to wait for async callbacks.

        Returns:
            ``system_usage_percent`` (fraction), ``process_memory_mb``,
            ``available_memory_mb`` and ``level``.
        """
        status = self._sample()
        for callback in list(self.callbacks[status["level"]]):
            outcome = self._call(callback, status)
            if outcome is not None:
                self._schedule(outcome)
        return status

    async def acheck_memory(self) -> dict[str, Any]:
        """Like :meth:`check_memory`, but awaits async callbacks, one after another."""
        status = self._sample()
        for callback in list(self.callbacks[status["level"]]):
            outcome = self._call(callback, status)
            if outcome is not None:
                try:
                    await outcome
                except Exception:
                    logger.error("memory %s callback %r failed", status["level"], callback, exc_info=True)
        return status

    def _call(self, callback: MemoryCallback, status: dict[str, Any]) -> Awaitable[None] | None:
        try:
            outcome = callback(status)
        except Exception:
            logger.error("memory %s callback %r failed", status["level"], callback, exc_info=True)
            return None
        return outcome if inspect.isawaitable(outcome) else None

    def _schedule(self, outcome: Awaitable[None]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            logger.error("an async memory callback needs a running event loop; use acheck_memory()")
            if inspect.iscoroutine(outcome):
                outcome.close()
            return

        async def guarded() -> None:
            try:
                await outcome
            except Exception:
                logger.error("async memory callback failed", exc_info=True)

        task = loop.create_task(guarded())
        # Held until done: the loop keeps only weak references to tasks.
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def start_monitoring(self, interval: float = 30.0) -> Coroutine[Any, Any, None]:
        """Check every ``interval`` seconds until :meth:`stop` is called or the task is cancelled.

        Run it as a task (``asyncio.create_task(monitor.start_monitoring())``); a failing
        probe is logged and retried at the next interval.

        The run is registered when this method is *called*, not when its coroutine first
        runs: a :meth:`stop` that comes right after ``create_task``, before the task took
        a step, still ends the run (before any check). That is why this is a plain method
        returning a coroutine rather than an ``async def``.

        Raises:
            ValueError: ``interval`` is not positive (at call time).
        """
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval}")
        # An asyncio.Event binds to a loop only when first waited on, so it can be made here.
        stop = asyncio.Event()
        self._runs.add(stop)
        return self._monitor(interval, stop)

    async def _monitor(self, interval: float, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    await self.acheck_memory()
                except Exception:
                    logger.error("memory check failed", exc_info=True)
                if stop.is_set():
                    break
                try:
                    await asyncio.wait_for(stop.wait(), interval)
                except TimeoutError:
                    pass
        finally:
            self._runs.discard(stop)

    def stop(self) -> None:
        """End every run started so far, after its current check (or before its first).

        Safe at any time: before any run (it does nothing, and does not stop a later
        run), twice, or right after starting one.
        """
        runs, self._runs = self._runs, set()
        for stop in runs:
            stop.set()
