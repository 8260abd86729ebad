"""``muster diagnose``, ``muster leaks`` and ``muster logs analyze``: the troubleshooting commands.

The commands are thin: they load the spec or the file, call ``muster.ops`` (imported inside
the functions, as the layer rules require of the cli), show progress on stderr while they
work, and print either a readable report (rich) or, with ``--json``, one JSON document on
stdout for machines. ``muster leaks`` exits 1 when memory grows run after run, so a CI job
can fail on it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from muster.core import ComponentLoader
from muster.core.exceptions import MusterError

from ._ops_report import print_diagnosis, print_leak_report, print_log_report
from ._support import close_model_clients, spec_with_models

__all__ = ["run_ops_command"]


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def _stdout_console() -> Any:
    from rich.console import Console

    return Console(highlight=False)


@contextmanager
def _progress(description: str, total: float | None) -> Iterator[Callable[[float, float], None]]:
    """A progress bar on stderr (a spinner when ``total`` is None); yields ``update(done, total)``."""
    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}")]
    if total is not None:
        columns += [BarColumn(), TaskProgressColumn()]
    columns.append(TimeElapsedColumn())
    with Progress(*columns, console=_stderr_console(), transient=True) as progress:
        task = progress.add_task(description, total=total)

        def update(done: float, of: float) -> None:
            progress.update(task, completed=done, total=of)

        yield update


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise MusterError(f"cannot write {path}: {exc.strerror or exc}") from exc
    print(f"[muster] wrote {path}", file=sys.stderr)


def _runner(spec: dict[str, Any]) -> Any:
    from muster.base import ChatAgent, Team

    runner = ComponentLoader.load_component(spec)
    if not isinstance(runner, Team | ChatAgent):
        raise MusterError(f"the spec builds a {type(runner).__name__}, not an agent or a team")
    return runner


async def _diagnose(args: argparse.Namespace) -> int:
    from muster.ops import PerformanceDiagnostics, render_timeline

    spec = spec_with_models(args.spec, args.model)
    runner = _runner(spec)
    diagnostics = PerformanceDiagnostics()
    failure: BaseException | None = None
    diagnosis = None
    try:
        with _progress(f"Running {args.spec.name} with instrumentation", None):
            diagnosis = await diagnostics.diagnose_slow_response(runner, args.task)
    except Exception as exc:  # the timeline of a failed run is what one wants to see
        failure = exc
    finally:
        await close_model_clients(runner)
    if args.html is not None and diagnostics.last_recording is not None:
        _write(args.html, render_timeline(diagnostics.timeline(f"{args.spec.stem}: {args.task}")))
    if failure is not None:
        raise MusterError(f"the run failed: {type(failure).__name__}: {failure}") from failure
    assert diagnosis is not None
    if args.json:
        print(json.dumps(diagnosis, indent=2))
    else:
        print_diagnosis(_stdout_console(), diagnosis, args.spec.name)
    return 0


async def _leaks(args: argparse.Namespace) -> int:
    from muster.ops import check_run_memory

    spec = spec_with_models(args.spec, args.model)
    _runner(spec)  # fail on a bad spec before the first run

    async def run_once() -> None:
        runner = _runner(spec)
        try:
            await runner.run(task=args.task)
        finally:
            close = getattr(runner, "close", None)
            if close is not None:
                await close()
            await close_model_clients(runner)

    with _progress(f"Running {args.spec.name}", float(args.repeat)) as update:
        report = await check_run_memory(
            run_once,
            repeat=args.repeat,
            warmup=args.warmup,
            threshold_bytes=args.threshold,
            frames=args.frames,
            on_progress=lambda done, total: update(done, total),
        )
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_leak_report(_stdout_console(), report, args.spec.name)
    return 1 if report["growing"] else 0


def _logs(args: argparse.Namespace) -> int:
    from muster.ops import LogAnalyzer, render_log_report

    if not args.file.is_file():
        raise MusterError(f"no such log file: {args.file}")
    with _progress(f"Reading {args.file.name}", float(args.file.stat().st_size)) as update:
        analyzer = LogAnalyzer(
            args.file, slow_ms=args.slow_ms, on_progress=lambda done, total: update(done, total)
        )
        report = analyzer.generate_report(hours=args.hours)
    if args.html is not None:
        _write(args.html, render_log_report(report))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_log_report(_stdout_console(), report)
    return 0


def run_ops_command(args: argparse.Namespace) -> int:
    """Run a parsed troubleshooting command; returns the exit code."""
    import asyncio

    if args.command == "diagnose":
        return asyncio.run(_diagnose(args))
    if args.command == "leaks":
        if args.repeat < 4:
            raise MusterError("--repeat must be at least 4 to see a trend")
        return asyncio.run(_leaks(args))
    return _logs(args)
