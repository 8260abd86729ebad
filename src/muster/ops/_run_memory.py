"""Does memory keep growing run after run? The check behind ``muster leaks SPEC --repeat N``.

A leak is memory that every run leaves behind, so the check runs the same work many times
and looks at the trend, not at one difference: after warm-up runs (first-use imports,
schema builds, caches filling to their bound), it records traced memory after every run
(garbage collected first) and fits a line through the readings. The slope is the growth
per run. The run *grows* when the slope is above the threshold and the last quarter of the
readings sits above the first quarter by at least half of what the slope predicts, so one
late spike cannot fail it and a true leak, which is steady, always does. The sites come
from tracemalloc snapshots taken after the warm-up and after the last run, divided by the
number of runs.
"""

from __future__ import annotations

import gc
import statistics
import tracemalloc
from array import array
from collections.abc import Awaitable, Callable
from typing import TypedDict

from ._leaks import GrowthSite, ObjectGrowth, _filtered, _object_types, growth_sites, suggestions_for

__all__ = ["DEFAULT_THRESHOLD_BYTES", "RunMemoryReport", "check_run_memory"]

DEFAULT_THRESHOLD_BYTES = 1024
"""Growth per run above which a run is said to leak (1 KiB: well above allocator noise)."""


class RunMemoryReport(TypedDict):
    """What :func:`check_run_memory` found."""

    runs: int
    warmup: int
    growing: bool
    growth_per_run_bytes: float
    """Slope of the line through the per-run readings."""
    threshold_bytes: float
    total_growth_bytes: int
    """Last reading minus the first."""
    baseline_bytes: int
    """Traced memory after the warm-up."""
    samples: list[int]
    """Traced bytes after each run."""
    top_sites: list[GrowthSite]
    """Where the growth was allocated; sizes and counts are per run."""
    object_growth: list[ObjectGrowth]
    """Object types whose count grew over the measured runs (totals, not per run)."""
    suggestions: list[str]


def _slope(samples: list[int]) -> float:
    n = len(samples)
    if n < 2:
        return 0.0
    mean_x = (n - 1) / 2
    mean_y = sum(samples) / n
    covariance = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(samples))
    variance = sum((x - mean_x) ** 2 for x in range(n))
    return covariance / variance


def _traced_after_collect() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


async def check_run_memory(
    run_once: Callable[[], Awaitable[object]],
    *,
    repeat: int = 200,
    warmup: int | None = None,
    threshold_bytes: float = DEFAULT_THRESHOLD_BYTES,
    top_n: int = 10,
    frames: int = 4,
    on_progress: Callable[[int, int], None] | None = None,
) -> RunMemoryReport:
    """Run ``run_once`` ``warmup + repeat`` times and report whether memory grows per run.

    Args:
        run_once: One complete run (build what it needs, run, release it).
        repeat: Measured runs (at least 4).
        warmup: Unmeasured runs first; default ``max(3, repeat // 10)``.
        threshold_bytes: Growth per run from which the run counts as leaking.
        top_n: Growth sites and object types to report.
        frames: Frames tracemalloc keeps per allocation: deeper sites, but each frame slows the
            runs (at 4, a 3-agent replay team runs about 8x slower than untraced).
        on_progress: Called with ``(done, total)`` after every run, warm-up included.
    """
    if repeat < 4:
        raise ValueError(f"repeat must be at least 4 to see a trend, got {repeat}")
    warmup = max(3, repeat // 10) if warmup is None else warmup
    total = warmup + repeat
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start(frames)
    try:
        for done in range(1, warmup + 1):
            await run_once()
            if on_progress is not None:
                on_progress(done, total)
        baseline = _traced_after_collect()
        first = _filtered(tracemalloc.take_snapshot())
        types_before = _object_types()
        # Everything alive now is the baseline: frozen, the collector stops rescanning it
        # after every run, which in a big process (a test session, a service) is most of the
        # cost of a run. Objects made from here on are still collected as usual.
        gc.freeze()
        # Preallocated, so recording a reading allocates nothing that would show as growth.
        readings = array("q", bytes(8 * repeat))
        for index in range(repeat):
            await run_once()
            readings[index] = _traced_after_collect()
            if on_progress is not None:
                on_progress(warmup + index + 1, total)
        last = _filtered(tracemalloc.take_snapshot())
        types_after = _object_types()
    finally:
        gc.unfreeze()
        if started:
            tracemalloc.stop()
    samples = readings.tolist()
    slope = _slope(samples)
    quarter = max(1, repeat // 4)
    rise = statistics.median(samples[-quarter:]) - statistics.median(samples[:quarter])
    steady = rise >= 0.5 * slope * (repeat - quarter)
    growing = slope > threshold_bytes and steady
    sites = growth_sites(first, last, top_n, per=repeat)
    objects = sorted(
        (
            ObjectGrowth(
                type=name,
                before=types_before.get(name, 0),
                after=count,
                growth=count - types_before.get(name, 0),
            )
            for name, count in types_after.items()
            if count > types_before.get(name, 0)
        ),
        key=lambda entry: -entry["growth"],
    )[:top_n]
    if growing:
        advice = suggestions_for(sites, objects, samples[-1] - baseline)
    else:
        advice = [
            f"Memory is flat: {slope:+.0f} bytes per run over {repeat} runs "
            f"(threshold {threshold_bytes:.0f}); nothing to fix."
        ]
    return RunMemoryReport(
        runs=repeat,
        warmup=warmup,
        growing=growing,
        growth_per_run_bytes=slope,
        threshold_bytes=threshold_bytes,
        total_growth_bytes=samples[-1] - samples[0],
        baseline_bytes=baseline,
        samples=samples,
        top_sites=sites,
        object_growth=objects,
        suggestions=advice,
    )
