"""Run every benchmark scenario on muster and on AutoGen, each in a fresh process, and print a table.

Usage: ``python -m benchmarks [--only NAME ...] [--quick]``. Each scenario module under
``benchmarks/scenarios`` defines ``NAME``, ``UNIT``, ``GOAL`` (minimum AutoGen/muster ratio, or
None), optionally ``LIMIT`` (the most muster's figure may be, in ``UNIT``, for goals stated as
an absolute figure) and ``run(flavor, quick) -> float | None`` (lower is better; ``None`` when
the flavor has nothing to measure, such as AutoGen for muster's CLI), run through
``scenario_main``; the harness runs it as ``python -m benchmarks.scenarios.<module> <flavor>``
so import caches and memory never leak between frameworks.

A scenario whose goal may sit below what muster's dependencies allow also defines ``FLOOR``
(what is measured, e.g. "import of pydantic's BaseModel + asyncio") and passes a ``floor``
function to ``scenario_main``; the harness measures it in the same run (flavor ``floor``) and
prints, below the table, the best ratio that floor leaves muster. A start-up scenario may also
define ``TYPES_FLOOR`` and pass a ``types_floor`` function (flavor ``types-floor``): the floor
plus the public pydantic types a plain run returns, defined standalone
(``scenarios/_public_types_floor.py``); it is printed under the plain floor, and the goal's
verdict is given against it, the higher of the two.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

from benchmarks import scenarios
from benchmarks.scenarios._fresh import PUBLIC_TYPES_FLOOR_WHAT

ROOT = Path(__file__).resolve().parents[1]


def _run_one(module: str, flavor: str, quick: bool) -> float | str:
    cmd = [sys.executable, "-m", f"benchmarks.scenarios.{module}", flavor] + (["--quick"] if quick else [])
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        return f"error: {last[:60]}"
    value = json.loads(proc.stdout.strip().splitlines()[-1])["value"]
    return "n/a" if value is None else float(value)


def _goal_text(goal: float | None, limit: float | None) -> str:
    parts = ([f"{goal:.1f}x"] if goal is not None else []) + ([f"<={limit:g}"] if limit is not None else [])
    return " ".join(parts) or "-"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--only", nargs="*", help="scenario module names to run")
    parser.add_argument("--quick", action="store_true", help="fewer iterations (smoke run)")
    args = parser.parse_args()

    names = sorted(m.name for m in pkgutil.iter_modules(scenarios.__path__) if not m.name.startswith("_"))
    if args.only:
        names = [n for n in names if n in args.only]
    rows = []
    floors: list[tuple[str, str, str, float | str, float | str, float | None]] = []
    types_floors: dict[str, tuple[str, float | str]] = {}
    failed_goals = []
    for name in names:
        mod = importlib.import_module(f"benchmarks.scenarios.{name}")
        ours = _run_one(name, "muster", args.quick)
        theirs = _run_one(name, "autogen", args.quick)
        ratio = theirs / ours if isinstance(ours, float) and isinstance(theirs, float) and ours > 0 else None
        goal = getattr(mod, "GOAL", None)
        limit = getattr(mod, "LIMIT", None)
        checks = []
        if ratio is not None and goal is not None:
            checks.append(ratio >= goal)
        if isinstance(ours, float) and limit is not None:
            checks.append(ours <= limit)
        verdict = ("ok" if all(checks) else "MISSED") if checks else ""
        if isinstance(ours, str) and ours != "n/a":
            verdict = "FAILED"
        if verdict in ("MISSED", "FAILED"):
            failed_goals.append(mod.NAME)
        rows.append((mod.NAME, mod.UNIT, ours, theirs, ratio, _goal_text(goal, limit), verdict))
        if getattr(mod, "FLOOR", None) is not None:
            floors.append((mod.NAME, mod.UNIT, mod.FLOOR, _run_one(name, "floor", args.quick), theirs, goal))
        if getattr(mod, "TYPES_FLOOR", None) is not None:
            types_floors[mod.NAME] = (mod.TYPES_FLOOR, _run_one(name, "types-floor", args.quick))
        print(f"  done: {mod.NAME}", file=sys.stderr, flush=True)

    header = f"{'scenario':<44} {'unit':<12} {'muster':>12} {'autogen':>12} {'ratio':>8} {'goal':>13}"
    print(header)
    print("-" * len(header))
    for name, unit, ours, theirs, ratio, goal, verdict in rows:
        fmt = lambda v: f"{v:12.2f}" if isinstance(v, float) else f"{v:>12}"  # noqa: E731
        r = f"{ratio:7.1f}x" if ratio is not None else f"{'n/a':>8}"
        print(f"{name:<44} {unit:<12} {fmt(ours)} {fmt(theirs)} {r} {goal:>13} {verdict}")
    print(
        "\nratio = AutoGen / muster (higher is better for muster); lower values are better in both columns."
        "\ngoal: the least ratio and/or (<=) the most muster's figure may be, in the row's unit."
    )
    if failed_goals:
        print("goals missed: " + ", ".join(failed_goals))
    if floors:
        print("\nfloors, measured in this run (what muster cannot go below while it keeps its dependencies):")
        for name, unit, what, floor, theirs, goal in floors:
            print(f"  {name}: {what} = {_floor_text(floor, unit, theirs, goal)}")
            if name in types_floors:
                types_what, types_floor = types_floors[name]
                text = _floor_text(types_floor, unit, theirs, goal, of=PUBLIC_TYPES_FLOOR_WHAT)
                print(f"    {types_what} = {text}")
    return 0


def _floor_text(
    floor: float | str, unit: str, theirs: float | str, goal: float | None, of: str | None = None
) -> str:
    """The floor's figure, AutoGen's ratio to it and whether the goal is above or below it.

    ``of`` names the floor in the verdict (with its figure), for a floor printed beside another.
    """
    if not isinstance(floor, float):
        return floor
    text = f"{floor:.2f} {unit}"
    if isinstance(theirs, float) and floor > 0:
        text += f"; AutoGen / floor = {theirs / floor:.1f}x"
        if goal is not None:
            needed = theirs / goal
            verdict = "below the floor" if needed < floor else "above the floor"
            if of is not None:
                verdict += f" of {of} ({floor:.2f} {unit})"
            text += f"; the {goal:.1f}x goal needs muster <= {needed:.2f} {unit}, {verdict}"
    return text


if __name__ == "__main__":
    sys.exit(main())
