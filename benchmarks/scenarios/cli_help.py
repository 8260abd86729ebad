"""Wall time of ``muster --help``: spawning the command until it exits (ms).

The cost a user feels on every CLI command before it does anything. AutoGen's packages
ship no command line, so its column is ``n/a``; the bare interpreter's start-up (the
floor under any Python command) is printed to stderr for reference.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from benchmarks.scenarios._common import scenario_main
from benchmarks.scenarios._fresh import wall_of_commands

NAME = "cli: muster --help (whole process)"
UNIT = "ms"
GOAL = None


async def run(flavor: str, quick: bool) -> float | None:
    if flavor != "muster":
        return None
    runs = 3 if quick else 9
    script = Path(sys.executable).with_name("muster")
    command = [str(script)] if script.exists() else [shutil.which("muster") or "muster"]
    wall_of_commands([sys.executable, "-c", "pass"], runs, "python -c pass")
    return wall_of_commands([*command, "--help"], runs, "muster --help")


if __name__ == "__main__":
    scenario_main(run)
