"""Draws a :class:`~muster.ops.LogReport` as one self-contained HTML page with SVG charts.

Two charts carry the story: the hourly error trend (stacked by the most frequent types) and
latency percentiles per hour (p50, p95, max). Charts are SVG built here; bars and points
carry ``<title>`` elements, so hovering shows their figures with no script at all.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._html import esc, fmt_count, nice_ticks, page
from ._log_results import LogReport

__all__ = ["render_log_report"]

_TYPE_COLOURS = ("#ef4444", "#f59e0b", "#8b5cf6", "#0ea5e9", "#94a3b8")
_LINE_COLOURS = {"p50": "#3b82f6", "p95": "#f59e0b", "max": "#ef4444"}
_W, _H, _L, _B, _T = 1000, 260, 56, 34, 12
"""SVG width, height and the left, bottom and top margins."""

_CSS = """
svg.chart{width:100%;height:auto;display:block}
svg.chart text{font:11px system-ui,sans-serif;fill:#687088}
svg.chart .gl{stroke:#eef0f5}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px}
.kpi{background:#f7f8fb;border:1px solid #e8ebf2;border-radius:8px;padding:10px 12px}
.kpi .v{font-size:20px;font-weight:650}.kpi .l{color:#687088;font-size:12px}
.kpi.bad .v{color:#dc2626}
.two{display:grid;grid-template-columns:1fr 1fr;gap:16px}
@media (max-width:900px){.two{grid-template-columns:1fr}}
"""


def _hour_label(iso: str) -> str:
    return iso[11:16] if len(iso) >= 16 else iso


def _axes(ticks: Sequence[float], top: float, labels: Sequence[str], fmt: str) -> str:
    plot_h = _H - _B - _T
    parts = []
    for tick in ticks:
        y = _H - _B - (tick / top) * plot_h if top else _H - _B
        parts.append(f'<line class="gl" x1="{_L}" x2="{_W - 8}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text x="{_L - 6}" y="{y + 4:.1f}" text-anchor="end">{fmt.format(tick)}</text>')
    step = max(1, len(labels) // 12)
    width = (_W - _L - 8) / max(len(labels), 1)
    for i, label in enumerate(labels):
        if i % step == 0:
            x = _L + (i + 0.5) * width
            parts.append(f'<text x="{x:.1f}" y="{_H - _B + 16}" text-anchor="middle">{esc(label)}</text>')
    return "".join(parts)


def _error_chart(report: LogReport) -> str:
    hourly = report["errors"]["hourly"]
    if not hourly or not report["errors"]["total"]:
        return '<p class="empty">No errors in the window.</p>'
    top_types = list(report["errors"]["by_type"])[:4]
    ticks = nice_ticks(max(h["count"] for h in hourly), 4)
    top = ticks[-1] or 1.0
    plot_h = _H - _B - _T
    width = (_W - _L - 8) / len(hourly)
    bars = []
    for i, hour in enumerate(hourly):
        y: float = _H - _B
        segments = [(kind, hour["by_type"].get(kind, 0)) for kind in top_types]
        segments.append(("other", hour["count"] - sum(n for _, n in segments)))
        for colour, (kind, count) in zip(_TYPE_COLOURS, segments, strict=False):
            if count <= 0:
                continue
            h = count / top * plot_h
            y -= h
            bars.append(
                f'<rect class="errbar" x="{_L + i * width + width * 0.15:.1f}" y="{y:.1f}" width="{width * 0.7:.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>{esc(hour["hour"])}: {count} {esc(kind)}</title></rect>'
            )
    labels = [_hour_label(h["hour"]) for h in hourly]
    legend = "".join(
        f'<span><i style="background:{c}"></i>{esc(k)}</span>'
        for c, k in zip(_TYPE_COLOURS, [*top_types, "other"], strict=False)
    )
    svg = f'<svg class="chart" viewBox="0 0 {_W} {_H}" role="img" aria-label="errors per hour">{_axes(ticks, top, labels, "{:.0f}")}{"".join(bars)}</svg>'
    return svg + f'<div class="legend">{legend}</div>'


def _latency_chart(report: LogReport) -> str:
    hourly = report["performance"]["hourly"]
    if not hourly:
        return '<p class="empty">No durations in this log.</p>'
    ticks = nice_ticks(max(h["max_ms"] for h in hourly), 4)
    top = ticks[-1] or 1.0
    plot_h = _H - _B - _T
    width = (_W - _L - 8) / len(hourly)
    series = []
    for name, key in (("max", "max_ms"), ("p95", "p95_ms"), ("p50", "p50_ms")):
        points = [(_L + (i + 0.5) * width, _H - _B - h[key] / top * plot_h) for i, h in enumerate(hourly)]  # type: ignore[literal-required]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        colour = _LINE_COLOURS[name]
        series.append(
            f'<polyline class="latency" fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>'
        )
        series.extend(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{esc(h["hour"])} {name}: '
            f"{h[key]:.0f} ms ({h['count']} requests)</title></circle>"  # type: ignore[literal-required]
            for (x, y), h in zip(points, hourly, strict=True)
        )
    labels = [_hour_label(h["hour"]) for h in hourly]
    legend = "".join(f'<span><i style="background:{c}"></i>{n}</span>' for n, c in _LINE_COLOURS.items())
    svg = f'<svg class="chart" viewBox="0 0 {_W} {_H}" role="img" aria-label="latency per hour">{_axes(ticks, top, labels, "{:.0f} ms")}{"".join(series)}</svg>'
    return svg + f'<div class="legend">{legend}</div>'


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]], numeric: set[int]) -> str:
    if not rows:
        return '<p class="empty">None.</p>'
    head = "".join(
        f'<th class="{"num" if i in numeric else ""}">{esc(h)}</th>' for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(f'<td class="{"num" if i in numeric else ""}">{esc(c)}</td>' for i, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_log_report(report: LogReport) -> str:
    """The report as a complete HTML page (no external assets; works offline)."""
    perf, errors, lines = report["performance"], report["errors"], report["lines"]
    kpis = [
        (fmt_count(lines["records"]), "records", False),
        (fmt_count(errors["total"]), "errors in window", errors["total"] > 0),
        (f"{perf['p50_ms']:.0f} ms", "p50 latency", False),
        (f"{perf['p95_ms']:.0f} ms", "p95 latency", perf["p95_ms"] > perf["slow_threshold_ms"]),
        (
            fmt_count(perf["slow_count"]),
            f"slower than {perf['slow_threshold_ms']:.0f} ms",
            perf["slow_count"] > 0,
        ),
        (fmt_count(lines["malformed"]), "malformed lines", lines["malformed"] > 0),
    ]
    cards = "".join(
        f'<div class="kpi{" bad" if bad else ""}"><div class="v">{esc(v)}</div><div class="l">{esc(label)}</div></div>'
        for v, label, bad in kpis
    )
    span = f"{report['first'] or '?'} → {report['last'] or '?'}"
    header = (
        f'<section class="card"><h1>Log report</h1><div class="sub">{esc(report["file"])} · {esc(span)} · '
        f'{fmt_count(lines["total"])} lines</div><div class="cards" style="margin-top:12px">{cards}</div></section>'
    )
    advice = "".join(f"<li>{esc(s)}</li>" for s in report["suggestions"])
    error_rows = [(kind, count) for kind, count in errors["by_type"].items()]
    slow_rows = [
        (
            f"{s['duration_ms']:.0f}",
            s["timestamp"] or "",
            s["what"],
            s["status_code"] or "",
            s["run_id"] or s["request_id"] or "",
        )
        for s in perf["slowest"]
    ]
    agent_rows = [
        (
            name,
            a["success"],
            a["failure"],
            "" if a["success_rate"] is None else f"{a['success_rate']:.0%}",
            a["events"],
        )
        for name, a in report["agents"].items()
    ]
    window = f"{errors['window_start'] or ''} → {errors['window_end'] or ''}"
    body = (
        header
        + f'<section class="card"><h2>Suggestions</h2><ul class="suggest">{advice}</ul></section>'
        + f'<section class="card"><h2>Errors per hour <span class="sub">({esc(window)})</span></h2>{_error_chart(report)}</section>'
        + f'<section class="card"><h2>Latency per hour</h2>{_latency_chart(report)}</section>'
        + '<div class="two">'
        + f'<section class="card"><h2>Errors by type</h2>{_table(["type", "count"], error_rows, {1})}</section>'
        + f'<section class="card"><h2>Agents</h2>{_table(["agent", "ok", "failed", "success", "lines"], agent_rows, {1, 2, 3, 4})}</section>'
        + "</div>"
        + f'<section class="card"><h2>Slowest requests</h2>{_table(["ms", "time", "what", "status", "run / request"], slow_rows, {0})}</section>'
        + "<footer>muster log report</footer>"
    )
    return page("Log report", body, css=_CSS)
