"""Memory held per plain AssistantAgent (no tools), for the two plain-agent memory scenarios."""

from __future__ import annotations

import gc
import os
import sys
import tracemalloc

from benchmarks._flavor import load

__all__ = ["bytes_per_plain_agent"]


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def bytes_per_plain_agent(flavor: str, quick: bool, *, shared_client: bool) -> float:
    """Traced bytes per ``AssistantAgent(name, model_client=...)`` kept alive, 1,000 of them.

    Each agent gets its own replay client unless ``shared_client``; the figure then includes
    the client. The process's RSS growth per agent, from a first untraced pass, is printed to
    stderr beside it (it adds the allocator's own overhead and moves with page reuse, so the
    traced figure is the one compared).
    """
    replay = load(flavor, "replay")
    agents = load(flavor, "agents")
    count = 200 if quick else 1_000
    shared = replay.ReplayChatCompletionClient(["ok"])

    def client() -> object:
        return shared if shared_client else replay.ReplayChatCompletionClient(["ok"])

    # Warm up class-level caches (schemas, pydantic validators) outside the measurement.
    agents.AssistantAgent("warm", model_client=client())
    gc.collect()
    # First pass, untraced, for the RSS figure (tracing adds its own bookkeeping to RSS).
    rss_before = _rss()
    keep = [agents.AssistantAgent(f"agent_{i}", model_client=client()) for i in range(count)]
    gc.collect()
    rss_growth = (_rss() - rss_before) / count
    del keep
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    keep = [agents.AssistantAgent(f"agent_{i}", model_client=client()) for i in range(count)]
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(keep) == count and len({agent.name for agent in keep}) == count
    print(f"RSS growth: {rss_growth:.0f} B/agent", file=sys.stderr)
    return (after - before) / count
