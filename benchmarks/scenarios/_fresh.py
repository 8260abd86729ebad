"""Timing code in fresh interpreters, for the start-up scenarios."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "PUBLIC_TYPES_FLOOR",
    "PUBLIC_TYPES_FLOOR_WHAT",
    "child_env",
    "import_floor",
    "import_public_types_floor",
    "time_in_fresh_interpreters",
    "wall_of_commands",
]

FLOOR_IMPORTS = (
    "from pydantic import BaseModel, ConfigDict\n"
    "import asyncio\n"
    "class Message(BaseModel):\n"
    "    model_config = ConfigDict(defer_build=True)\n"
    "    content: str\n"
)
"""What any framework whose messages are pydantic models on an asyncio runtime must run at import.

pydantic and asyncio, and one model class (schema build deferred): defining the first class
loads pydantic's field machinery (``pydantic.fields``, ``pydantic.types``, ``annotated_types``),
which ``from pydantic import BaseModel`` alone does not.
"""

PUBLIC_TYPES_FLOOR = (
    f"import sys\nsys.path.append({str(Path(__file__).resolve().parent)!r})\nimport _public_types_floor\n"
)
"""The floor's imports, then the public pydantic types a plain run returns, defined standalone.

``_public_types_floor.py`` (it imports neither muster nor this package) defines the 12 pydantic
classes a plain agent run defines (message bases and ``TextMessage``, the LLM messages,
``CreateResult`` and its logprob types, ``TaskResult``) with muster's fields and configs. It is
imported by file, as a module with its bytecode cached like muster's, not compiled from a
``-c`` string; appended to ``sys.path`` so that no other import searches its directory first.
"""

PUBLIC_TYPES_FLOOR_WHAT = "pydantic + asyncio + the public types a run returns"
"""How the harness names this floor in its verdicts."""


def child_env() -> dict[str, str]:
    """The environment for child interpreters: allowed to write bytecode.

    A start-up figure is about an installed package, i.e. with current bytecode (pip
    compiles on install; AutoGen's site-packages have theirs). A source tree edited under
    ``PYTHONDONTWRITEBYTECODE=1`` would otherwise recompile every changed module in every
    run, so each scenario first runs its code once, untimed, with bytecode writing allowed.
    """
    return {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def time_in_fresh_interpreters(code: str, runs: int, label: str) -> float:
    """Run ``code`` (which prints one figure in ms) in ``runs`` fresh interpreters; the minimum.

    The minimum is the figure least disturbed by other work on a shared machine; the
    median is printed to stderr beside it.
    """
    env = child_env()
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    samples = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
            ).stdout.split()[-1]
        )
        for _ in range(runs)
    ]
    print(
        f"{label}: min {min(samples):.1f} ms, median {statistics.median(samples):.1f} ms over {runs} runs",
        file=sys.stderr,
    )
    return min(samples)


def wall_of_commands(command: Sequence[str], runs: int, label: str) -> float:
    """Wall time of a whole process (spawn to exit) in ms, minimum over ``runs``; median on stderr."""
    env = child_env()
    subprocess.run(list(command), env=env, check=True, capture_output=True)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(list(command), env=env, check=True, capture_output=True)
        samples.append((time.perf_counter() - start) * 1000)
    print(
        f"{label}: min {min(samples):.1f} ms, median {statistics.median(samples):.1f} ms over {runs} runs",
        file=sys.stderr,
    )
    return min(samples)


async def import_floor(quick: bool) -> float:
    """:data:`FLOOR_IMPORTS` in a fresh interpreter (ms, minimum)."""
    code = f"import time\nt = time.perf_counter()\n{FLOOR_IMPORTS}print((time.perf_counter() - t) * 1000)"
    return time_in_fresh_interpreters(
        code, 3 if quick else 9, "floor: pydantic + asyncio + one deferred model"
    )


async def import_public_types_floor(quick: bool) -> float:
    """:data:`PUBLIC_TYPES_FLOOR` in a fresh interpreter (ms, minimum)."""
    code = (
        f"import time\nt = time.perf_counter()\n{PUBLIC_TYPES_FLOOR}print((time.perf_counter() - t) * 1000)"
    )
    return time_in_fresh_interpreters(
        code, 3 if quick else 9, f"floor: {PUBLIC_TYPES_FLOOR_WHAT} (12 deferred models)"
    )
