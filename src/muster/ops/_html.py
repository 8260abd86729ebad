"""Pieces shared by the self-contained HTML reports: page shell, escaping, number formats, axes.

The reports must open from a file on a machine with no network (an incident laptop, a CI
artifact), so everything is inline: CSS and JS in the page, charts as SVG, no web fonts.
Untrusted text (messages, tool arguments, log lines) is escaped here, or, in scripts, only
ever inserted with ``textContent``.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

__all__ = ["embed_json", "esc", "fmt_count", "fmt_seconds", "nice_ticks", "page"]

BASE_CSS = """
*{box-sizing:border-box}
body{margin:0;background:#f4f5f8;color:#1f2430;font:14px/1.45 system-ui,-apple-system,"Segoe UI",
Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1280px;margin:24px auto;padding:0 20px}
.card{background:#fff;border:1px solid #e3e6ee;border-radius:10px;padding:18px 20px;margin-bottom:16px;
box-shadow:0 1px 2px rgba(20,30,60,.04)}
h1{font-size:20px;margin:0 0 4px}
h2{font-size:15px;margin:0 0 12px;color:#343b4f}
.sub{color:#687088;font-size:13px}
.chips{display:flex;flex-wrap:wrap;gap:8px;margin-top:12px}
.chip{background:#f1f3f8;border:1px solid #e3e6ee;border-radius:999px;padding:3px 11px;font-size:12.5px}
.chip b{font-weight:600}
.chip.warn{background:#fff4e5;border-color:#ffd8a8}
.chip.bad{background:#fdecec;border-color:#f5c2c2}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eef0f5;vertical-align:top}
th{color:#687088;font-weight:600;font-size:12px;text-transform:uppercase;letter-spacing:.03em}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:12.5px;color:#4a5168;margin-top:10px}
.legend i{display:inline-block;width:11px;height:11px;border-radius:3px;margin-right:5px;vertical-align:-1px}
ul.suggest{margin:0;padding-left:20px}
ul.suggest li{margin:4px 0}
.empty{color:#8a91a6;font-style:italic}
footer{color:#8a91a6;font-size:12px;text-align:center;margin:8px 0 30px}
"""


def esc(text: object) -> str:
    """Text safe inside HTML content and quoted attributes."""
    return html.escape(str(text), quote=True)


def embed_json(data: Any) -> str:
    """JSON safe inside a ``<script type="application/json">`` element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def fmt_seconds(seconds: float) -> str:
    """A duration for people: ``850 µs``, ``12.3 ms``, ``1.42 s``, ``3 m 05 s``."""
    if seconds < 0.001:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1000:.3g} ms" if seconds < 0.1 else f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.3g} s" if seconds < 10 else f"{seconds:.1f} s"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes:.0f} m {rest:02.0f} s"


def fmt_count(value: float) -> str:
    """An integer with thousands separators."""
    return f"{value:,.0f}"


def nice_ticks(maximum: float, target: int = 8) -> list[float]:
    """Round tick values from 0 to at least ``maximum`` (steps of 1, 2 or 5 times a power of ten)."""
    if maximum <= 0 or not math.isfinite(maximum):
        return [0.0]
    raw = maximum / max(target, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    count = math.ceil(maximum / step - 1e-9)
    return [i * step for i in range(count + 1)]


def page(title: str, body: str, *, css: str = "", script: str = "", data: Any = None) -> str:
    """A complete HTML document with everything inline."""
    data_block = (
        ""
        if data is None
        else f'<script type="application/json" id="report-data">{embed_json(data)}</script>'
    )
    script_block = f"<script>{script}</script>" if script else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # No request may leave the page: everything it needs is in it.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
        f"<title>{esc(title)}</title><style>{BASE_CSS}{css}</style></head>"
        f"<body><main>{body}</main>{data_block}{script_block}</body></html>\n"
    )
