"""Readable terminal reports of the troubleshooting commands (rich, imported by the caller).

Each report leads with the answer (where the time went, whether memory grows, what fails
most), then the figures behind it, then the suggestions. The console is passed in, so tests
render to a string and the commands to stdout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from muster.ops import Diagnosis, LogReport, RunMemoryReport

__all__ = ["print_diagnosis", "print_leak_report", "print_log_report"]

_STAGES = (
    ("message_preprocessing", "Message preprocessing", "medium_purple1"),
    ("model_inference", "Model inference", "dodger_blue1"),
    ("tool_execution", "Tool execution", "orange1"),
    ("response_postprocessing", "Response postprocessing", "plum2"),
)


def _ms(seconds: float) -> str:
    if seconds < 0.001:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def _bar(share: float, width: int = 30) -> str:
    filled = round(share * width)
    return "█" * filled + "·" * (width - filled)


def _suggestions(console: Any, items: list[str]) -> None:
    from rich.panel import Panel

    console.print(Panel("\n".join(f"• {item}" for item in items), title="Suggestions", border_style="yellow"))


def print_diagnosis(console: Any, diagnosis: Diagnosis, name: str) -> None:
    """Stages with their shares, the model calls, the tools, the resources, the suggestions."""
    from rich.table import Table

    total = diagnosis["total_time"]
    timings = diagnosis["timings"]
    console.print(
        f"[bold]Diagnosis of {name}[/]: total [bold]{_ms(total)}[/]  (stop: {diagnosis['stop_reason']})"
    )
    stages = Table(title="Where the time went", title_justify="left", box=None, pad_edge=False)
    stages.add_column("stage")
    stages.add_column("time", justify="right")
    stages.add_column("share", justify="right")
    stages.add_column("")
    for key, label, colour in _STAGES:
        seconds = float(timings[key])  # type: ignore[literal-required]
        share = seconds / total if total else 0.0
        stages.add_row(label, _ms(seconds), f"{share:.0%}", f"[{colour}]{_bar(share)}[/]")
    console.print(stages)
    calls = Table(title="Model calls", title_justify="left")
    for column, justify in (("#", "right"), ("agent", "left"), ("model", "left"), ("time", "right")):
        calls.add_column(column, justify=justify)  # type: ignore[arg-type]
    for column in ("tokens in/out", "cached", "attempts", "waits"):
        calls.add_column(column, justify="right")
    for index, call in enumerate(timings["per_model_call"], 1):
        waits = call["retry_wait"] + call["rate_limit_wait"]
        calls.add_row(
            str(index),
            call["agent"] or "-",
            call["model"] or call["client"],
            _ms(call["duration"]),
            f"{call['prompt_tokens'] or 0}/{call['completion_tokens'] or 0}",
            "hit" if call["cached"] else "",
            str(call["attempts"] or ""),
            _ms(waits) if waits else "",
            style="red" if call["status"] == "error" else None,
        )
    console.print(calls)
    if timings["per_tool"]:
        tools = Table(title="Tools", title_justify="left")
        for column in ("tool", "calls", "errors", "total", "mean", "max"):
            tools.add_column(column, justify="left" if column == "tool" else "right")
        for tool, stats in timings["per_tool"].items():
            tools.add_row(
                tool,
                str(stats["calls"]),
                str(stats["errors"]),
                _ms(stats["total"]),
                _ms(stats["mean"]),
                _ms(stats["max"]),
            )
        console.print(tools)
    usage = diagnosis["resource_usage"]
    console.print(
        f"Resources: [bold]{usage['memory_mb']:.1f} MB[/] RSS ({usage['memory_delta_mb']:+.1f} MB), "
        f"CPU {usage['cpu_percent']:.0f}%, {usage['thread_count']} threads, {usage['open_files']} open files"
    )
    _suggestions(console, diagnosis["suggestions"])


def print_leak_report(console: Any, report: RunMemoryReport, name: str) -> None:
    """The verdict, the growth per run, the sites and object types that grew."""
    from rich.table import Table

    per_run = report["growth_per_run_bytes"]
    if report["growing"]:
        console.print(
            f"[bold red]LEAK[/] {name}: memory grows by [bold]{per_run:,.0f} bytes per run[/] "
            f"over {report['runs']} runs (threshold {report['threshold_bytes']:,.0f})"
        )
    else:
        console.print(
            f"[bold green]FLAT[/] {name}: {per_run:+,.0f} bytes per run over {report['runs']} runs "
            f"(threshold {report['threshold_bytes']:,.0f})"
        )
    samples = report["samples"]
    console.print(
        f"traced memory: {report['baseline_bytes'] / 1024:,.0f} KiB after {report['warmup']} warm-up runs, "
        f"{samples[0] / 1024:,.0f} → {samples[-1] / 1024:,.0f} KiB over the measured runs"
    )
    if report["growing"] and report["top_sites"]:
        sites = Table(title="Where it grows (per run)", title_justify="left")
        sites.add_column("bytes", justify="right")
        sites.add_column("objects", justify="right")
        sites.add_column("allocated at")
        for site in report["top_sites"][:8]:
            sites.add_row(f"{site['size_bytes']:,}", f"{site['count']:,}", site["site"])
        console.print(sites)
    if report["growing"] and report["object_growth"]:
        objects = ", ".join(f"{g['type']} +{g['growth']:,}" for g in report["object_growth"][:8])
        console.print(f"object types that grew over the runs: {objects}")
    _suggestions(console, report["suggestions"])


def print_log_report(console: Any, report: LogReport) -> None:
    """Lines read, errors by type and hour, latency, agents, suggestions."""
    from rich.table import Table

    lines, errors, perf = report["lines"], report["errors"], report["performance"]
    console.print(
        f"[bold]{report['file']}[/]: {lines['total']:,} lines, {lines['records']:,} records "
        f"({lines['json']:,} JSON, {lines['plain']:,} text), {lines['malformed']:,} malformed, "
        f"{report['first'] or '?'} → {report['last'] or '?'}"
    )
    console.print(
        f"Errors in the window: [bold]{errors['total']:,}[/] ({errors['window_start']} → {errors['window_end']})"
    )
    if errors["by_type"]:
        kinds = Table(box=None, pad_edge=False, show_header=False)
        peak = max(errors["by_type"].values())
        for kind, count in list(errors["by_type"].items())[:10]:
            kinds.add_row(f"  {kind}", f"{count:,}", f"[red]{_bar(count / peak, 24)}[/]")
        console.print(kinds)
        busy = [h for h in errors["hourly"] if h["count"]]
        if busy:
            worst = max(busy, key=lambda h: h["count"])
            console.print(f"  worst hour: {worst['hour']} with {worst['count']} errors")
    measured = "requests" if perf["measures"] == "requests" else "durations"
    console.print(
        f"Latency ({perf['count']:,} {measured}): mean {perf['mean_ms']:.0f} ms, p50 {perf['p50_ms']:.0f} ms, "
        f"p95 [bold]{perf['p95_ms']:.0f} ms[/], p99 {perf['p99_ms']:.0f} ms, max {perf['max_ms']:.0f} ms; "
        f"{perf['slow_count']:,} slower than {perf['slow_threshold_ms']:.0f} ms"
    )
    if perf["measures"] == "requests":
        for category, label in (("run", "Runs"), ("agent", "Agent turns")):
            part = perf["by_category"].get(category)
            if part is not None:
                console.print(
                    f"{label} ({part['count']:,}): p50 {part['p50_ms']:.0f} ms, p95 {part['p95_ms']:.0f} ms, "
                    f"max {part['max_ms']:.0f} ms"
                )
    if report["agents"]:
        agents = Table(title="Agents", title_justify="left")
        for column in ("agent", "ok", "failed", "success"):
            agents.add_column(column, justify="left" if column == "agent" else "right")
        for agent, stats in report["agents"].items():
            rate = stats["success_rate"]
            agents.add_row(
                agent,
                f"{stats['success']:,}",
                f"{stats['failure']:,}",
                "-" if rate is None else f"{rate:.0%}",
                style="red" if rate is not None and rate < 0.9 else None,
            )
        console.print(agents)
    _suggestions(console, report["suggestions"])
