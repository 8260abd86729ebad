"""Import cost of ``from <agents module> import AssistantAgent`` in a fresh interpreter (ms)."""

from __future__ import annotations

import os
import subprocess
import sys

from benchmarks.scenarios._common import scenario_main

NAME = "import AssistantAgent"
UNIT = "ms"
GOAL = 3.0

_MODULE = {"muster": "muster.agents", "autogen": "autogen_agentchat.agents"}


async def run(flavor: str, quick: bool) -> float:
    code = f"import time; t = time.perf_counter(); import {_MODULE[flavor]}; print((time.perf_counter() - t) * 1000)"
    runs = 3 if quick else 7
    # Measure the import of an installed package, i.e. with current bytecode (pip compiles on
    # install; AutoGen's site-packages have theirs). A source tree edited under
    # PYTHONDONTWRITEBYTECODE=1 would otherwise recompile every changed module in every run.
    # One untimed run, allowed to write bytecode, brings both flavors to that state.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", f"import {_MODULE[flavor]}"], env=env, check=True)
    samples = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
            ).stdout
        )
        for _ in range(runs)
    ]
    return min(samples)


if __name__ == "__main__":
    scenario_main(run)
