"""Entry point of the ``muster`` command.

Only ``argparse`` loads before the arguments are parsed: ``muster --help``, a typo in an
option or ``--version`` answer without importing asyncio, pydantic or any agent (see
``docs/performance.md``, "Start-up"). What a command needs is imported once it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._ops_parser import OPS_COMMANDS, add_ops_commands

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and shell completion)."""
    from muster import __version__

    parser = argparse.ArgumentParser(prog="muster", description="Run muster agents and teams.")
    parser.add_argument("--version", action="version", version=f"muster {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run an agent or team spec (YAML or JSON) on a task")
    run.add_argument("spec", type=Path, help="path to a component spec (dump_component output)")
    run.add_argument("--task", required=True, help="the task to give the team or agent")
    run.add_argument(
        "--model",
        choices=["auto", "spec"],
        default="auto",
        help="auto: replace replay models with a real one when OPENAI_API_KEY or "
        "MUSTER_MODEL_BASE_URL is set; spec: use the spec's models as written",
    )
    run.add_argument("--no-stats", action="store_true", help="do not print token usage and duration")
    add_ops_commands(sub)
    _add_service_commands(sub)
    return parser


def _add_service_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # Lazy, and only the parser: muster.service.cli imports its dependencies (settings,
    # SQLAlchemy) inside the handlers, so `muster run` loads none of them.
    from muster.service.cli import add_commands

    add_commands(sub)


async def _run(spec: dict[str, Any], task: str, output_stats: bool) -> int:
    from muster.base import ChatAgent, Team
    from muster.core import ComponentLoader
    from muster.core.exceptions import MusterError
    from muster.ui import Console

    from ._support import close_model_clients

    runner = ComponentLoader.load_component(spec)
    try:
        if not isinstance(runner, Team | ChatAgent):
            raise MusterError(f"the spec builds a {type(runner).__name__}, not an agent or a team")
        await Console(runner.run_stream(task=task), output_stats=output_stats)
    finally:
        await close_model_clients(runner)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code (2 for invalid input)."""
    args = build_parser().parse_args(argv)
    service_handler = getattr(args, "service_handler", None)
    if service_handler is not None:
        code: int = service_handler(args)
        return code
    import asyncio

    from muster.core.exceptions import MusterError

    from ._support import spec_with_models

    try:
        if args.command in OPS_COMMANDS:
            from ._ops_commands import run_ops_command

            return run_ops_command(args)
        if args.command != "run":  # pragma: no cover - argparse enforces the choice
            return 2
        spec = spec_with_models(args.spec, args.model)
        return asyncio.run(_run(spec, args.task, not args.no_stats))
    except MusterError as exc:
        print(f"muster: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
