"""MemoryLeakDetector: labelled tracemalloc snapshots, what grew between the first and the last.

The seed's detector printed the top ``compare_to`` lines and the most common object types.
This one returns the figures (growth sites with their tracebacks, object types whose count
grew between the first and the last snapshot) so a test or a CI job can act on them, and its
suggestions name the kind of site that grew. Snapshots leave out the allocations of
tracemalloc and of this module, which would otherwise show as growth of their own.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections import Counter
from dataclasses import dataclass, field
from typing import TypedDict

__all__ = ["GrowthSite", "LeakReport", "LeakSnapshot", "MemoryLeakDetector", "ObjectGrowth", "growth_sites"]


class GrowthSite(TypedDict):
    """Where memory grew: the allocating line and the frames that led to it."""

    site: str
    """``file:line`` of the innermost frame."""
    size_bytes: int
    """Bytes allocated there and still alive, more than at the first snapshot."""
    count: int
    """Blocks (objects) more than at the first snapshot."""
    traceback: list[str]
    """``file:line`` frames, outermost first (as many as tracemalloc kept)."""


class ObjectGrowth(TypedDict):
    """An object type whose live count grew."""

    type: str
    before: int
    after: int
    growth: int


class LeakSnapshot(TypedDict):
    """One labelled snapshot, summarised."""

    label: str
    time: float
    traced_bytes: int
    objects: int


class LeakReport(TypedDict):
    """What :meth:`MemoryLeakDetector.analyze_leaks` returns."""

    snapshots: list[LeakSnapshot]
    growth_bytes: int
    """Traced memory at the last snapshot minus at the first."""
    top_growth: list[GrowthSite]
    object_growth: list[ObjectGrowth]
    suggestions: list[str]


@dataclass(slots=True)
class _Snapshot:
    label: str
    time: float
    snapshot: tracemalloc.Snapshot
    types: Counter[str] = field(default_factory=Counter)


_IGNORED = (tracemalloc.__file__, __file__)


def _filtered(snapshot: tracemalloc.Snapshot) -> tracemalloc.Snapshot:
    return snapshot.filter_traces([tracemalloc.Filter(False, path) for path in _IGNORED])


def growth_sites(
    first: tracemalloc.Snapshot, last: tracemalloc.Snapshot, top_n: int, *, per: int = 1
) -> list[GrowthSite]:
    """The ``top_n`` sites that grew most from ``first`` to ``last`` (sizes divided by ``per``)."""
    sites: list[GrowthSite] = []
    for stat in last.compare_to(first, "traceback"):
        if stat.size_diff <= 0:
            continue
        # tracemalloc orders a traceback from the oldest frame to the allocating one.
        frames = [f"{frame.filename}:{frame.lineno}" for frame in stat.traceback]
        sites.append(
            GrowthSite(
                site=frames[-1] if frames else "?",
                size_bytes=stat.size_diff // per,
                count=stat.count_diff // per,
                traceback=frames,
            )
        )
        if len(sites) >= top_n:
            break
    return sites


def _object_types() -> Counter[str]:
    return Counter(type(obj).__name__ for obj in gc.get_objects())


def suggestions_for(sites: list[GrowthSite], objects: list[ObjectGrowth], growth_bytes: int) -> list[str]:
    """Advice for the kinds of site and object that grew (shared with the repeated-run check)."""
    found: list[str] = []

    def add(text: str) -> None:
        if text not in found:
            found.append(text)

    for site in sites[:5]:
        frames = " ".join(site["traceback"]).lower()
        if "asyncio" in frames:
            add(
                "Tasks or futures are piling up: await or cancel every task you start, and close what you open."
            )
        elif "cache" in frames:
            add(
                "A cache keeps growing: give it a size bound or a TTL (muster.cache_store stores are bounded)."
            )
        elif "/muster/teams/" in frames or "/muster/agents/" in frames:
            add("Agents or teams stay alive: call team.close() (or reuse one team) instead of dropping them.")
        elif "/muster/model_context/" in frames:
            add("A model context holds every message: use a bounded one (BufferedChatCompletionContext).")
    grown = {entry["type"] for entry in objects[:10]}
    if grown & {"TextMessage", "ToolCallSummaryMessage", "UserMessage", "AssistantMessage"}:
        add("Messages accumulate: keep results and histories bounded, or drop them once handled.")
    if grown & {"Task", "Future", "_GatheringFuture"}:
        add("Tasks or futures are piling up: await or cancel every task you start, and close what you open.")
    if not found and growth_bytes > 0 and sites:
        add(f"Memory grew most at {sites[0]['site']}: check what keeps those objects referenced.")
    if not found:
        add("No growth worth acting on between the first and the last snapshot.")
    return found


class MemoryLeakDetector:
    """Takes labelled memory snapshots and reports what grew between the first and the last.

    Args:
        frames: Frames tracemalloc keeps per allocation (more: clearer sites, slower runs).
    """

    def __init__(self, frames: int = 10) -> None:
        self.frames = frames
        self.snapshots: list[_Snapshot] = []
        self.tracking = False
        self._started_tracemalloc = False

    def start_tracking(self) -> None:
        """Start tracemalloc (unless already on) and take the ``baseline`` snapshot."""
        if not tracemalloc.is_tracing():
            tracemalloc.start(self.frames)
            self._started_tracemalloc = True
        self.tracking = True
        self.snapshots.clear()
        self.take_snapshot("baseline")

    def take_snapshot(self, label: str) -> LeakSnapshot | None:
        """Collect garbage, then snapshot traced memory and live object counts.

        Returns ``None`` (and records nothing) when tracking is off, as in the seed.
        """
        if not self.tracking:
            return None
        gc.collect()
        snapshot = _filtered(tracemalloc.take_snapshot())
        entry = _Snapshot(label, time.time(), snapshot, _object_types())
        self.snapshots.append(entry)
        return self._summary(entry)

    @staticmethod
    def _summary(entry: _Snapshot) -> LeakSnapshot:
        traced = sum(stat.size for stat in entry.snapshot.statistics("filename"))
        return LeakSnapshot(
            label=entry.label, time=entry.time, traced_bytes=traced, objects=sum(entry.types.values())
        )

    def analyze_leaks(self, top_n: int = 10) -> LeakReport:
        """Compare the first and the last snapshots.

        Raises:
            ValueError: fewer than two snapshots were taken.
        """
        if len(self.snapshots) < 2:
            raise ValueError("need at least two snapshots to compare (start_tracking, then take_snapshot)")
        first, last = self.snapshots[0], self.snapshots[-1]
        summaries = [self._summary(entry) for entry in self.snapshots]
        sites = growth_sites(first.snapshot, last.snapshot, top_n)
        objects = [
            ObjectGrowth(
                type=name,
                before=first.types.get(name, 0),
                after=count,
                growth=count - first.types.get(name, 0),
            )
            for name, count in last.types.items()
            if count > first.types.get(name, 0)
        ]
        objects.sort(key=lambda entry: -entry["growth"])
        objects = objects[:top_n]
        growth = summaries[-1]["traced_bytes"] - summaries[0]["traced_bytes"]
        return LeakReport(
            snapshots=summaries,
            growth_bytes=growth,
            top_growth=sites,
            object_growth=objects,
            suggestions=suggestions_for(sites, objects, growth),
        )

    def stop_tracking(self) -> None:
        """Stop tracemalloc if this detector started it; the snapshots stay for analysis."""
        if self._started_tracemalloc:
            tracemalloc.stop()
            self._started_tracemalloc = False
        self.tracking = False
