"""The memory monitor of a service process: relieve at warning, refuse new runs at critical.

``muster serve`` and ``muster worker`` each run a :class:`~muster.ops.MemoryMonitor`
(``memory`` settings) through a :class:`MemoryGuard`, which gives the monitor's levels
their service meaning:

- every check sets ``muster_memory_usage_ratio`` and ``muster_memory_level{level}``, and
  a change of level is logged (``WARNING`` up, ``INFO`` back to normal);
- at ``warning`` and ``critical`` every check collects garbage and empties the process's
  in-process caches (the shared response cache of ``cache.type: memory``): cached answers
  only save a model call, memory keeps the process alive;
- at ``critical`` the monitor's ``backpressure`` turns on: the API refuses new runs with
  429 and ``Retry-After`` (the same ``OverloadedError`` as a full queue), a worker gives
  new jobs back to the queue for another worker (or itself, later). It turns off only
  when usage is back under ``warning``, so the service does not flap at the threshold.

Usage is read by :func:`service_probe`: the container's cgroup (v2) limit when one is
set, since that limit, not the machine's memory, is what gets the process killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from muster.ops import MemoryMonitor, MemorySample

from .settings import ServiceSettings

__all__ = ["MemoryGuard", "service_probe"]

logger = logging.getLogger("muster.service.memory")

_CGROUP = Path("/sys/fs/cgroup")
_MB = 1024 * 1024


def service_probe() -> MemorySample:
    """Read memory use: the cgroup v2 limit if there is one, else the machine's memory.

    Linux is read from ``/sys/fs/cgroup`` and ``/proc`` (no dependency); elsewhere psutil
    (extra ``muster[ops]``) is needed.
    """
    rss = _process_rss()
    limited = _cgroup_sample(rss)
    if limited is not None:
        return limited
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        fields: dict[str, int] = {}
        for line in meminfo.read_text().splitlines():
            name, _, value = line.partition(":")
            parts = value.split()
            if parts and parts[0].isdigit():
                fields[name] = int(parts[0]) * 1024
        total, available = fields["MemTotal"], fields.get("MemAvailable", fields.get("MemFree", 0))
        return MemorySample(1.0 - available / total, rss / _MB, available / _MB)
    from muster.ops import psutil_probe

    return psutil_probe()


def _process_rss() -> float:
    statm = Path("/proc/self/statm")
    if statm.exists():
        return int(statm.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    try:
        import psutil
    except ImportError:
        return 0.0
    return float(psutil.Process().memory_info().rss)


def _cgroup_sample(rss: float) -> MemorySample | None:
    """The cgroup's working set (usage less reclaimable file cache) over its limit, if limited."""
    try:
        limit_text = (_CGROUP / "memory.max").read_text().strip()
        current = int((_CGROUP / "memory.current").read_text())
        stat = (_CGROUP / "memory.stat").read_text()
    except (OSError, ValueError):
        return None
    if not limit_text.isdigit():
        return None  # "max": no limit, the machine's memory is the bound
    limit = int(limit_text)
    inactive = 0
    for line in stat.splitlines():
        name, _, value = line.partition(" ")
        if name == "inactive_file" and value.strip().isdigit():
            inactive = int(value)
    used = max(current - inactive, 0)
    return MemorySample(min(used / limit, 1.0), rss / _MB, max(limit - used, 0) / _MB)


class MemoryGuard:
    """Runs a :class:`MemoryMonitor` every ``interval`` seconds and acts on its levels.

    Args:
        monitor: The monitor (its thresholds and probe). Its callbacks get the guard's.
        interval: Seconds between checks.
        metrics: The process's ``ServiceMetrics``, or ``None``.
        caches: In-process caches to empty at warning (anything with ``clear()``;
            ``None`` entries are skipped).
    """

    def __init__(
        self,
        monitor: MemoryMonitor,
        *,
        interval: float,
        metrics: Any = None,
        caches: Iterable[Any] = (),
    ) -> None:
        self.monitor = monitor
        self.interval = interval
        self.metrics = metrics
        self.caches = [c for c in caches if c is not None and callable(getattr(c, "clear", None))]
        self.level: str | None = None
        self.relieved = 0
        """How many checks collected garbage and emptied the caches."""
        self._task: asyncio.Task[None] | None = None
        for level in ("normal", "warning", "critical"):
            monitor.add_callback(level, self._observe)
        monitor.add_callback("warning", self._relieve)
        monitor.add_callback("critical", self._relieve)

    @classmethod
    def for_service(
        cls,
        settings: ServiceSettings,
        *,
        monitor: Any = None,
        metrics: Any = None,
        caches: Iterable[Any] = (),
        probe: Callable[[], MemorySample] | None = None,
    ) -> MemoryGuard | None:
        """The guard ``settings.memory`` asks for, around ``monitor`` if one is given.

        ``None`` when the monitor is off (``memory.enabled: false``) or the given one is
        not a :class:`MemoryMonitor` (anything with a ``backpressure`` flag is honoured by
        the API as is, unguarded).
        """
        config = settings.memory
        if monitor is None:
            if not config.enabled:
                return None
            monitor = MemoryMonitor(config.warning, config.critical, probe=probe or service_probe)
        if not isinstance(monitor, MemoryMonitor):
            return None
        return cls(monitor, interval=config.check_seconds, metrics=metrics, caches=caches)

    @property
    def backpressure(self) -> bool:
        """Whether new runs are refused (critical, until usage is back to normal)."""
        return self.monitor.backpressure

    def start(self) -> None:
        """Check now and then every ``interval`` seconds, in a task of the running loop."""
        if self._task is None:
            self._task = asyncio.create_task(
                self.monitor.start_monitoring(self.interval), name="muster memory monitor"
            )

    async def stop(self) -> None:
        """End the checks (after the one in progress)."""
        task, self._task = self._task, None
        if task is None:
            return
        self.monitor.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def _observe(self, status: dict[str, Any]) -> None:
        level = str(status["level"])
        usage = float(status["system_usage_percent"])
        if self.metrics is not None:
            self.metrics.set_memory(usage, level)
        if level != self.level:
            previous, self.level = self.level, level
            if level != "normal":
                logger.warning(
                    "memory %s: %.0f%% in use (process %.0f MB)%s",
                    level,
                    usage * 100,
                    status["process_memory_mb"],
                    "; new runs are refused" if self.backpressure else "",
                )
            elif previous is not None:
                logger.info("memory back to normal: %.0f%% in use; new runs are accepted", usage * 100)

    def _relieve(self, status: dict[str, Any]) -> None:
        gc.collect()
        for cache in self.caches:
            cache.clear()
        self.relieved += 1
