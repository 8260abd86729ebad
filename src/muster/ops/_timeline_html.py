"""Draws a :class:`~muster.ops.Timeline` as one self-contained HTML page (a waterfall).

Rows follow the run's tree: each agent turn, then the model and tool calls made in it
(indented), in start order. Bars are positioned server-side, so the page reads without
JavaScript; a small inline script adds the hover cards (built with ``textContent`` only,
so message text can never become markup). Every span is one element with class ``bar``
and ``data-kind`` set to its kind: tests count them.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._html import esc, fmt_count, fmt_seconds, nice_ticks, page
from ._timeline import Timeline, TimelineSpan

__all__ = ["render_timeline"]

_AGENT_COLOURS = ("#6366f1", "#0ea5e9", "#d946ef", "#14b8a6", "#f97316", "#84cc16", "#e11d48", "#8b5cf6")
_STAGE_COLOURS = {
    "message_preprocessing": ("#a5b4fc", "Preprocessing"),
    "model_inference": ("#3b82f6", "Model inference"),
    "tool_execution": ("#f59e0b", "Tool execution"),
    "response_postprocessing": ("#c4b5fd", "Postprocessing"),
}

_CSS = """
.stagebar{display:flex;height:16px;border-radius:6px;overflow:hidden;background:#eef0f5;margin-top:6px}
.stagebar div{height:100%}
.wf{position:relative;font-size:12.5px}
.wf .row{display:flex;align-items:center;height:26px;border-bottom:1px solid #f1f2f6}
.wf .row:nth-child(even){background:#fafbfd}
.wf .row:hover{background:#f1f4ff}
.wf .lbl{flex:0 0 300px;display:flex;align-items:center;white-space:nowrap;overflow:hidden;padding-right:10px}
.wf .lbl .n{overflow:hidden;text-overflow:ellipsis;flex:0 1 auto;min-width:0}
.wf .lbl .k{color:#8a91a6;font-size:11px;margin-right:4px}
.wf .lbl .dot{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:6px}
.wf .row.turn .lbl{font-weight:600}
.wf .trk{position:relative;flex:1 1 auto;height:100%}
.axis{position:sticky;top:0;z-index:3;background:#fff;border-bottom:1px solid #dfe3ec;height:24px}
.axis .tick{position:absolute;top:5px;transform:translateX(-50%);color:#8a91a6;font-size:11px}
.grid{position:absolute;top:0;bottom:0;width:1px;background:#eef0f5;pointer-events:none}
.bar{position:absolute;top:6px;height:14px;min-width:2px;border-radius:3px;cursor:default}
.bar.turn{top:4px;height:18px;border:1.5px solid;background-clip:padding-box}
.bar.model{background:#3b82f6}
.bar.model.cached{background:#10b981}
.bar.tool{background:#f59e0b}
.bar.error{background:#ef4444 !important;outline:2px solid #b91c1c}
.bar.cancelled{background:repeating-linear-gradient(45deg,#cbd5e1 0 4px,#e2e8f0 4px 8px) !important}
.bar .wait{position:absolute;left:0;top:0;bottom:0;background:repeating-linear-gradient(45deg,
rgba(255,255,255,.75) 0 3px,rgba(255,255,255,.2) 3px 6px);border-radius:3px 0 0 3px}
.bar .first{position:absolute;top:-3px;bottom:-3px;width:2px;background:#1e3a8a}
.dur{position:absolute;top:6px;font-size:11px;color:#687088;white-space:nowrap;pointer-events:none}
.msg{position:absolute;top:9px;width:8px;height:8px;margin-left:-4px;border-radius:50%;background:#fff;
border:2px solid #334155;z-index:2;cursor:default}
.badge{flex:0 0 auto;font-size:10.5px;padding:0 5px;border-radius:4px;margin-left:5px;font-weight:600}
.badge.retry{background:#fee2e2;color:#b91c1c}.badge.hit{background:#d1fae5;color:#047857}
.badge.err{background:#ef4444;color:#fff}
#tip{position:fixed;z-index:10;display:none;max-width:560px;max-height:70vh;overflow:hidden;
background:#111827;color:#e5e7eb;border-radius:8px;padding:10px 12px;font-size:12.5px;
box-shadow:0 10px 30px rgba(0,0,0,.25);pointer-events:none}
#tip .t{font-weight:600;color:#fff;margin-bottom:6px}
#tip dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:0}
#tip dt{color:#9ca3af}#tip dd{margin:0}
#tip pre{white-space:pre-wrap;word-break:break-word;margin:6px 0 0;font:12px/1.4 ui-monospace,
SFMono-Regular,Menlo,Consolas,monospace;color:#d1d5db;max-height:220px;overflow:hidden}
#tip .m{border-top:1px solid #374151;margin-top:7px;padding-top:6px}
#tip .m b{color:#a5b4fc}
"""

_SCRIPT = r"""
(function(){
const data=JSON.parse(document.getElementById('report-data').textContent);
const tip=document.createElement('div');tip.id='tip';document.body.appendChild(tip);
function el(tag,text,cls){const e=document.createElement(tag);if(text!==undefined)e.textContent=text;
if(cls)e.className=cls;return e;}
function cut(s,n){s=String(s);return s.length>n?s.slice(0,n)+' …':s;}
function msg(box,m){const d=el('div',undefined,'m');const h=el('div');h.appendChild(el('b',m.source));
h.appendChild(document.createTextNode(' · '+m.type+' · +'+m.at));d.appendChild(h);
d.appendChild(el('pre',cut(m.content,700)));box.appendChild(d);}
function show(t,x,y){
  tip.replaceChildren();
  const s=data.spans[+t.dataset.i];
  if(t.dataset.m!==undefined){tip.appendChild(el('div',s.title,'t'));msg(tip,s.messages[+t.dataset.m]);}
  else{
    tip.appendChild(el('div',s.title,'t'));
    const dl=el('dl');for(const [k,v] of s.facts){dl.appendChild(el('dt',k));dl.appendChild(el('dd',v));}
    tip.appendChild(dl);
    for(const [k,v] of s.texts){const p=el('pre',k+': '+cut(v,900));tip.appendChild(p);}
    const ms=s.messages.slice(0,6);for(const m of ms)msg(tip,m);
    if(s.messages.length>6)tip.appendChild(el('div','+ '+(s.messages.length-6)+' more messages','m'));
  }
  tip.style.display='block';move(x,y);
}
function move(x,y){const r=tip.getBoundingClientRect();let l=x+14,tp=y+14;
if(l+r.width>innerWidth-8)l=Math.max(8,x-r.width-14);if(tp+r.height>innerHeight-8)tp=Math.max(8,innerHeight-r.height-8);
tip.style.left=l+'px';tip.style.top=tp+'px';}
document.addEventListener('mouseover',e=>{const t=e.target.closest('[data-i]');if(t)show(t,e.clientX,e.clientY);});
document.addEventListener('mousemove',e=>{if(tip.style.display==='block')move(e.clientX,e.clientY);});
document.addEventListener('mouseout',e=>{const t=e.target.closest('[data-i]');
if(t&&!t.contains(e.relatedTarget))tip.style.display='none';});
})();
"""


def _tree_order(spans: Sequence[TimelineSpan]) -> list[tuple[TimelineSpan, int]]:
    """Each span after its parent, children in start order, with its depth."""
    ids = {span.id for span in spans}
    children: dict[str | None, list[TimelineSpan]] = {}
    for span in spans:
        parent = span.parent_id if span.parent_id in ids else None
        children.setdefault(parent, []).append(span)
    ordered: list[tuple[TimelineSpan, int]] = []
    stack = [(span, 0) for span in sorted(children.get(None, []), key=lambda s: s.start, reverse=True)]
    while stack:
        span, depth = stack.pop()
        ordered.append((span, depth))
        stack.extend(
            (child, depth + 1)
            for child in sorted(children.get(span.id, []), key=lambda s: s.start, reverse=True)
        )
    return ordered


def _title(span: TimelineSpan) -> str:
    if span.kind == "agent_turn":
        return f"Turn · {span.agent or '?'}"
    if span.kind == "model_call":
        who = f" · {span.agent}" if span.agent else ""
        return f"Model call · {span.model or '?'}{who}"
    return f"Tool call · {span.tool or '?'}" + (f" · {span.agent}" if span.agent else "")


def _facts(span: TimelineSpan) -> list[tuple[str, str]]:
    facts = [
        ("start", f"+{fmt_seconds(span.start)}"),
        ("duration", fmt_seconds(span.duration)),
        ("status", span.status),
    ]
    if span.error:
        facts.append(("error", span.error))
    if span.kind == "model_call":
        if span.prompt_tokens is not None or span.completion_tokens is not None:
            facts.append(("tokens", f"{span.prompt_tokens or 0} in / {span.completion_tokens or 0} out"))
        if span.cached is not None:
            facts.append(("cached", "yes (no model request)" if span.cached else "no"))
        if span.attempts is not None:
            facts.append(("attempts", str(span.attempts)))
        if span.retry_wait:
            facts.append(("retry backoff", fmt_seconds(span.retry_wait)))
        if span.rate_limit_wait:
            facts.append(("rate-limit wait", fmt_seconds(span.rate_limit_wait)))
        if span.first_chunk is not None:
            facts.append(("first chunk", fmt_seconds(span.first_chunk)))
    if span.kind == "agent_turn" and span.agent_type:
        facts.append(("agent", span.agent_type + (f" ({span.model_context})" if span.model_context else "")))
    if span.kind == "tool_call" and span.call_id:
        facts.append(("call id", span.call_id))
    if span.layers:
        facts.append(("served by", " > ".join(span.layers)))
    return facts


def _texts(span: TimelineSpan) -> list[tuple[str, str]]:
    pairs = [("response", span.response), ("arguments", span.arguments), ("result", span.result)]
    return [(key, value) for key, value in pairs if value]


def _bar(span: TimelineSpan, index: int, scale: float, colour: str) -> str:
    left, width = span.start * scale, max(span.duration * scale, 0.0)
    classes = ["bar", {"agent_turn": "turn", "model_call": "model", "tool_call": "tool"}[span.kind]]
    if span.cached:
        classes.append("cached")
    if span.status != "ok":
        classes.append(span.status)
    style = f"left:{left:.4f}%;width:{width:.4f}%"
    if span.kind == "agent_turn":
        style += f";border-color:{colour};background:{colour}26"
    inner = ""
    if span.rate_limit_wait and span.duration > 0:
        inner += f'<span class="wait" style="width:{min(span.rate_limit_wait / span.duration, 1) * 100:.2f}%"></span>'
    if span.first_chunk is not None and span.duration > 0:
        inner += (
            f'<span class="first" style="left:{min(span.first_chunk / span.duration, 1) * 100:.2f}%"></span>'
        )
    bar = f'<div class="{" ".join(classes)}" data-kind="{span.kind}" data-i="{index}" style="{style}">{inner}</div>'
    # Near the right edge the duration goes before the bar, where there is room.
    place = (
        f"left:calc({left + width:.4f}% + 5px)"
        if left + width < 88
        else f"right:calc({100 - left:.4f}% + 5px)"
    )
    bar += f'<span class="dur" style="{place}">{esc(fmt_seconds(span.duration))}</span>'
    for m, message in enumerate(span.messages):
        bar += f'<span class="msg" data-i="{index}" data-m="{m}" style="left:{message.time * scale:.4f}%"></span>'
    return bar


def _label(span: TimelineSpan, depth: int, colour: str) -> str:
    pad = f"padding-left:{8 + depth * 16}px"
    if span.kind == "agent_turn":
        body = (
            f'<span class="dot" style="background:{colour}"></span><span class="n">{esc(span.label)}</span>'
        )
    else:
        kind = "model" if span.kind == "model_call" else "tool"
        body = f'<span class="k">{kind}</span><span class="n">{esc(span.label)}</span>'
    if span.cached:
        body += '<span class="badge hit">cache hit</span>'
    if (span.attempts or 1) > 1:
        body += f'<span class="badge retry">{span.attempts} attempts</span>'
    if span.status == "error":
        body += '<span class="badge err">error</span>'
    return f'<div class="lbl" style="{pad}" title="{esc(_title(span))}">{body}</div>'


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _summary(timeline: Timeline) -> str:
    spans = timeline.spans
    turns = [s for s in spans if s.kind == "agent_turn"]
    models = [s for s in spans if s.kind == "model_call"]
    tools = [s for s in spans if s.kind == "tool_call"]
    tokens_in = sum(s.prompt_tokens or 0 for s in models)
    tokens_out = sum(s.completion_tokens or 0 for s in models)
    hits = sum(1 for s in models if s.cached)
    retries = sum((s.attempts or 1) - 1 for s in models)
    errors = sum(1 for s in spans if s.status == "error")
    chips = [
        f"<b>{fmt_seconds(timeline.duration)}</b> total",
        f"<b>{len(turns)}</b> turn{_s(len(turns))}",
        f"<b>{len(models)}</b> model call{_s(len(models))}" + (f" ({hits} cached)" if hits else ""),
        f"<b>{len(tools)}</b> tool call{_s(len(tools))}",
        f"<b>{fmt_count(tokens_in)}</b> tokens in · <b>{fmt_count(tokens_out)}</b> out",
    ]
    html = "".join(f'<span class="chip">{chip}</span>' for chip in chips)
    if retries:
        html += f'<span class="chip warn"><b>{retries}</b> retr{"y" if retries == 1 else "ies"}</span>'
    if errors:
        html += f'<span class="chip bad"><b>{errors}</b> error{_s(errors)}</span>'
    meta = [f"run {esc(timeline.run_id)}" if timeline.run_id else ""]
    if timeline.started_at is not None:
        meta.append(f"started {esc(timeline.started_at.isoformat(timespec='seconds'))}")
    sub = " · ".join(part for part in meta if part)
    return f'<section class="card"><h1>{esc(timeline.title)}</h1><div class="sub">{sub}</div><div class="chips">{html}</div>{_stages(timeline)}</section>'


def _stages(timeline: Timeline) -> str:
    stages = {k: v for k, v in timeline.stages.items() if k in _STAGE_COLOURS}
    total = sum(stages.values())
    if total <= 0:
        return ""
    segments = "".join(
        f'<div title="{esc(_STAGE_COLOURS[k][1])}" style="width:{v / total * 100:.3f}%;background:{_STAGE_COLOURS[k][0]}"></div>'
        for k, v in stages.items()
    )
    legend = "".join(
        f'<span><i style="background:{_STAGE_COLOURS[k][0]}"></i>{esc(_STAGE_COLOURS[k][1])} '
        f"<b>{esc(fmt_seconds(v))}</b> ({v / total:.0%})</span>"
        for k, v in stages.items()
    )
    return f'<div class="stagebar">{segments}</div><div class="legend">{legend}</div>'


def render_timeline(timeline: Timeline) -> str:
    """The timeline as a complete HTML page (no external assets; works offline)."""
    duration = max(timeline.duration, max((s.end for s in timeline.spans), default=0.0), 1e-9)
    scale = 100.0 / duration
    agents: dict[str, str] = {}
    for span in timeline.spans:
        if span.agent and span.agent not in agents:
            agents[span.agent] = _AGENT_COLOURS[len(agents) % len(_AGENT_COLOURS)]
    ordered = _tree_order(timeline.spans)
    ticks = nice_ticks(duration)
    axis = "".join(
        f'<span class="tick" style="left:{t * scale:.4f}%">{esc(fmt_seconds(t) if t else "0")}</span>'
        for t in ticks
        if t <= duration
    )
    grid = "".join(
        f'<span class="grid" style="left:{t * scale:.4f}%"></span>' for t in ticks if t <= duration
    )
    rows: list[str] = []
    details: list[dict[str, object]] = []
    for index, (span, depth) in enumerate(ordered):
        colour = agents.get(span.agent or "", "#64748b")
        kind_class = "turn" if span.kind == "agent_turn" else "call"
        rows.append(
            f'<div class="row {kind_class}">{_label(span, depth, colour)}'
            f'<div class="trk">{grid}{_bar(span, index, scale, colour)}</div></div>'
        )
        details.append(
            {
                "title": _title(span),
                "facts": _facts(span),
                "texts": _texts(span),
                "messages": [
                    {**m.model_dump(include={"source", "type", "content"}), "at": fmt_seconds(m.time)}
                    for m in span.messages
                ],
            }
        )
    legend = (
        '<div class="legend"><span><i style="background:#3b82f6"></i>model call</span>'
        '<span><i style="background:#10b981"></i>cache hit</span>'
        '<span><i style="background:#f59e0b"></i>tool call</span>'
        '<span><i style="background:#ef4444"></i>failed</span>'
        '<span><i style="background:#fff;border:2px solid #334155;border-radius:50%"></i>message (hover)</span>'
        '<span><i style="background:#1e3a8a;width:3px"></i>first streamed chunk</span></div>'
    )
    waterfall = (
        f'<section class="card"><h2>Waterfall</h2><div class="wf">'
        f'<div class="row axis"><div class="lbl"></div><div class="trk">{axis}</div></div>'
        f"{''.join(rows) or '<div class=empty>Nothing was recorded.</div>'}</div>{legend}</section>"
    )
    body = _summary(timeline) + waterfall + "<footer>muster run timeline · hover a bar for details</footer>"
    return page(timeline.title, body, css=_CSS, script=_SCRIPT, data={"spans": details})
