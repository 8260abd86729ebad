"""What the process used while a diagnosed run ran: memory, CPU, threads, open files.

psutil (extra ``muster[ops]``) reads the process; it is imported on first use. CPU is the
process's CPU time over the run's wall time rather than psutil's ``cpu_percent()``, whose
first reading in a process is always 0.0: the figure then says how busy this process was
during the run, which is what a "CPU-bound or waiting?" question needs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, TypedDict

__all__ = ["ResourceProbe", "ResourceUsage"]


class ResourceUsage(TypedDict):
    """The seed's ``resource_usage``: figures for the process at the end of the run."""

    memory_mb: float
    """Resident memory (RSS) after the run."""
    memory_delta_mb: float
    """RSS after minus RSS before the run."""
    cpu_percent: float
    """Process CPU time during the run over its wall time, in percent (above 100 with threads)."""
    cpu_time_s: float
    """Process CPU time (user + system) spent during the run."""
    thread_count: int
    open_files: int


def _process() -> Any:
    try:
        import psutil
    except ImportError as exc:  # pragma: no cover - psutil ships with the ops extra
        raise ImportError("resource usage needs psutil: pip install 'muster[ops]'") from exc
    return psutil.Process()


@dataclass(slots=True)
class ResourceProbe:
    """Readings taken before a run, turned into :class:`ResourceUsage` after it."""

    process: Any
    rss_before: int
    cpu_before: float
    wall_before: float

    @classmethod
    def start(cls) -> ResourceProbe:
        """Read the process now, before the run."""
        process = _process()
        return cls(process, process.memory_info().rss, time.process_time(), time.perf_counter())

    def finish(self) -> ResourceUsage:
        """Read the process again and report what the run used."""
        wall = max(time.perf_counter() - self.wall_before, 1e-9)
        cpu = time.process_time() - self.cpu_before
        rss = self.process.memory_info().rss
        try:
            open_files = len(self.process.open_files())
        except Exception:  # some platforms refuse; the other figures still stand
            open_files = -1
        return ResourceUsage(
            memory_mb=rss / 1024 / 1024,
            memory_delta_mb=(rss - self.rss_before) / 1024 / 1024,
            cpu_percent=cpu / wall * 100.0,
            cpu_time_s=cpu,
            thread_count=self.process.num_threads(),
            open_files=open_files,
        )
