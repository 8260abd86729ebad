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
    return parser


async def _run(spec: dict[str, Any], task: str, output_stats: bool) -> int:
    from muster.base import ChatAgent, Team
    from muster.core import ComponentLoader
    from muster.core.exceptions import MusterError
    from muster.ui import Console

    runner = ComponentLoader.load_component(spec)
    try:
        if not isinstance(runner, Team | ChatAgent):
            raise MusterError(f"the spec builds a {type(runner).__name__}, not an agent or a team")
        await Console(runner.run_stream(task=task), output_stats=output_stats)
    finally:
        await _close_model_clients(runner)
    return 0


def _reachable_model_clients(root: object) -> list[Any]:
    """Every model client reachable from ``root`` through instance attributes and containers.

    Agents do not close the model clients they are given (a client is often shared), so
    the CLI, which built every object from the spec and owns them all, closes them itself.
    """
    from muster.models import ChatCompletionClient

    found: list[Any] = []
    seen: set[int] = set()
    stack: list[object] = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, str | bytes | int | float | bool | type) or obj is None:
            continue
        seen.add(id(obj))
        if isinstance(obj, ChatCompletionClient):
            found.append(obj)
        if isinstance(obj, dict):
            stack.extend(obj.values())
        elif isinstance(obj, list | tuple | set | frozenset):
            stack.extend(obj)
        elif hasattr(obj, "__dict__") and obj.__class__.__module__.startswith("muster."):
            stack.extend(vars(obj).values())
    return found


async def _close_model_clients(root: object) -> None:
    for client in _reachable_model_clients(root):
        await client.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code (2 for invalid input)."""
    args = build_parser().parse_args(argv)
    if args.command != "run":  # pragma: no cover - argparse enforces the choice
        return 2
    import asyncio

    from muster.core.exceptions import MusterError

    from ._spec import load_spec_file, real_model_config_from_env, swap_replay_models

    try:
        spec = load_spec_file(args.spec)
        if args.model == "auto":
            model_config = real_model_config_from_env()
            if model_config is not None:
                spec = swap_replay_models(spec, model_config)
                print(f"[muster] using model {model_config['model']} from the environment", file=sys.stderr)
        return asyncio.run(_run(spec, args.task, not args.no_stats))
    except MusterError as exc:
        print(f"muster: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
