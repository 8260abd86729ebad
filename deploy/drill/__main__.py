"""``python -m deploy.drill`` (``make drill``): run the drill, print its report, exit 1 on any failed check."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import sys
import time
from pathlib import Path

from .checks import Report
from .drill import DrillOptions, run_drill
from .topology import Topology, TopologyOptions


def _interrupt(signum: int, frame: object) -> None:
    # SIGTERM (a CI job cancelled) takes the same way out as Ctrl-C: through the finally.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    defaults = DrillOptions()
    parser = argparse.ArgumentParser(prog="python -m deploy.drill", description=__doc__)
    parser.add_argument(
        "--runs", type=int, default=defaults.runs, help="runs posted in all (default %(default)s)"
    )
    parser.add_argument(
        "--streams", type=int, default=defaults.streams, help="of which streamed by SSE clients"
    )
    parser.add_argument("--turns", type=int, default=defaults.turns, help="model calls per run")
    parser.add_argument(
        "--deadline", type=float, default=defaults.deadline, help="seconds the load and checks may take"
    )
    parser.add_argument(
        "--model-delay", type=float, default=TopologyOptions().model_delay, help="seconds per model answer"
    )
    parser.add_argument("--logs", type=Path, help="copy every process's log to this folder at the end")
    args = parser.parse_args(argv)
    if args.streams < 1 or args.runs < args.streams + 4:
        parser.error("need at least one stream and four background runs")
    for tool in ("nginx", "prometheus", "redis-server"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            print(
                f"drill: {tool} is not installed (apt-get install nginx prometheus redis-server)",
                file=sys.stderr,
            )
            return 2
    signal.signal(signal.SIGTERM, _interrupt)
    options = DrillOptions(runs=args.runs, streams=args.streams, turns=args.turns, deadline=args.deadline)
    report = Report()
    topology = Topology(TopologyOptions(model_delay=args.model_delay))
    interrupted = False
    began = time.monotonic()
    try:
        topology.start()
        report.durations["setup"] = time.monotonic() - began
        asyncio.run(run_drill(topology, options, report, spent=report.durations["setup"]))
    except KeyboardInterrupt:
        interrupted = True
        report.fail("interrupted")
    except Exception as exc:  # a part that would not start, a request that failed outright
        report.fail(f"{type(exc).__name__}: {exc}")
    finally:
        topology.close(keep=args.logs)
        report.folder = str(topology.root)
        left = topology.leftovers()
        if left:
            report.fail(f"left running: {', '.join(left)}")
        if topology.root.exists():
            report.fail(f"{topology.root} was not removed")
    report.durations["total (teardown included)"] = time.monotonic() - began
    print(report.render(), flush=True)
    return 130 if interrupted else (1 if report.failures else 0)


if __name__ == "__main__":
    sys.exit(main())
