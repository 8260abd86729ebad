"""The troubleshooting commands' arguments (``muster diagnose``, ``leaks``, ``logs analyze``).

Kept apart from the commands themselves (``_ops_commands``) so that building the parser
(``muster --help``) imports nothing but argparse.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["OPS_COMMANDS", "add_ops_commands"]

OPS_COMMANDS = frozenset({"diagnose", "leaks", "logs"})


def add_ops_commands(sub: Any) -> None:
    """Register the troubleshooting sub-commands on the ``muster`` parser."""
    diagnose = sub.add_parser("diagnose", help="run a spec once, instrumented, and say where the time went")
    diagnose.add_argument("spec", type=Path, help="agent or team spec (YAML or JSON)")
    diagnose.add_argument("--task", required=True, help="the task to run")
    diagnose.add_argument("--html", type=Path, help="also write the run's timeline to this HTML file")
    diagnose.add_argument("--json", action="store_true", help="print the diagnosis as JSON")
    diagnose.add_argument("--model", choices=["auto", "spec"], default="auto", help="as for `muster run`")

    leaks = sub.add_parser("leaks", help="run a spec over and over and say whether memory keeps growing")
    leaks.add_argument("spec", type=Path, help="agent or team spec (YAML or JSON), replay models advised")
    leaks.add_argument("--task", default="Run the usual task.", help="the task of every run")
    leaks.add_argument("--repeat", type=int, default=200, help="measured runs (default 200)")
    leaks.add_argument("--warmup", type=int, help="unmeasured runs first (default repeat/10, at least 3)")
    leaks.add_argument("--threshold", type=float, default=1024, help="bytes per run that count as a leak")
    leaks.add_argument("--frames", type=int, default=4, help="traceback frames kept per allocation")
    leaks.add_argument("--json", action="store_true", help="print the report as JSON")
    leaks.add_argument("--model", choices=["auto", "spec"], default="spec", help="spec: the spec's models")

    logs = sub.add_parser("logs", help="analyse log files")
    logs_sub = logs.add_subparsers(dest="logs_command", required=True)
    analyze = logs_sub.add_parser("analyze", help="errors, latency and agent outcomes of a log file")
    analyze.add_argument("file", type=Path, help="a log file (JSON lines or text; .gz too)")
    analyze.add_argument("--hours", type=int, default=24, help="error window, ending at the newest line")
    analyze.add_argument("--slow-ms", type=float, default=2000.0, help="requests slower than this are slow")
    analyze.add_argument("--html", type=Path, help="also write the report with charts to this HTML file")
    analyze.add_argument("--json", action="store_true", help="print the report as JSON")
