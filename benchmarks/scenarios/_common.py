"""Shared plumbing for scenario modules: argument parsing, timing and reporting."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Awaitable, Callable

__all__ = ["best_of", "report", "round_robin_team", "scenario_main"]


def report(value: float | None) -> None:
    """Print the measurement as the JSON line the harness reads (``None``: nothing to measure)."""
    print(json.dumps({"value": value}))


async def best_of(repeats: int, body: Callable[[], Awaitable[float]]) -> float:
    """Run ``body`` (which returns a per-operation figure) several times and keep the best."""
    return min([await body() for _ in range(repeats)])


def scenario_main(
    run: Callable[[str, bool], Awaitable[float | None]],
    floor: Callable[[bool], Awaitable[float]] | None = None,
    types_floor: Callable[[bool], Awaitable[float]] | None = None,
) -> None:
    """Parse ``<flavor> [--quick]``, run the scenario under asyncio and report its value.

    ``floor`` (flavor ``floor``) measures what no framework with muster's dependencies and
    AutoGen's semantics can go below (see ``FLOOR`` in the scenario module). ``types_floor``
    (flavor ``types-floor``, start-up scenarios) is that floor plus defining the public types
    the scenario's code gets back (see ``TYPES_FLOOR``).
    """
    import asyncio

    parser = argparse.ArgumentParser()
    parser.add_argument("flavor", choices=["muster", "autogen", "floor", "types-floor"])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.flavor in ("floor", "types-floor"):
        measure = floor if args.flavor == "floor" else types_floor
        if measure is None:
            parser.error(f"this scenario measures no {args.flavor}")
        report(asyncio.run(measure(args.quick)))
        return
    report(asyncio.run(run(args.flavor, args.quick)))


def per_op_us(start: float, count: int) -> float:
    """Microseconds per operation since ``start`` (a perf_counter reading)."""
    return (time.perf_counter() - start) / count * 1e6


SPEAKERS = ("alice", "bob", "carol")
"""The round-robin scenarios' three agents."""


def round_robin_team(flavor: str, count: int) -> object:
    """A RoundRobinGroupChat of three replay AssistantAgents that stops after ``count`` answers.

    Each agent answers ``"<name> says <k>"``; the task counts as a message, hence the
    condition's ``count + 1``. The team scenarios share it so they measure the same team.
    """
    from benchmarks._flavor import load

    replay = load(flavor, "replay")
    agents = load(flavor, "agents")
    teams = load(flavor, "teams")
    conditions = load(flavor, "conditions")
    turns = count // len(SPEAKERS)
    participants = [
        agents.AssistantAgent(
            name,
            model_client=replay.ReplayChatCompletionClient([f"{name} says {k}" for k in range(turns)]),
        )
        for name in SPEAKERS
    ]
    return teams.RoundRobinGroupChat(
        participants, termination_condition=conditions.MaxMessageTermination(count + 1)
    )
